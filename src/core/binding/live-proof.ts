/**
 * The proof of a live change: a fresh connection with no credential at all asks the server whether it would accept
 * the bound key (PK_OK) and refuse the removed one, and which methods it offers (is password login on). No private
 * key is needed, so the same probes can tell what a machine does now whoever holds the key.
 */
import { isCoreError } from '../errors.js';
import type { HostKeyPolicy, LiveAccess } from '../ports.js';
import type { LiveClock, LiveHostProfile, LiveKeyState } from './live-change.js';

/**
 * sshd handles SIGHUP asynchronously: `systemctl reload ssh` (kill -HUP) returns at once, the old listener may
 * still accept a connection with the old configuration, then it re-executes itself and listens again a few
 * milliseconds later. A proof that follows a reload is therefore repeated (refused connection, or the old
 * behaviour) within this window before the change is called unproven.
 */
const RELOAD_SETTLE_MS = 5_000;
const RELOAD_FIRST_PROOF_MS = 100;

export interface Proof {
  access: LiveAccess;
  profile: LiveHostProfile;
  /** The host key the change's own session saw: the proof must reach the same machine. */
  pinned: HostKeyPolicy;
  desired: LiveKeyState;
  clock: LiveClock;
  /** Told each proof's result and start (LiveApplyHooks.proved), for metrics. */
  proved?: (result: string, startedAt: number) => void;
}

export interface Verdict {
  ok: boolean;
  reason: string;
  /** The keys were as wanted and only the password method was not: what sshd runs may not be its files. */
  passwordOnly?: boolean;
}

/**
 * The proof, repeated with backoff while a reload may still be taking effect (only when the drop-in changed and
 * sshd was reloaded).
 */
export async function proveChange(proof: Proof, reloaded: boolean): Promise<Verdict> {
  const started = proof.clock.now().getTime();
  try {
    const verdict = await proveSettled(proof, reloaded, started);
    proof.proved?.(verdict.ok ? 'proven' : 'not-proven', started);
    return verdict;
  } catch (err) {
    proof.proved?.(isCoreError(err) ? err.code : 'Error', started);
    throw err;
  }
}

async function proveSettled(proof: Proof, reloaded: boolean, started: number): Promise<Verdict> {
  const { clock } = proof;
  const settleMs = reloaded ? RELOAD_SETTLE_MS : 0;
  // Every proof is a full SSH handshake: give sshd a moment before the first and back off, so hundreds of hosts
  // reloading at once are not slowed further by proofs that can only see the old configuration.
  if (settleMs > 0) await clock.sleep(RELOAD_FIRST_PROOF_MS);
  for (let wait = RELOAD_FIRST_PROOF_MS; ; wait = Math.min(wait * 2, 800)) {
    const verdict = await verify(proof, Math.max(0, settleMs - (clock.now().getTime() - started)));
    if (verdict.ok || clock.now().getTime() - started + wait > settleMs) return verdict;
    await clock.sleep(wait);
  }
}

/** A fresh connection, with no credential at all: asks the server whether it would accept the key (PK_OK). */
async function verify(proof: Proof, settleMs: number): Promise<Verdict> {
  const { access, profile, pinned, desired, clock } = proof;
  const opts = { timeoutMs: profile.timeoutMs };
  const started = clock.now().getTime();
  const target = { ...profile.target, username: profile.loginUser ?? profile.target.username };
  const probeLogin = async (key: string | null) => {
    for (let wait = 20; ; wait = Math.min(wait * 2, 400)) {
      try {
        return await access.probeLogin(target, pinned, key, opts);
      } catch (err) {
        // Only a refused/unreachable connection while sshd comes back from its reload is retried.
        if (!isCoreError(err) || err.code !== 'Live.Unreachable' || clock.now().getTime() - started + wait > settleMs)
          throw err;
        await clock.sleep(wait);
      }
    }
  };
  // A password can also be typed at a keyboard-interactive prompt (PAM): "password login off" means neither is
  // offered. A drop-in read before keyfleet's can turn keyboard-interactive back on, and the first value wins.
  const passwordOffered = (methods: string[]) =>
    methods.includes('password') || (desired.passwordLogin === false && methods.includes('keyboard-interactive'));
  const passwordAsWanted = (methods: string[]) =>
    desired.passwordLogin === null || passwordOffered(methods) === desired.passwordLogin;
  const reasons: string[] = [];
  if (desired.key) {
    const probe = await probeLogin(desired.key.publicKey);
    if (probe.keyAccepted !== true) return { ok: false, reason: `key '${desired.key.keyPairName}' is not accepted` };
    reasons.push(`key '${desired.key.keyPairName}' accepted`);
    if (!passwordAsWanted(probe.methods)) {
      return {
        ok: false,
        reason: `password login is ${passwordOffered(probe.methods) ? 'still offered' : 'not offered'}`,
        passwordOnly: true,
      };
    }
  }
  if (profile.removedPublicKey) {
    const probe = await probeLogin(profile.removedPublicKey);
    if (probe.keyAccepted === true) return { ok: false, reason: 'the removed key is still accepted' };
    reasons.push('removed key refused');
    if (!desired.key && !passwordAsWanted(probe.methods)) {
      return {
        ok: false,
        reason: `password login is ${passwordOffered(probe.methods) ? 'offered' : 'not offered'}`,
        passwordOnly: true,
      };
    }
  }
  if (!desired.key && !profile.removedPublicKey && desired.passwordLogin !== null) {
    const probe = await probeLogin(null);
    if (!passwordAsWanted(probe.methods))
      return { ok: false, reason: 'password method not as expected', passwordOnly: true };
  }
  if (desired.passwordLogin !== null)
    reasons.push(desired.passwordLogin ? 'password method offered' : 'password method off');
  return { ok: true, reason: reasons.join(', ') };
}
