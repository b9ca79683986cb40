/**
 * The credential a drift repair of simulated instances needs (issue 16). A registered host is repaired with the
 * management key keyfleet keeps sealed for it; a simulated instance has none, so keyfleet logs in to it over SSH
 * with what is given here: the private key of the key pair bound there, or the root password where none is bound.
 * As in LiveFields, the credential lives in this component's state only, is sent once with the repair and dropped.
 */
import { type FormEvent, useId } from 'react';
import type { LiveCredential } from '../../api/types';
import { privateKeyProblem } from '../LiveFields';
import { PrivateKeyInput } from '../PrivateKeyInput';

export interface RepairCredentialValue {
  kind: 'privateKey' | 'password';
  privateKey: string;
  fileName: string | null;
  password: string;
}

export const emptyRepairCredential = (kind: RepairCredentialValue['kind']): RepairCredentialValue => ({
  kind,
  privateKey: '',
  fileName: null,
  password: '',
});

export function repairCredentialProblem(v: RepairCredentialValue): string | null {
  if (v.kind === 'password') return v.password ? null : 'Enter the root password.';
  return privateKeyProblem(v.privateKey);
}

export function repairCredential(v: RepairCredentialValue): LiveCredential {
  return v.kind === 'password'
    ? { kind: 'password', password: v.password }
    : { kind: 'privateKey', privateKey: v.privateKey.trim() + '\n' };
}

export function RepairCredential({
  instances,
  value,
  onChange,
  showErrors,
  busy,
  onSubmit,
  onCancel,
}: {
  /** The drifted simulated instances to repair: their names and the key pair each has (null: none). */
  instances: Array<{ name: string; keyPairName: string | null }>;
  value: RepairCredentialValue;
  onChange: (v: RepairCredentialValue) => void;
  showErrors: boolean;
  busy: boolean;
  onSubmit: () => void;
  onCancel: () => void;
}) {
  const id = useId();
  const set = (patch: Partial<RepairCredentialValue>) => onChange({ ...value, ...patch });
  const problem = showErrors ? repairCredentialProblem(value) : null;
  const keyPairs = [...new Set(instances.flatMap((i) => (i.keyPairName ? [i.keyPairName] : [])))];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };

  return (
    <form className="live-fields drift-credential" aria-label="Credential for the repair" onSubmit={submit} noValidate>
      <p>
        Repairing {instances.map((i) => i.name).join(', ')} logs in to{' '}
        {instances.length === 1 ? 'this simulated instance' : 'these simulated instances'} over SSH: they have no
        management key. keyfleet rewrites its block of <code>/root/.ssh/authorized_keys</code> whole (a key found inside
        it that keyfleet did not put there is removed; other lines are left alone) and proves the result with a fresh
        login.
        {keyPairs.length > 0 ? ` Key pair bound there: ${keyPairs.join(', ')}.` : ''}
      </p>
      <div className="radio-row" role="radiogroup" aria-label="Log in with">
        <label className="radio">
          <input
            type="radio"
            name={`${id}-kind`}
            checked={value.kind === 'privateKey'}
            onChange={() => set({ kind: 'privateKey' })}
          />
          The private key of the key pair bound there
        </label>
        <label className="radio">
          <input
            type="radio"
            name={`${id}-kind`}
            checked={value.kind === 'password'}
            onChange={() => set({ kind: 'password' })}
          />
          The root password (an instance without a key pair)
        </label>
      </div>
      {value.kind === 'password' ? (
        <div className="field">
          <label htmlFor={`${id}-pw`}>Root password</label>
          <input
            id={`${id}-pw`}
            type="password"
            autoComplete="off"
            value={value.password}
            onChange={(e) => set({ password: e.target.value })}
          />
        </div>
      ) : (
        <div className="field">
          <PrivateKeyInput id={id} label="Private key" value={value} onChange={set} />
        </div>
      )}
      {problem ? <p className="field-error">{problem}</p> : null}
      <p className="hint">
        Sent once with the repair; keyfleet keeps it sealed (encrypted) only until the repair's tasks have ended, this
        browser never stores it, and it is never offered to a registered host.
      </p>
      <div className="button-row button-row-start">
        <button type="submit" className="button button-primary" disabled={busy}>
          Repair with this credential
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel repair
        </button>
      </div>
    </form>
  );
}
