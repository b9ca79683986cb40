/**
 * Finding out what a machine does now, without logging in: after a live change was interrupted (crash, lost
 * lease, dead session, timeout) or its credential was refused (which is what a change that already took effect
 * does to a root password), keyfleet asks the server, as the proofs do, whether it would accept the wanted key and
 * the one being replaced or removed (an SSH publickey query: PK_OK or not), and which authentication methods it
 * offers (is password login on). The verdict says whether the change took effect, did not, or took effect in part
 * (which part), or that the machine could not be asked.
 */
import { isCoreError } from '../errors.js';
import type { HostKeyPolicy, LiveAccess } from '../ports.js';
import type { LiveHostProfile, LiveKeyState } from './live-change.js';

export type ObservedVerdict = 'applied' | 'not-applied' | 'partly' | 'unknown';

export interface Observation {
  verdict: ObservedVerdict;
  /** The wanted key is accepted (null: no key wanted, or not asked). */
  keyAccepted: boolean | null;
  /** The key that must stop working is accepted (null: there is none, or not asked). */
  oldKeyAccepted: boolean | null;
  /** Password login is on, as a client would find it (null: not asked, or sshd is not managed). */
  passwordOn: boolean | null;
  /** What was found, in words, for the item's note or error. */
  description: string;
}

export interface ObserveInput {
  access: LiveAccess;
  profile: LiveHostProfile;
  desired: LiveKeyState;
  /** The key being replaced or removed (null: none). */
  oldPublicKey: string | null;
  /** Password login before the change (what the intent found, else the record); null: unknown. */
  passwordBefore: boolean | null;
  /** The host key pinned for this machine. */
  hostKey: HostKeyPolicy;
}

/**
 * Password login as a client finds it: the password method, or keyboard-interactive (PAM asks for the same
 * password) where keyfleet wants password login off, as the proof counts it.
 */
export function passwordOffered(methods: readonly string[], wantedOff: boolean): boolean {
  return methods.includes('password') || (wantedOff && methods.includes('keyboard-interactive'));
}

export async function observeMachine(input: ObserveInput): Promise<Observation> {
  const { access, profile, desired, oldPublicKey } = input;
  const target = { ...profile.target, username: profile.loginUser ?? profile.target.username };
  const opts = { timeoutMs: profile.timeoutMs };
  const wantedOff = desired.passwordLogin === false;
  let keyAccepted: boolean | null = null;
  let oldKeyAccepted: boolean | null = null;
  let methods: string[] | null = null;
  try {
    if (desired.key) {
      const probe = await access.probeLogin(target, input.hostKey, desired.key.publicKey, opts);
      keyAccepted = probe.keyAccepted === true;
      methods = probe.methods;
    }
    if (oldPublicKey && oldPublicKey !== desired.key?.publicKey) {
      const probe = await access.probeLogin(target, input.hostKey, oldPublicKey, opts);
      oldKeyAccepted = probe.keyAccepted === true;
      methods ??= probe.methods;
    }
    if (!methods) methods = (await access.probeLogin(target, input.hostKey, null, opts)).methods;
  } catch (err) {
    const why = isCoreError(err) ? `${err.code}: ${err.message}` : String(err);
    return {
      verdict: 'unknown',
      keyAccepted,
      oldKeyAccepted,
      passwordOn: null,
      description: `the machine could not be asked what it does now (${why})`,
    };
  }
  const passwordOn = desired.passwordLogin === null ? null : passwordOffered(methods, wantedOff);
  const keyDone = desired.key ? keyAccepted === true : oldKeyAccepted !== true;
  const keyUndone = desired.key ? keyAccepted === false : oldKeyAccepted === true;
  const passwordDone = desired.passwordLogin === null || passwordOn === desired.passwordLogin;
  // Password login is part of the change only if it was different before; otherwise the key decides alone.
  const passwordChanges =
    desired.passwordLogin !== null && input.passwordBefore !== null && input.passwordBefore !== desired.passwordLogin;
  let verdict: ObservedVerdict;
  if (keyDone && passwordDone) verdict = 'applied';
  else if (keyUndone && (!passwordChanges || !passwordDone)) verdict = 'not-applied';
  else verdict = 'partly';
  return {
    verdict,
    keyAccepted,
    oldKeyAccepted,
    passwordOn,
    description: describe(desired, keyAccepted, oldKeyAccepted, passwordOn),
  };
}

function describe(
  desired: LiveKeyState,
  keyAccepted: boolean | null,
  oldKeyAccepted: boolean | null,
  passwordOn: boolean | null,
): string {
  const parts: string[] = [];
  if (desired.key) parts.push(`key '${desired.key.keyPairName}' ${keyAccepted ? 'accepted' : 'refused'}`);
  if (oldKeyAccepted !== null) parts.push(`the previous key ${oldKeyAccepted ? 'still accepted' : 'refused'}`);
  if (passwordOn !== null) parts.push(`password login ${passwordOn ? 'on' : 'off'}`);
  return parts.join(', ');
}
