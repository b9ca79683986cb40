/**
 * Bind or unbind a key pair on one instance (the instance's Actions menu). By default the change is recorded now
 * and takes effect at the next restart, as on Alibaba Cloud: the dialog then offers "Restart now" or applying it
 * live. Live (Huawei KPS style) logs in over SSH now and proves the change with a fresh login. A registered host
 * (backend 'host') is never restarted by keyfleet: only live is offered, and by default with the host's own
 * management key when keyfleet holds one.
 */
import { type FormEvent, useState } from 'react';
import { api, errorText } from '../api/client';
import type { Instance } from '../api/types';
import { useScope } from '../app/scope';
import { useResource } from '../lib/hooks';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';
import { ProofLine } from '../ui/Proof';
import { Fact } from '../ui/Summary';
import { useRestartInstance } from './useRestartInstance';
import { InstanceKeyResult, type KeyChangeMode, type KeyChangeResult } from './InstanceKeyResult';
import { privateKeyMismatch } from '../lib/privateKey';
import { emptyLive, liveCredential, LiveFields, liveProblem, type LiveValue } from './LiveFields';
import { replaceKeyMismatch, useCurrentKeyEscrow } from '../lib/currentKeyEscrow';
import { CurrentKeyEscrowNote } from './CurrentKeyEscrowNote';

type Mode = KeyChangeMode;

export function InstanceKeyDialog({
  instance,
  action,
  onClose,
  onChanged,
}: {
  instance: Instance;
  action: 'bind' | 'unbind';
  onClose: () => void;
  onChanged: () => void;
}) {
  const { regionId } = useScope();
  const [keyPairName, setKeyPairName] = useState(action === 'unbind' ? (instance.keyPairName ?? '') : '');
  const isHost = instance.backend === 'host';
  const heldKey = isHost && !!instance.host?.hasManagementKey;
  const liveKind: LiveValue['kind'] = heldKey ? 'management' : 'privateKey';
  // The server refuses 'on-restart' for a registered host (Instance.LiveOnly): live is the only mode offered.
  const [mode, setMode] = useState<Mode>(isHost ? 'live' : 'on-restart');
  const [live, setLive] = useState<LiveValue>(() => emptyLive(instance.sshPort, liveKind));
  const [showErrors, setShowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<KeyChangeResult | null>(null);
  /** The browser's check that the private key given is the bound key pair's (a live unbind). */
  const [keyMismatch, setKeyMismatch] = useState<string | null>(null);
  /** After an on-restart change: the user chose to apply the same change live. */
  const [applyLive, setApplyLive] = useState(false);
  /** A bind that expires (issue 19): '' never, else a duration the API takes ('8h'). */
  const [expiresIn, setExpiresIn] = useState('');

  const keyPairs = useResource(
    () => (action === 'bind' ? api.keyPairs(regionId, { limit: 1000 }) : Promise.resolve(null)),
    [regionId, action],
  );
  // The machine as it was when the dialog opened: after an on-restart change made here ("apply live" next), the
  // record names the new key pair but the machine still accepts this one, whose escrowed key then logs in.
  const [onMachine] = useState(() => instance);
  const current = useCurrentKeyEscrow(regionId, [onMachine], (applyLive ? 'live' : mode) === 'live');
  const escrowedKeyPair = heldKey ? undefined : current.escrowedNames[0];
  const running = instance.status === 'Running';
  const allowPassword = action === 'bind';
  const verb = action === 'bind' ? 'Bind' : 'Unbind';
  const formId = `ik-form-${instance.id}`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShowErrors(true);
    if (action === 'bind' && !keyPairName) return;
    const effMode: Mode = applyLive ? 'live' : mode;
    if (effMode === 'live' && liveProblem(live, allowPassword)) return;
    setBusy(true);
    setError(null);
    setKeyMismatch(null);
    try {
      // A live unbind logs in with the bound key pair's private key: a wrong file is named here, before it is sent.
      const boundName = action === 'unbind' ? result?.keyPairName || instance.keyPairName : null;
      if (effMode === 'live' && live.kind === 'privateKey' && boundName) {
        const bound = (await api.keyPair(regionId, boundName)).keyPair;
        const mismatch = await privateKeyMismatch(live.privateKey, bound);
        if (mismatch) {
          setKeyMismatch(mismatch);
          return;
        }
      }
      // A live bind that replaces a key pair logs in with the private key of the one the machine accepts now.
      if (effMode === 'live' && live.kind === 'privateKey' && action === 'bind') {
        const mismatch = await replaceKeyMismatch(live.privateKey, current.loginKeyPairs);
        if (mismatch) {
          setKeyMismatch(mismatch);
          return;
        }
      }
      const liveParts = effMode === 'live' ? liveCredential(live, allowPassword) : null;
      const res = await api.bindings(regionId, {
        action,
        // An unbind names the key pair bound now, so the task and the audit trail say which one went.
        ...(action === 'bind'
          ? { keyPairName, ...(expiresIn ? { expiresIn } : {}) }
          : instance.keyPairName && !applyLive
            ? { keyPairName: instance.keyPairName }
            : {}),
        instanceIds: [instance.id],
        mode: effMode,
        ...(liveParts
          ? { ...(liveParts.credential ? { credential: liveParts.credential } : {}), port: liveParts.port }
          : {}),
        wait: true,
      });
      // The credential has been sent; drop it from memory now.
      setLive((v) => ({ ...emptyLive(Number(v.port) || instance.sshPort, liveKind), port: v.port }));
      setResult({ item: res.items?.[0], mode: effMode, keyPairName: keyPairName || instance.keyPairName || '' });
      setApplyLive(false);
      setShowErrors(false);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const restartNow = useRestartInstance({
    instance,
    afterwards: 'The key pair change takes effect when it is running again.',
    setBusy,
    setError,
    onChanged,
    onClose,
  });

  // ---- result step -------------------------------------------------------------------------------------------
  if (result && !applyLive) {
    return (
      <InstanceKeyResult
        instance={instance}
        action={action}
        result={result}
        busy={busy}
        error={error}
        onClose={onClose}
        onApplyLive={() => setApplyLive(true)}
        restartNow={restartNow}
      />
    );
  }

  // ---- form step ---------------------------------------------------------------------------------------------
  const effMode: Mode = applyLive ? 'live' : mode;
  const kpList = keyPairs.data?.items ?? [];
  return (
    <Dialog
      title={applyLive ? `Apply the ${action} live` : `${verb} Key Pair`}
      onClose={onClose}
      busy={busy}
      size="medium"
      step={applyLive ? 'live' : 'form'}
      testId="instance-key-dialog"
      footer={
        <FormFooter
          formId={formId}
          busy={busy}
          blocked={effMode === 'live' && !live.confirmed}
          onCancel={onClose}
          submitLabel={applyLive ? 'Apply live' : verb}
          busyLabel={effMode === 'live' ? 'Applying over SSH…' : 'Working…'}
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <dl className="summary">
          <Fact term="Instance">
            {instance.name} <span className="mono muted">{instance.id}</span>
          </Fact>
          <Fact term="Status">{instance.status}</Fact>
          <Fact term="SSH" className="mono">
            {instance.loginUser}@{instance.address}:{instance.sshPort}
          </Fact>
          {isHost ? (
            <Fact term="Host key" className="mono break">
              {instance.hostKeySha256 ?? '—'} <span className="muted">(pinned)</span>
            </Fact>
          ) : null}
          {instance.keyPairName ? (
            <Fact term="Key pair now">
              {instance.keyPairName}
              {instance.pendingRestart ? ' (restart needed)' : ''}
            </Fact>
          ) : null}
          {instance.osType === 'linux' ? (
            <Fact term="Proof">
              <ProofLine instance={instance} detail />
            </Fact>
          ) : null}
        </dl>

        {action === 'bind' && !applyLive ? (
          <div className="field">
            <label htmlFor={`${formId}-kp`}>Key pair</label>
            {keyPairs.loading ? (
              <p className="muted">Loading key pairs…</p>
            ) : keyPairs.error ? (
              <p className="field-error">Cannot load key pairs: {errorText(keyPairs.error)}</p>
            ) : kpList.length === 0 ? (
              <p className="muted">
                There are no key pairs in {regionId}. Create or import one on the Key Pairs page first.
              </p>
            ) : (
              <select
                id={`${formId}-kp`}
                value={keyPairName}
                onChange={(e) => setKeyPairName(e.target.value)}
                aria-invalid={showErrors && !keyPairName ? true : undefined}
              >
                <option value="">Choose a key pair…</option>
                {kpList.map((k) => (
                  <option key={k.id} value={k.name}>
                    {k.name} ·{' '}
                    {k.algorithm === 'ssh-rsa'
                      ? `RSA ${k.bits}`
                      : k.algorithm === 'ssh-ed25519'
                        ? 'ED25519'
                        : `ECDSA ${k.bits}`}
                  </option>
                ))}
              </select>
            )}
            {showErrors && !keyPairName && kpList.length > 0 ? <p className="field-error">Choose a key pair.</p> : null}
            {instance.keyPairName && keyPairName && keyPairName !== instance.keyPairName ? (
              <p className="hint">The new key pair replaces {instance.keyPairName}: an instance has one key pair.</p>
            ) : null}
            <p className="hint">After the bind, password login is turned off; the key pair is the way in.</p>
            <label className="field-label" htmlFor={`${formId}-expiry`}>
              Access ends
            </label>
            <select id={`${formId}-expiry`} value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)}>
              {EXPIRY_CHOICES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
            {expiresIn ? (
              <p className="hint">
                The line carries OpenSSH's expiry-time: the machine refuses the key after it even if keyfleet is down;
                keyfleet then unbinds it and password login comes back.
              </p>
            ) : null}
          </div>
        ) : null}

        {action === 'unbind' && !applyLive ? (
          <p>
            Unbind key pair <strong>{instance.keyPairName}</strong> from <strong>{instance.name}</strong>? Afterwards
            the key no longer logs in and password login is back.
            {!instance.hasPassword ? (
              <span className="alert alert-warning block">
                This instance has no root password: reset it to log in after the unbind.
              </span>
            ) : null}
          </p>
        ) : null}

        {!applyLive && isHost ? (
          <fieldset className="choice">
            <legend>When should it take effect?</legend>
            <label className="radio-card disabled">
              <input
                type="radio"
                name={`${formId}-mode`}
                checked={false}
                disabled
                aria-describedby={`${formId}-host-only-live`}
              />
              <span>
                <strong>At the next restart</strong>
                <span className="hint" id={`${formId}-host-only-live`}>
                  Not for a registered host: keyfleet never restarts it, so a change is applied live only.
                </span>
              </span>
            </label>
            <label className="radio-card">
              <input type="radio" name={`${formId}-mode`} checked={mode === 'live'} onChange={() => setMode('live')} />
              <span>
                <strong>Now, live over SSH</strong>
                <span className="hint">
                  keyfleet logs in, {action === 'bind' ? 'adds' : 'removes'} the key in its own block, checks sshd's
                  configuration before reloading it and proves the change with a fresh login.
                </span>
              </span>
            </label>
          </fieldset>
        ) : !applyLive ? (
          <fieldset className="choice">
            <legend>When should it take effect?</legend>
            <label className="radio-card">
              <input
                type="radio"
                name={`${formId}-mode`}
                checked={mode === 'on-restart'}
                onChange={() => setMode('on-restart')}
              />
              <span>
                <strong>At the next {instance.status === 'Stopped' ? 'start' : 'restart'}</strong> (default)
                <span className="hint">Recorded now; the instance applies it when it boots, like cloud-init.</span>
              </span>
            </label>
            <label className={`radio-card${running ? '' : ' disabled'}`}>
              <input
                type="radio"
                name={`${formId}-mode`}
                checked={mode === 'live'}
                onChange={() => setMode('live')}
                disabled={!running}
              />
              <span>
                <strong>Now, live over SSH</strong>
                <span className="hint">
                  {running
                    ? `No restart: keyfleet logs in, ${action === 'bind' ? 'adds' : 'removes'} the key and proves it with a fresh login.`
                    : `Only for a running instance; ${instance.name} is ${instance.status}.`}
                </span>
              </span>
            </label>
          </fieldset>
        ) : (
          <p>
            Apply the {action} of <strong>{result?.keyPairName}</strong> on <strong>{instance.name}</strong> now over
            SSH, without a restart.
          </p>
        )}

        {effMode === 'live' ? (
          <LiveFields
            value={live}
            onChange={setLive}
            allowPassword={allowPassword}
            action={action}
            recordedPort={instance.sshPort}
            showErrors={showErrors}
            managementKey={heldKey}
            escrowedKeyPair={escrowedKeyPair}
            authorizedKeys={isHost ? `${instance.host?.homeDir ?? '~'}/.ssh/authorized_keys` : undefined}
            passwordLeftToHost={isHost && instance.host?.passwordLogin === 'unmanaged'}
          />
        ) : null}
        {effMode === 'live' && !heldKey ? (
          <CurrentKeyEscrowNote state={current} usingEscrow={live.kind === 'management'} action={action} />
        ) : null}
        {keyMismatch ? (
          <p className="alert alert-error" role="alert" data-testid="key-mismatch">
            {keyMismatch}
          </p>
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

/** How long a bind made here lasts (the CLI and the API take any time up to a year). */
const EXPIRY_CHOICES: ReadonlyArray<readonly [string, string]> = [
  ['', 'Never (until unbound)'],
  ['1h', 'After 1 hour'],
  ['8h', 'After 8 hours'],
  ['24h', 'After 24 hours'],
  ['7d', 'After 7 days'],
  ['30d', 'After 30 days'],
];
