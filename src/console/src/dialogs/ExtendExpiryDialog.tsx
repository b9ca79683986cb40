/**
 * Extend (or shorten) when an instance's binding ends (POST /instances/:id/expiry). The binding keeps its mode: one
 * made live is rewritten live now, which logs in to a running simulated instance with the bound key pair's private
 * key or the root password (checked in the browser against the key pair first); a registered host uses its
 * management key; one made for the next restart is recorded and written at the next start.
 */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import type { Instance, TaskItem } from '../api/types';
import { useScope } from '../app/scope';
import { formatTime } from '../lib/format';
import { privateKeyMismatch } from '../lib/privateKey';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';
import { Fact } from '../ui/Summary';
import { privateKeyProblem } from './LiveFields';
import { PrivateKeyInput, type PrivateKeyValue } from './PrivateKeyInput';

const CHOICES: ReadonlyArray<readonly [string, string]> = [
  ['1h', '1 hour from now'],
  ['8h', '8 hours from now'],
  ['24h', '24 hours from now'],
  ['7d', '7 days from now'],
  ['30d', '30 days from now'],
  ['90d', '90 days from now'],
];

export function ExtendExpiryDialog({
  instance,
  onClose,
  onChanged,
}: {
  instance: Instance;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { regionId } = useScope();
  const id = useId();
  const formId = `${id}-form`;
  const [expiresIn, setExpiresIn] = useState('7d');
  const [kind, setKind] = useState<'privateKey' | 'password'>('privateKey');
  const [key, setKey] = useState<PrivateKeyValue>({ privateKey: '', fileName: null });
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [item, setItem] = useState<TaskItem | null>(null);
  /** The expiry the task wrote (ISO), from its options. */
  const [newExpiry, setNewExpiry] = useState<string | null>(null);
  // The server's rule (expiry-use-cases.ts): a live binding of a running simulated instance is rewritten live.
  const needsCredential =
    instance.bindingMode === 'live' && instance.backend !== 'host' && instance.status === 'Running';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setError(null);
    if (needsCredential) {
      const p =
        kind === 'password' ? (password ? null : 'Enter the root password.') : privateKeyProblem(key.privateKey);
      if (p) return setProblem(p);
    }
    setBusy(true);
    try {
      if (needsCredential && kind === 'privateKey' && instance.keyPairName) {
        const bound = (await api.keyPair(regionId, instance.keyPairName)).keyPair;
        const mismatch = await privateKeyMismatch(key.privateKey, bound);
        if (mismatch) return setProblem(mismatch);
      }
      const res = await api.extendExpiry(instance.id, {
        expiresIn,
        wait: true,
        ...(needsCredential
          ? {
              credential:
                kind === 'password'
                  ? { kind: 'password', password }
                  : { kind: 'privateKey', privateKey: key.privateKey.trim() + '\n' },
            }
          : {}),
      });
      setKey({ privateKey: '', fileName: null });
      setPassword('');
      setNewExpiry(res.task.options.expiresAt);
      setItem(res.items?.[0] ?? null);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (item) {
    const ok = item.status === 'succeeded';
    return (
      <Dialog
        title="Binding expiry"
        onClose={onClose}
        size="medium"
        step="result"
        testId="extend-expiry-dialog"
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <p className={`alert ${ok ? 'alert-info' : 'alert-error'}`} role="status" data-testid="extend-result">
          {ok
            ? `The binding of ${instance.keyPairName} on ${instance.name} now ends ${formatTime(newExpiry)}${
                instance.bindingMode === 'live' ? ' (rewritten live and proved).' : ' (written at the next start).'
              }`
            : `The expiry was not changed: ${item.errorMessage ?? item.errorCode ?? 'failed'}`}
        </p>
        {item.note ? <p className="muted">{item.note}</p> : null}
      </Dialog>
    );
  }

  return (
    <Dialog
      title="Extend binding expiry"
      onClose={onClose}
      busy={busy}
      size="medium"
      step="form"
      testId="extend-expiry-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} submitLabel="Set expiry" busyLabel="Setting…" />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <dl className="summary">
          <Fact term="Instance">
            {instance.name} <span className="mono muted">{instance.id}</span>
          </Fact>
          <Fact term="Key pair">{instance.keyPairName}</Fact>
          <Fact term="Ends now">{instance.keyExpiresAt ? formatTime(instance.keyExpiresAt) : 'Never'}</Fact>
          <Fact term="Bound">{instance.bindingMode === 'live' ? 'Live' : 'For the next restart'}</Fact>
        </dl>
        <div className="field">
          <label htmlFor={`${id}-when`}>New expiry</label>
          <select id={`${id}-when`} value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)}>
            {CHOICES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
          <p className="hint">
            {instance.bindingMode === 'live'
              ? 'The key line is rewritten now over SSH with the new expiry-time and proved with a fresh login.'
              : 'Recorded now; the machine keeps its current expiry until its next start writes the new one.'}{' '}
            To end access now, unbind instead.
          </p>
        </div>
        {needsCredential ? (
          <fieldset className="live-fields">
            <legend>Credential to rewrite the line live</legend>
            <div className="radio-row" role="radiogroup" aria-label="Log in with">
              <label className="radio">
                <input type="radio" checked={kind === 'privateKey'} onChange={() => setKind('privateKey')} />
                The private key of {instance.keyPairName}
              </label>
              <label className="radio">
                <input type="radio" checked={kind === 'password'} onChange={() => setKind('password')} />
                The root password
              </label>
            </div>
            {kind === 'privateKey' ? (
              <div className="field">
                <PrivateKeyInput id={id} label="Private key" value={key} onChange={setKey} />
              </div>
            ) : (
              <div className="field">
                <label htmlFor={`${id}-pw`}>Root password</label>
                <input
                  id={`${id}-pw`}
                  type="password"
                  autoComplete="off"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              </div>
            )}
          </fieldset>
        ) : null}
        {problem ? (
          <p className="alert alert-error" role="alert" data-testid="key-mismatch">
            {problem}
          </p>
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
