/**
 * What every face that shows bindings says about the proof of an instance's key state: verified at a time (with
 * what the proof showed), or not verified and why. A key change recorded for the next start or restart makes the
 * last proof stale at once, so that case is derived from the instance's key state rather than stored.
 */
import { AWAITING_BOOT, AWAITING_FIRST_BOOT } from './boot-proof.js';
import type { Instance } from './instance.js';
import { desiredPasswordLogin } from './instance-state.js';

export interface VerificationView {
  /** When a fresh login last proved what the machine does; null while unproven. */
  verifiedAt: Date | null;
  /** What the proof showed (verified), or why the state is not verified. */
  verification: string;
}

/** True while the key state the API shows differs from what the machine has (a password reset alone does not). */
export function keyChangeWaiting(i: Instance): boolean {
  return i.desiredPublicKey !== i.appliedPublicKey || desiredPasswordLogin(i) !== i.appliedPasswordLogin;
}

export function verificationOf(i: Instance): VerificationView {
  if (i.osType !== 'linux') return { verifiedAt: null, verification: 'no SSH on this machine (Windows)' };
  if (i.status === 'Pending') return { verifiedAt: null, verification: AWAITING_FIRST_BOOT };
  if (i.status === 'Starting') return { verifiedAt: null, verification: AWAITING_BOOT };
  // A registered host is changed live only (its own password policy may differ): judged by what was recorded.
  if (i.backend !== 'host' && keyChangeWaiting(i)) {
    const stopped = i.status === 'Stopped' || i.status === 'Stopping';
    return { verifiedAt: null, verification: stopped ? 'waiting for the next start' : 'waiting for the next restart' };
  }
  if (i.verifiedAt) return { verifiedAt: i.verifiedAt, verification: i.verification ?? 'proven' };
  return { verifiedAt: null, verification: i.verification ?? 'not proven yet' };
}
