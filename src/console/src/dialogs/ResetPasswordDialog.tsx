/** Reset the root password of an instance; like ECS it takes effect at the next start or restart. */
import { type FormEvent, useState } from 'react';
import { api } from '../api/client';
import type { Instance } from '../api/types';
import { passwordProblem } from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';
import { useRestartInstance } from './useRestartInstance';
import { Notice } from '../ui/Notice';

export function ResetPasswordDialog({
  instance,
  onClose,
  onChanged,
}: {
  instance: Instance;
  onClose: () => void;
  onChanged: () => void;
}) {
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const problem = passwordProblem(pw);
  const mismatch = pw2 !== pw;
  const formId = `rp-${instance.id}`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (problem || mismatch) return;
    setBusy(true);
    setError(null);
    try {
      await api.resetPassword(instance.id, pw);
      setPw('');
      setPw2('');
      setDone(true);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const restart = useRestartInstance({
    instance,
    afterwards: 'The new password takes effect when it is running again.',
    setBusy,
    setError,
    onChanged,
    onClose,
  });

  if (done) {
    const op = instance.status === 'Stopped' ? 'start' : 'restart';
    return (
      <Dialog
        title="Password reset"
        onClose={onClose}
        busy={busy}
        footer={
          <>
            <button type="button" className="button" onClick={onClose} disabled={busy}>
              Later
            </button>
            {instance.status === 'Running' || instance.status === 'Stopped' ? (
              <button type="button" className="button button-primary" onClick={() => void restart(op)} disabled={busy}>
                {op === 'restart' ? 'Restart now' : 'Start now'}
              </button>
            ) : null}
          </>
        }
      >
        <Notice
          tone="warning"
          title={
            <>
              The new root password of {instance.name} takes effect after a {op}.
            </>
          }
        >
          <p>
            {instance.keyPairName
              ? `Password login stays off while key pair ${instance.keyPairName} is bound.`
              : 'Then you can log in with it over SSH.'}
          </p>
        </Notice>
        <InlineError error={error} />
      </Dialog>
    );
  }

  return (
    <Dialog
      title="Reset Password"
      onClose={onClose}
      busy={busy}
      size="small"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} submitLabel="Reset password" busyLabel="Saving…" />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p>
          New root password for <strong>{instance.name}</strong> <span className="mono muted">{instance.id}</span>.
        </p>
        <div className="field">
          <label htmlFor={`${formId}-1`}>New password</label>
          <input
            id={`${formId}-1`}
            type="password"
            autoComplete="new-password"
            value={pw}
            onChange={(e) => setPw(e.target.value)}
            aria-invalid={show && problem ? true : undefined}
            aria-describedby={`${formId}-rule`}
          />
          <p id={`${formId}-rule`} className={show && problem ? 'field-error' : 'hint'}>
            {show && problem
              ? problem
              : '8 to 30 characters with at least three of: upper case, lower case, digits, special characters.'}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${formId}-2`}>Confirm password</label>
          <input
            id={`${formId}-2`}
            type="password"
            autoComplete="new-password"
            value={pw2}
            onChange={(e) => setPw2(e.target.value)}
            aria-invalid={show && mismatch ? true : undefined}
          />
          {show && mismatch ? <p className="field-error">The passwords do not match.</p> : null}
        </div>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
