/** Account dialogs for the system administrator: create an account (a tenant with its administrator), then show
 * the administrator's access key secret and generated console password once. */
import { useId, useState } from 'react';
import { api } from '../api/client';
import type { CreatedAccount } from '../api/types';
import { consolePasswordProblem, userNameProblem } from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { CopyText } from '../ui/CopyText';
import { TextField } from '../ui/Field';
import { FormDialog, useFormAction } from '../ui/FormDialog';
import { Notice } from '../ui/Notice';
import { Fact } from '../ui/Summary';

export function CreateAccountDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (created: CreatedAccount) => void;
}) {
  const id = useId();
  const [name, setName] = useState('');
  const [adminName, setAdminName] = useState('');
  const [password, setPassword] = useState('');
  const form = useFormAction(onClose);
  const problem = userNameProblem(name.trim(), 'Enter an account name.');
  const adminProblem = adminName.trim() ? userNameProblem(adminName.trim(), '') : null;
  const pwProblem = consolePasswordProblem(password);

  const submit = form.submit(problem || adminProblem || pwProblem, async () => {
    const created = await api.createAccount({
      name: name.trim(),
      ...(adminName.trim() ? { adminName: adminName.trim() } : {}),
      ...(password ? { adminPassword: password } : {}),
    });
    setPassword('');
    onCreated(created);
  });

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Create Account"
      onClose={onClose}
      testId="create-account"
      description="A new tenant with its own users, policies, key pairs and audit trail, and an administrator with an access key."
      submitLabel="Create account"
    >
      <TextField
        id={`${id}-name`}
        label="Account name"
        value={name}
        onChange={setName}
        problem={problem}
        show={form.show}
        hint={'Unique in keyfleet; users type it when they sign in to the console.'}
      />
      <TextField
        id={`${id}-admin`}
        label={
          <>
            Administrator name <span className="muted">(optional)</span>
          </>
        }
        value={adminName}
        onChange={setAdminName}
        problem={adminProblem}
        show={form.show}
        hint={'The account administrator keyfleet creates; admin when left empty.'}
        placeholder="admin"
      />
      <TextField
        id={`${id}-pw`}
        label={
          <>
            Administrator console password <span className="muted">(optional)</span>
          </>
        }
        value={password}
        onChange={setPassword}
        problem={pwProblem}
        show={form.show}
        hint={'When left empty keyfleet generates one and shows it once, with the access key secret.'}
        type="password"
        autoComplete="new-password"
      />
    </FormDialog>
  );
}

/** A secret value with its copy button; on a refused clipboard the text is selected so Ctrl+C works. */
function SecretRow({
  label,
  value,
  testId,
  copyLabel,
}: {
  label: string;
  value: string;
  testId: string;
  copyLabel: string;
}) {
  const id = useId();
  return (
    <Fact term={label}>
      <span className="mono break" id={`${id}-v`} data-testid={testId}>
        {value}
      </span>
      <span className="button-row button-row-start secret-copy">
        <CopyText
          value={value}
          targetId={`${id}-v`}
          className={`button copy-${testId}`}
          label={copyLabel}
          refusedText="The browser refused the clipboard; the text is selected, press Ctrl+C."
          copiedText="Copied to the clipboard."
        />
      </span>
    </Fact>
  );
}

/** The secrets exist only in the create response: they live in this dialog's props and are gone when it closes. */
export function AccountCreatedDialog({ created, onClose }: { created: CreatedAccount; onClose: () => void }) {
  return (
    <Dialog
      title={`Account ${created.account.name} created`}
      onClose={onClose}
      testId="account-created"
      initialFocus=".copy-account-secret-value"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          I have stored the secrets
        </button>
      }
    >
      <Notice
        tone="warning"
        title={
          <>
            This is the only time {created.adminPassword ? 'the secret and the password are' : 'the secret is'} shown.
          </>
        }
      >
        <p>
          keyfleet cannot show {created.adminPassword ? 'them' : 'it'} again. Hand{' '}
          {created.adminPassword ? 'them' : 'it'} to the account's administrator over a safe channel now, and do not
          keep a copy yourself.
        </p>
      </Notice>
      <dl className="summary">
        <Fact term="Account">
          {created.account.name} <span className="muted mono small">{created.account.id}</span>
        </Fact>
        <Fact term="Administrator" testId="account-admin-name">
          {created.admin.name}
        </Fact>
        <Fact term="AccessKey ID" className="mono break" testId="account-access-key-id">
          {created.accessKeyId}
        </Fact>
        <SecretRow
          label="AccessKey secret"
          value={created.accessKeySecret}
          testId="account-secret-value"
          copyLabel="Copy secret"
        />
        {created.adminPassword ? (
          <SecretRow
            label="Console password"
            value={created.adminPassword}
            testId="account-password-value"
            copyLabel="Copy password"
          />
        ) : (
          <Fact term="Console password" className="muted">
            The one you chose (not shown)
          </Fact>
        )}
      </dl>
    </Dialog>
  );
}
