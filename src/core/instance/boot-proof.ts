/**
 * The proof after a boot. An on-restart change is applied by the machine itself at its next start (cloud-init
 * style); nothing in that path shows that the result logs in. Once the machine is Running, a fresh connection with
 * no credential asks its sshd (the host key pinned) whether it would accept the applied key (PK_OK) and which
 * methods it offers: the bound key must be accepted and password login offered exactly when no key pair is bound;
 * with no key pair, the key the boot removed must be refused. The outcome is kept on the instance
 * (`verifiedAt`, `verification`), so every face can say "verified at <time>" or "not verified: <why>".
 *
 * Off the request path and bounded: a start returns at once, the boot runs in the instance driver, and the proofs
 * of a fleet restarted at once take a few slots (each is one SSH handshake, CPU on both ends).
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { Clock } from '../clock.js';
import { isCoreError } from '../errors.js';
import { verificationFailedEvent } from '../events/event.js';
import { type Metrics, noMetrics } from '../metrics.js';
import type { LiveAccess, Logger, Store } from '../ports.js';
import type { Instance } from './instance.js';

/** Proofs in flight at once across the fleet (each is one or two SSH handshakes). */
export const BOOT_PROOF_CONCURRENCY = 8;
/** A machine that does not answer at once (sshd still starting) is asked again after these pauses. */
const UNREACHABLE_RETRIES_MS = [500, 1000];

/** What the boot left on the machine: the proof checks exactly this. */
export interface AppliedState {
  publicKey: string | null;
  /** The bound key pair's name, for the message ('the bound key' when not known). */
  keyPairName: string | null;
  passwordLogin: boolean;
}

export interface BootProofDeps {
  store: Store;
  live: LiveAccess;
  clock: Clock;
  logger: Logger;
  timeoutMs: number;
  concurrency?: number;
  metrics?: Metrics;
}

/** The stored reason while a boot has not been proven yet (a start or restart in progress). */
export const AWAITING_BOOT = 'waiting for the boot to be proven';
export const AWAITING_FIRST_BOOT = 'waiting for the first boot';

interface Outcome {
  ok: boolean;
  /** What the proof showed (ok), or why the state is not verified. */
  text: string;
  /** The metric's label: 'proven', 'not-proven', 'no-ssh', 'no-host-key' or an error code (a bounded set). */
  result?: string;
}

export function createBootProver(deps: BootProofDeps) {
  const { store, live, clock, logger } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const slots = createSemaphore(deps.concurrency ?? BOOT_PROOF_CONCURRENCY);
  const inFlight = new Set<Promise<void>>();

  function appliedOf(inst: Instance): AppliedState {
    return {
      publicKey: inst.appliedPublicKey,
      // The name is the bound key pair's only while the binding is the one applied (no change waiting).
      keyPairName:
        inst.appliedPublicKey !== null && inst.appliedPublicKey === inst.desiredPublicKey ? inst.keyPairName : null,
      passwordLogin: inst.appliedPasswordLogin,
    };
  }

  async function probe(inst: Instance, publicKey: string | null) {
    const target = { host: inst.address, port: inst.sshPort, username: inst.loginUser };
    const pinned = { kind: 'pinned' as const, sha256: inst.hostKeySha256! };
    for (let attempt = 0; ; attempt++) {
      try {
        return await live.probeLogin(target, pinned, publicKey, { timeoutMs: deps.timeoutMs });
      } catch (err) {
        const wait = UNREACHABLE_RETRIES_MS[attempt];
        if (wait === undefined || !isCoreError(err) || err.code !== 'Live.Unreachable') throw err;
        await clock.sleep(wait);
      }
    }
  }

  /** Runs the publickey probes and judges them against the applied state. */
  async function judge(inst: Instance, applied: AppliedState, removedKey: string | null): Promise<Outcome> {
    // A password can also be typed at a keyboard-interactive prompt (PAM): "password login off" means neither.
    const passwordOffered = (methods: string[]) =>
      methods.includes('password') || (!applied.passwordLogin && methods.includes('keyboard-interactive'));
    const passwordText = applied.passwordLogin ? 'password login on' : 'password login off';
    const passwordWrong = (methods: string[]): Outcome | null =>
      passwordOffered(methods) === applied.passwordLogin
        ? null
        : {
            ok: false,
            text: `proof failed: password login is ${applied.passwordLogin ? 'not offered' : 'still offered'}`,
          };
    if (applied.publicKey) {
      const name = applied.keyPairName ? `key '${applied.keyPairName}'` : 'the bound key';
      const answer = await probe(inst, applied.publicKey);
      if (answer.keyAccepted !== true) return { ok: false, text: `proof failed: ${name} refused` };
      return passwordWrong(answer.methods) ?? { ok: true, text: `${name} accepted; ${passwordText}` };
    }
    if (removedKey) {
      const answer = await probe(inst, removedKey);
      if (answer.keyAccepted === true) return { ok: false, text: 'proof failed: the removed key is still accepted' };
      return (
        passwordWrong(answer.methods) ?? { ok: true, text: `no key pair: the removed key refused; ${passwordText}` }
      );
    }
    const answer = await probe(inst, null);
    return passwordWrong(answer.methods) ?? { ok: true, text: `no key pair; ${passwordText}` };
  }

  function failure(err: unknown): Outcome {
    if (isCoreError(err)) {
      const result = err.code;
      if (err.code === 'Live.HostKeyChanged') return { ok: false, text: 'proof failed: the host key changed', result };
      if (err.code === 'Live.Unreachable' || err.code === 'Live.Timeout')
        return { ok: false, text: `the machine did not answer: ${err.message}`, result };
      return { ok: false, text: `proof failed: ${err.message}`, result };
    }
    return { ok: false, text: `proof failed: ${err instanceof Error ? err.message : String(err)}`, result: 'Internal' };
  }

  /** Records the outcome only if the machine still runs with the state that was proven (nothing newer won). */
  async function record(accountId: string, id: string, applied: AppliedState, outcome: Outcome): Promise<boolean> {
    return store.transaction(async (tx) => {
      const cur = await tx.instances.get(accountId, id);
      if (
        !cur ||
        cur.status !== 'Running' ||
        cur.appliedPublicKey !== applied.publicKey ||
        cur.appliedPasswordLogin !== applied.passwordLogin
      )
        return false;
      cur.verifiedAt = outcome.ok ? clock.now() : null;
      cur.verification = outcome.text;
      await tx.instances.update(cur);
      // A failed proof of a Linux machine is an event for the account's webhooks, committed with the outcome.
      if (!outcome.ok && cur.osType === 'linux')
        await tx.outbox.publish(verificationFailedEvent(cur, outcome.text, clock.now()));
      return true;
    });
  }

  async function prove(accountId: string, id: string, removedKey: string | null): Promise<void> {
    await slots.run(async () => {
      const inst = await store.instances.get(accountId, id);
      // Stopped again, restarted again, deleted, or not a machine keyfleet boots: nothing to prove now.
      if (!inst || inst.status !== 'Running' || inst.backend === 'host') return;
      const applied = appliedOf(inst);
      const startedAt = clock.now().getTime();
      let outcome: Outcome;
      if (inst.osType !== 'linux') outcome = { ok: false, text: 'no SSH on this machine (Windows)', result: 'no-ssh' };
      else if (!inst.hostKeySha256)
        outcome = { ok: false, text: 'no host key is known to pin the proof to', result: 'no-host-key' };
      else {
        // The removed key matters only when the boot took it away (no key bound now, a different one before).
        const removed = applied.publicKey === null && removedKey !== applied.publicKey ? removedKey : null;
        outcome = await judge(inst, applied, removed).catch(failure);
      }
      const result = outcome.result ?? (outcome.ok ? 'proven' : 'not-proven');
      metrics.inc('boot_proofs_total', { result });
      metrics.observe('boot_proof_duration_seconds', { result }, (clock.now().getTime() - startedAt) / 1000);
      const recorded = await record(accountId, id, applied, outcome);
      if (recorded && !outcome.ok && inst.osType === 'linux') {
        logger.warn('boot not verified', { instanceId: id, address: inst.address, verification: outcome.text });
      }
    });
  }

  return {
    /**
     * Proves the instance's boot once `booted` (the driver's transition) has settled. `removedKey`: the key the
     * machine had before this boot, if known, so that an unbind applied at the boot is proven by its refusal.
     */
    after(booted: Promise<void>, accountId: string, id: string, removedKey: string | null): void {
      const done: Promise<void> = booted
        .then(() => prove(accountId, id, removedKey))
        .catch((err: unknown) => {
          logger.error('boot proof failed to run', {
            instanceId: id,
            error: err instanceof Error ? err.message : String(err),
          });
        })
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    },
    /** Waits until every proof asked for so far has been recorded. */
    async settle(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    /** Boots being proven or waiting to be. */
    pending: (): number => inFlight.size,
  };
}

export type BootProver = ReturnType<typeof createBootProver>;
