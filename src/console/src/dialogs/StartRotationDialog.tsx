/**
 * Start a rotation (the CLI's `rotations start`): key pair A replaced by B on every instance bound to A, in waves —
 * a canary first, then waves of a chosen size with a pause between them; a wave with more failed machines than
 * allowed stops it. Live (the default, as in the CLI) logs in with A's private key or the root password, kept sealed
 * by keyfleet for the rotation's life; the private key is checked in the browser against A first.
 */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import { type Rotation, rotationsApi } from '../api/rotations';
import { useScope } from '../app/scope';
import { useResource } from '../lib/hooks';
import { privateKeyMismatch } from '../lib/privateKey';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';
import { emptyLive, liveCredential, LiveFields, liveProblem, type LiveValue } from './LiveFields';

const int = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : Number.NaN);

export function StartRotationDialog({ onClose, onStarted }: { onClose: () => void; onStarted: (r: Rotation) => void }) {
  const { regionId, regionName } = useScope();
  const id = useId();
  const formId = `${id}-form`;
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [waveSize, setWaveSize] = useState('10');
  const [canary, setCanary] = useState('1');
  const [pause, setPause] = useState('0');
  const [maxFailures, setMaxFailures] = useState('0');
  const [mode, setMode] = useState<'live' | 'on-restart'>('live');
  const [live, setLive] = useState<LiveValue>(() => emptyLive(null));
  const [showErrors, setShowErrors] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const keyPairs = useResource(() => api.keyPairs(regionId, { limit: 1000 }), [regionId]);
  const kps = keyPairs.data?.items ?? [];

  const numbersProblem = (): string | null => {
    if (!from || !to) return 'Choose the key pair to replace and the one that replaces it.';
    if (from === to) return 'Choose two different key pairs.';
    if (!(int(waveSize) >= 1)) return 'The wave size is a whole number of machines, 1 or more.';
    if (!/^\d+%?$/.test(canary.trim()) || int(canary.replace('%', '')) < 1)
      return 'The canary is a count (1) or a percentage (10%).';
    if (Number.isNaN(int(pause))) return 'The pause is a whole number of seconds.';
    if (Number.isNaN(int(maxFailures))) return 'Allowed failures is a whole number.';
    return null;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShowErrors(true);
    setError(null);
    const p = numbersProblem();
    setProblem(p);
    if (p) return;
    if (mode === 'live' && liveProblem(live, true)) return;
    setBusy(true);
    try {
      const fromKp = kps.find((k) => k.name === from);
      if (mode === 'live' && live.kind === 'privateKey' && fromKp) {
        const mismatch = await privateKeyMismatch(live.privateKey, fromKp);
        if (mismatch) return setProblem(mismatch);
      }
      const liveParts = mode === 'live' ? liveCredential(live, true) : null;
      const c = canary.trim();
      const r = await rotationsApi.start(regionId, {
        fromKeyPairName: from,
        toKeyPairName: to,
        mode,
        ...(liveParts ? { credential: liveParts.credential, port: liveParts.port } : {}),
        waveSize: int(waveSize),
        ...(c.endsWith('%') ? { canaryPercent: int(c.slice(0, -1)) } : { canary: int(c) }),
        pauseSeconds: int(pause),
        maxFailures: int(maxFailures),
      });
      setLive(emptyLive(null));
      onStarted(r.rotation);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const select = (label: string, value: string, set: (v: string) => void, suffix: string) => (
    <div className="field">
      <label htmlFor={`${id}-${suffix}`}>{label}</label>
      <select id={`${id}-${suffix}`} value={value} onChange={(e) => set(e.target.value)}>
        <option value="">Choose a key pair…</option>
        {kps.map((k) => (
          <option key={k.id} value={k.name}>
            {k.name}
          </option>
        ))}
      </select>
    </div>
  );
  const num = (label: string, value: string, set: (v: string) => void, suffix: string, hint: string) => (
    <div className="field field-narrow">
      <label htmlFor={`${id}-${suffix}`}>{label}</label>
      <input id={`${id}-${suffix}`} inputMode="numeric" value={value} onChange={(e) => set(e.target.value)} />
      <p className="hint">{hint}</p>
    </div>
  );

  return (
    <Dialog
      title="Start rotation"
      onClose={onClose}
      busy={busy}
      size="large"
      step="form"
      testId="start-rotation-dialog"
      footer={
        <FormFooter
          formId={formId}
          busy={busy}
          blocked={mode === 'live' && !live.confirmed}
          onCancel={onClose}
          submitLabel="Start rotation"
          busyLabel="Starting…"
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          Replace one key pair by another on every instance of {regionName(regionId)} bound to the first, in waves.
        </p>
        <div className="form-grid">
          {select('Replace key pair', from, setFrom, 'from')}
          {select('With key pair', to, setTo, 'to')}
          {num('Canary', canary, setCanary, 'canary', 'The first wave: a count or a percentage (10%).')}
          {num('Wave size', waveSize, setWaveSize, 'wave', 'Machines per wave after the canary.')}
          {num('Pause (seconds)', pause, setPause, 'pause', 'Between waves.')}
          {num('Allowed failures', maxFailures, setMaxFailures, 'fail', 'A wave with more failed machines stops it.')}
        </div>
        <fieldset className="choice choice-inline">
          <legend>How each machine changes</legend>
          <label className="radio">
            <input type="radio" name={`${id}-mode`} checked={mode === 'live'} onChange={() => setMode('live')} />
            <span>Live over SSH, now (default)</span>
          </label>
          <label className="radio">
            <input
              type="radio"
              name={`${id}-mode`}
              checked={mode === 'on-restart'}
              onChange={() => setMode('on-restart')}
            />
            <span>At each machine's next restart</span>
          </label>
        </fieldset>
        {mode === 'live' ? (
          <LiveFields
            value={live}
            onChange={setLive}
            allowPassword
            action="bind"
            recordedPort={null}
            showErrors={showErrors}
          />
        ) : null}
        {problem ? (
          <p className="alert alert-error" role="alert" data-testid="rotation-problem">
            {problem}
          </p>
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
