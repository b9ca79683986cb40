/**
 * Webhook dialogs: add an endpoint (URL, the events it wants, a description), and show its signing secret once
 * (after create and after a rotation): keyfleet keeps it sealed and cannot show it again.
 */
import { useId, useState } from 'react';
import { EVENT_TYPES, type EventType, webhooksApi, type WebhookWithSecret } from '../api/webhooks';
import { CopyText } from '../ui/CopyText';
import { Dialog } from '../ui/Dialog';
import { TextField } from '../ui/Field';
import { FormDialog, useFormAction } from '../ui/FormDialog';
import { Notice } from '../ui/Notice';
import { Fact } from '../ui/Summary';

const EVENT_TEXT: Record<EventType, string> = {
  'task.finished': 'A task finished (with its items succeeded and failed)',
  'verification.failed': "A machine's key state could not be proven after a boot",
  'drift.found': "A drift scan found hosts whose keys differ from keyfleet's record",
};

function urlProblem(url: string): string | null {
  if (!url) return 'Enter the URL keyfleet posts events to.';
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'Use an http:// or https:// URL.';
    if (u.username || u.password) return 'Leave the user name and password out of the URL.';
  } catch {
    return 'This is not a URL.';
  }
  return null;
}

export function CreateWebhookDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (created: WebhookWithSecret) => void;
}) {
  const id = useId();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventType[]>([...EVENT_TYPES]);
  const [description, setDescription] = useState('');
  const form = useFormAction(onClose);
  const problem = urlProblem(url.trim());
  const eventsProblem = events.length === 0 ? 'Choose at least one event.' : null;
  const submit = form.submit(problem || eventsProblem, async () => {
    onCreated(
      await webhooksApi.create({
        url: url.trim(),
        events,
        ...(description.trim() ? { description: description.trim() } : {}),
      }),
    );
  });
  const toggle = (t: EventType, on: boolean) =>
    setEvents((cur) => (on ? [...cur.filter((x) => x !== t), t] : cur.filter((x) => x !== t)));
  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Add Webhook"
      onClose={onClose}
      testId="create-webhook"
      description="keyfleet posts the account's events to this URL, signed with a secret shown once."
      submitLabel="Add webhook"
      busyLabel="Adding…"
    >
      <TextField
        id={`${id}-url`}
        label="Endpoint URL"
        value={url}
        onChange={setUrl}
        problem={problem}
        show={form.show}
        hint="An http:// or https:// URL your receiver listens on."
        placeholder="https://hooks.example.com/keyfleet"
      />
      <fieldset className="field">
        <legend>Events</legend>
        {EVENT_TYPES.map((t) => (
          <label key={t} className="checkbox">
            <input type="checkbox" checked={events.includes(t)} onChange={(e) => toggle(t, e.target.checked)} />
            <span>
              <span className="mono">{t}</span> <span className="muted small">{EVENT_TEXT[t]}</span>
            </span>
          </label>
        ))}
        {form.show && eventsProblem ? <p className="field-error">{eventsProblem}</p> : null}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-desc`}>
          Description <span className="muted">(optional)</span>
        </label>
        <input id={`${id}-desc`} value={description} maxLength={256} onChange={(e) => setDescription(e.target.value)} />
      </div>
    </FormDialog>
  );
}

/** The secret exists only in the create or rotate answer: it lives in this dialog's props, gone when it closes. */
export function WebhookSecretDialog({
  created,
  rotated,
  onClose,
}: {
  created: WebhookWithSecret;
  rotated: boolean;
  onClose: () => void;
}) {
  const id = useId();
  return (
    <Dialog
      title={rotated ? 'New signing secret' : 'Webhook added'}
      onClose={onClose}
      testId="webhook-secret"
      initialFocus=".copy-webhook-secret"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          I have stored the secret
        </button>
      }
    >
      <Notice tone="warning" title={<>This is the only time the signing secret is shown.</>}>
        <p>
          Store it where your receiver can read it: it checks each request's Keyfleet-Signature with it.
          {rotated ? ' Deliveries from now on are signed with this secret only.' : ''}
        </p>
      </Notice>
      <dl className="summary">
        <Fact term="Endpoint">
          <span className="mono break">{created.webhook.url}</span>
        </Fact>
        <Fact term="Signing secret">
          <span className="mono break" id={`${id}-v`} data-testid="webhook-secret-value">
            {created.secret}
          </span>
          <span className="button-row button-row-start secret-copy">
            <CopyText
              value={created.secret}
              targetId={`${id}-v`}
              className="button copy-webhook-secret"
              label="Copy secret"
              refusedText="The browser refused the clipboard; the text is selected, press Ctrl+C."
              copiedText="Copied to the clipboard."
            />
          </span>
        </Fact>
      </dl>
    </Dialog>
  );
}
