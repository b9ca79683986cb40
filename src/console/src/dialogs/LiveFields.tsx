/**
 * What a live change needs, as Huawei's KPS console asks for it: the private key (upload a .pem or paste it) or,
 * for a bind, the root password; the SSH port (22 unless the instance listens elsewhere); and a confirmation.
 * The credential lives in this component's state only: it is sent once with the request and then dropped; it is
 * never written to storage, the URL or a log. A registered host whose management key keyfleet holds (sealed) can
 * be changed with that key instead: no credential is sent at all.
 */
import { useId } from 'react';
import type { LiveCredential } from '../api/types';
import { PrivateKeyInput } from './PrivateKeyInput';
import { portProblem } from '../lib/rules';

export interface LiveValue {
  /** 'management': a registered host's management key, held sealed by keyfleet; nothing is sent. */
  kind: 'privateKey' | 'password' | 'management';
  privateKey: string;
  /** Name of the uploaded file, when the key came from a file (its text is not shown). */
  fileName: string | null;
  password: string;
  port: string;
  confirmed: boolean;
}

export function emptyLive(port: number | null, kind: LiveValue['kind'] = 'privateKey'): LiveValue {
  return { kind, privateKey: '', fileName: null, password: '', port: String(port ?? 22), confirmed: false };
}

export function privateKeyProblem(text: string): string | null {
  const t = text.trim();
  if (!t) return 'Upload or paste the private key.';
  if (/^(ssh-|ecdsa-sha2-)/.test(t))
    return 'This is a public key. The private key (the .pem file saved when the key pair was created) is needed.';
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(t) || !/-----END [A-Z0-9 ]*PRIVATE KEY-----/.test(t))
    return 'This does not look like a private key: it should start with -----BEGIN … PRIVATE KEY-----.';
  if (t.length > 16_384) return 'The private key is larger than 16 KiB.';
  return null;
}

/** The problem that blocks submitting, or null. */
/** `eachOwnPort`: the instances chosen have different ports on record; an empty port means each one's own. */
export function liveProblem(v: LiveValue, allowPassword: boolean, eachOwnPort = false): string | null {
  if (v.kind === 'management') {
    // keyfleet logs in with the host's own management key.
  } else if (v.kind === 'password' && allowPassword) {
    if (!v.password) return 'Enter the root password.';
  } else {
    const p = privateKeyProblem(v.privateKey);
    if (p) return p;
  }
  const pp = eachOwnPort && v.port.trim() === '' ? null : portProblem(v.port);
  if (pp) return pp;
  if (!v.confirmed) return 'Confirm that you have read the notice.';
  return null;
}

/** The credential to send (none for a host's held management key) and the port. */
export function liveCredential(
  v: LiveValue,
  allowPassword: boolean,
): { credential: LiveCredential | undefined; port: number | undefined } {
  const credential: LiveCredential | undefined =
    v.kind === 'management'
      ? undefined
      : v.kind === 'password' && allowPassword
        ? { kind: 'password', password: v.password }
        : { kind: 'privateKey', privateKey: v.privateKey.trim() + '\n' };
  // No port: the server uses each instance's port on record (a selection whose ports differ).
  return { credential, port: v.port.trim() === '' ? undefined : Number(v.port) };
}

export function LiveFields({
  value,
  onChange,
  allowPassword,
  action,
  recordedPort,
  showErrors,
  managementKey = false,
  escrowedKeyPair,
  authorizedKeys = '/root/.ssh/authorized_keys',
  eachOwnPort = false,
  passwordLeftToHost = false,
}: {
  value: LiveValue;
  onChange: (v: LiveValue) => void;
  /** Bind may log in with the root password; unbind needs the private key of the key pair bound now. */
  allowPassword: boolean;
  action: 'bind' | 'unbind';
  /** The SSH port keyfleet has on record for the instance(s), if one. */
  recordedPort: number | null;
  showErrors: boolean;
  /** A registered host whose management key keyfleet holds: offer logging in with it (no credential sent). */
  managementKey?: boolean;
  /** The key pair bound now, when keyfleet keeps its private key (escrow): offer logging in with it (none sent). */
  escrowedKeyPair?: string;
  /** The authorized_keys file keyfleet changes (a registered host's login user may not be root). */
  authorizedKeys?: string;
  /** The instances chosen have different SSH ports on record: an empty port means each one's own. */
  eachOwnPort?: boolean;
  /** Registered hosts whose password login keyfleet leaves alone (policy 'unmanaged'). */
  passwordLeftToHost?: boolean;
}) {
  const id = useId();
  const set = (patch: Partial<LiveValue>) => onChange({ ...value, ...patch });
  // An escrowed key is held by keyfleet as a management key is: the 'management' kind sends no credential.
  const held = managementKey || escrowedKeyPair !== undefined;
  const usesKey =
    value.kind === 'privateKey' ||
    (value.kind === 'password' && !allowPassword) ||
    (value.kind === 'management' && !held);
  const keyErr = showErrors && usesKey ? privateKeyProblem(value.privateKey) : null;
  const portErr = showErrors && !(eachOwnPort && value.port.trim() === '') ? portProblem(value.port) : null;

  return (
    <fieldset className="live-fields">
      <legend>Credential for the live change</legend>
      {allowPassword || held ? (
        <div className="radio-row" role="radiogroup" aria-label="Log in with">
          {held ? (
            <label className="radio">
              <input
                type="radio"
                name={`${id}-kind`}
                checked={value.kind === 'management'}
                onChange={() => set({ kind: 'management' })}
              />
              {managementKey
                ? "Log in with the host's management key (held by keyfleet)"
                : `Log in with the escrowed private key of ${escrowedKeyPair} (kept by keyfleet)`}
            </label>
          ) : null}
          <label className="radio">
            <input
              type="radio"
              name={`${id}-kind`}
              checked={value.kind === 'privateKey'}
              onChange={() => set({ kind: 'privateKey' })}
            />
            {managementKey
              ? 'Log in with another private key the host accepts'
              : 'Log in with the private key of the key pair bound now'}
          </label>
          {allowPassword ? (
            <label className="radio">
              <input
                type="radio"
                name={`${id}-kind`}
                checked={value.kind === 'password'}
                onChange={() => set({ kind: 'password' })}
              />
              Log in with the root password
            </label>
          ) : null}
        </div>
      ) : null}

      {value.kind === 'management' && held ? (
        <p className="hint">
          {managementKey
            ? 'keyfleet opens the management key it keeps sealed for this host, for this change only.'
            : 'keyfleet opens the private key it keeps (escrow) for this change only; the audit trail records its use.'}{' '}
          Nothing is sent from this browser.
        </p>
      ) : value.kind === 'password' && allowPassword ? (
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
          <PrivateKeyInput
            id={id}
            label={`Private key${action === 'unbind' ? ' of the key pair to unbind' : ''}`}
            value={value}
            onChange={set}
            error={keyErr}
          />
          <p className="hint">
            Sent once with this request over this connection; keyfleet keeps it sealed (encrypted) only until this
            change has ended, so a restart cannot strand it, and this browser never stores it.
          </p>
        </div>
      )}

      <div className="field field-narrow">
        <label htmlFor={`${id}-port`}>SSH port</label>
        <input
          id={`${id}-port`}
          inputMode="numeric"
          value={value.port}
          onChange={(e) => set({ port: e.target.value })}
          aria-invalid={portErr ? true : undefined}
          aria-describedby={`${id}-port-hint`}
        />
        <p id={`${id}-port-hint`} className="hint">
          {eachOwnPort
            ? "Empty: each instance's own port on record (they differ). A port entered here is used for all."
            : 'Default 22.'}
          {recordedPort !== null && recordedPort !== 22
            ? ` keyfleet has ${recordedPort} on record for this instance.`
            : ''}{' '}
          Make sure the port is open to keyfleet.
        </p>
        {portErr ? <p className="field-error">{portErr}</p> : null}
      </div>

      <label className="checkbox confirm">
        <input type="checkbox" checked={value.confirmed} onChange={(e) => set({ confirmed: e.target.checked })} />
        <span>
          I have read and agree: keyfleet logs in over SSH with this credential to{' '}
          {action === 'bind' ? 'add the key to' : 'remove the key from'} its own block of
          <code> {authorizedKeys}</code>, verifies the result with a fresh login and rolls back if the proof fails.
          Other lines of the file are left alone.
          {passwordLeftToHost
            ? ' Password login is left as the host has it (keyfleet does not manage it there).'
            : action === 'unbind'
              ? ' After the unbind, password login is back; reset the password if the instance has none.'
              : ' After the bind, password login is turned off.'}
        </span>
      </label>
      {showErrors && !value.confirmed ? <p className="field-error">Confirm that you have read the notice.</p> : null}
    </fieldset>
  );
}
