/** Shows a new access key's secret once, with a copy button. */
import { useId } from 'react';
import type { CreatedAccessKey } from '../api/types';
import { CopyText } from '../ui/CopyText';
import { Dialog } from '../ui/Dialog';
import { Notice } from '../ui/Notice';
import { Fact } from '../ui/Summary';

/** The secret exists only in the create response: it lives in this dialog's props and is gone when it closes. */
export function AccessKeySecretDialog({
  created,
  userName,
  onClose,
}: {
  created: CreatedAccessKey;
  userName: string;
  onClose: () => void;
}) {
  const id = useId();
  return (
    <Dialog
      title="Access key created"
      onClose={onClose}
      testId="access-key-secret"
      initialFocus=".copy-secret"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          I have stored the secret
        </button>
      }
    >
      <Notice tone="warning" title="This is the only time the secret is shown.">
        <p>
          keyfleet keeps it only encrypted and will never show it again. Store it in a password manager or your tool's
          configuration now; if it is lost, create a new access key and delete this one.
        </p>
      </Notice>
      <dl className="summary">
        <Fact term="User">{userName}</Fact>
        <Fact term="AccessKey ID" className="mono break" testId="access-key-id">
          {created.accessKeyId}
        </Fact>
        <div>
          <dt>AccessKey secret</dt>
          <dd className="mono break" id={`${id}-secret`} data-testid="access-key-secret-value">
            {created.accessKeySecret}
          </dd>
        </div>
      </dl>
      <div className="button-row button-row-start">
        <CopyText
          value={created.accessKeySecret}
          targetId={`${id}-secret`}
          className="button copy-secret"
          label="Copy secret"
          refusedText="The browser refused the clipboard; the secret is selected, press Ctrl+C."
          copiedText="The secret is on the clipboard."
        />
      </div>
    </Dialog>
  );
}
