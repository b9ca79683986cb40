/**
 * The re-observation sweeper (ADR 26). A live change that was interrupted while its machine did not answer leaves
 * the instance unverified and a mark in the store (reobservation.ts). This sweep asks each due machine, as the
 * interrupted change itself did (live-observe.ts: publickey queries and the offered methods, no credential):
 * - it answers: what it does is recorded exactly as the change's own observation would have (the key pair whose
 *   key it accepts, password login, verified by probe), the mark is removed, and the outcome is written to the
 *   audit trail under the task's action (stage 'outcome', as keyfleet);
 * - it still does not answer: the record keeps saying "not verified", with when it was last asked, and the mark
 *   is due again after the next delay (5 s, 30 s, then every 5 minutes by default);
 * - the instance's key state changed since the mark was made (a bind, unbind or boot recorded, the instance gone):
 *   the mark is dropped, and an old observation never overwrites the newer record.
 *
 * Exactly once in a cluster: a due mark is claimed by a compare-and-set (its due time moves to the end of the
 * claim, attempts + 1); the result is written under the instance's row lock, only while the mark is still that
 * claim and the instance's key state is still the one the mark was made for. A process killed with a claim leaves
 * the mark due again when the claim lapses, so a restarted or another process asks.
 */
import { mapLimit } from '../../common/concurrency.js';
import type { NewAuditEntry } from '../audit/audit.js';
import { resourceNames } from '../audit/auditor.js';
import type { Clock, IdGen } from '../clock.js';
import type { Instance } from '../instance/instance.js';
import type { LiveAccess, Logger, Store } from '../ports.js';
import { ref } from '../usecase/use-case.js';
import { probeProfile } from './host-profile.js';
import { type ObservedState, recordObservedState } from './item-record.js';
import { type Observation, observeMachine } from './live-observe.js';
import { keyStateToken, type Reobservation, reobserveDelay } from './reobservation.js';
import { OUTCOME_ACTION } from './task-outcome-audit.js';

export interface ReobserveSweeperDeps {
  store: Store;
  live: LiveAccess;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  liveTimeoutMs: number;
  /** Delays between asks: the first after the interruption, then each next; the last repeats. */
  delaysMs: readonly number[];
}

/** Marks read per round; a round repeats while it claimed a whole batch. */
const BATCH = 50;
/** Machines asked at once (each ask is up to three SSH handshakes), as boot proofs are bounded. */
const REOBSERVE_CONCURRENCY = 8;

export type ReobserveResult = 'observed' | 'unanswered' | 'superseded' | 'claimed-elsewhere';

export function createReobserveSweeper(deps: ReobserveSweeperDeps) {
  const { store, clock, logger } = deps;
  // A claim outlasts a whole ask (up to three probes, each bounded by the live timeout), with room to spare.
  const claimMs = Math.max(60_000, 8 * deps.liveTimeoutMs);
  let running: Promise<number> | null = null;

  async function one(due: Reobservation): Promise<ReobserveResult> {
    const claimedAt = clock.now();
    if (!(await store.reobservations.claim(due, new Date(claimedAt.getTime() + claimMs)))) return 'claimed-elsewhere';
    const claim = { ...due, attempts: due.attempts + 1 };
    const inst = await store.instances.get(due.accountId, due.instanceId);
    if (!inst || keyStateToken(inst) !== due.stateToken) {
      await store.reobservations.remove(claim);
      logger.info('re-observation dropped: the instance changed since', {
        instanceId: due.instanceId,
        taskId: due.taskId,
      });
      return 'superseded';
    }
    const wanted = due.wanted;
    const desired = {
      key: wanted.keyPair
        ? {
            keyPairName: wanted.keyPair.name,
            publicKey: wanted.keyPair.publicKey,
            expiresAt: wanted.expiresAt ? new Date(wanted.expiresAt) : null,
          }
        : null,
      passwordLogin: wanted.passwordLogin,
    };
    const profile = probeProfile(inst, wanted.port, deps.liveTimeoutMs);
    const seen = await observeMachine({
      access: deps.live,
      profile,
      desired,
      oldPublicKey: due.oldPublicKey,
      passwordBefore: due.passwordBefore,
      hostKey: profile.hostKey,
    });
    const at = clock.now();
    return store.transaction(async (tx) => {
      await tx.reobservations.lockInstance(due.accountId, due.instanceId);
      const cur = await tx.instances.get(due.accountId, due.instanceId);
      const mark = await tx.reobservations.get(due.instanceId);
      if (!mark || mark.taskId !== claim.taskId || mark.attempts !== claim.attempts) return 'claimed-elsewhere';
      if (!cur || keyStateToken(cur) !== mark.stateToken) {
        await tx.reobservations.remove(claim);
        return 'superseded';
      }
      if (seen.verdict === 'unknown') {
        cur.verification = `not verified: the change of task ${due.taskId} was interrupted and the machine has not answered since; last asked at ${at.toISOString()} (${seen.description})`;
        cur.verifiedAt = null;
        cur.updatedAt = at;
        await tx.instances.update(cur);
        const next = new Date(at.getTime() + reobserveDelay(deps.delaysMs, claim.attempts));
        await tx.reobservations.reschedule(claim, { dueAt: next, lastAskedAt: at, stateToken: keyStateToken(cur) });
        return 'unanswered';
      }
      const observed = observedState(cur, due, seen, at);
      recordObservedState(
        cur,
        { kind: wanted.kind, mode: wanted.mode, keyPairId: wanted.keyPair?.id ?? null, expiresAt: wanted.expiresAt },
        observed,
        at,
      );
      await tx.instances.update(cur);
      await tx.reobservations.remove(claim);
      await tx.audit.append(outcomeEntry(cur, due, seen, observed, at));
      return 'observed';
    });
  }

  /** What the machine answered, as the interrupted change's own observation records it (live-executor.ts). */
  function observedState(inst: Instance, due: Reobservation, seen: Observation, at: Date): ObservedState {
    const previous = inst.keyPairId
      ? { id: inst.keyPairId, name: inst.keyPairName ?? '', publicKey: inst.desiredPublicKey ?? due.oldPublicKey ?? '' }
      : null;
    const wantedKey = due.wanted.keyPair;
    const keyPair =
      seen.verdict === 'applied'
        ? wantedKey
        : seen.keyAccepted === true && wantedKey
          ? wantedKey
          : seen.oldKeyAccepted === false
            ? null
            : previous;
    return {
      keyPair,
      passwordLogin: seen.passwordOn,
      verified: true,
      verification: `observed by probe at ${at.toISOString()} after an interrupted change (task ${due.taskId}): ${seen.description}`,
    };
  }

  function outcomeEntry(
    inst: Instance,
    due: Reobservation,
    seen: Observation,
    observed: ObservedState,
    at: Date,
  ): NewAuditEntry {
    const taken = { applied: 'took effect', 'not-applied': 'did not take effect', partly: 'took effect in part' }[
      seen.verdict as 'applied' | 'not-applied' | 'partly'
    ];
    return {
      id: deps.ids.next('ev-', 20),
      at,
      accountId: inst.accountId,
      userId: 'system',
      userName: 'keyfleet',
      accessKeyId: null,
      sessionId: null,
      face: 'system',
      sourceIp: '127.0.0.1',
      action: OUTCOME_ACTION[due.wanted.kind],
      resources: resourceNames(inst.accountId, [ref.instance(inst.regionId, inst.id)]),
      requestId: `reobserve-${due.taskId}`,
      result: 'success',
      errorCode: null,
      taskId: due.taskId,
      stage: 'outcome',
      detail: `The interrupted change ${taken}: ${observed.verification}.`,
    };
  }

  async function round(): Promise<number> {
    let observed = 0;
    for (;;) {
      const due = await store.reobservations.due(clock.now(), BATCH);
      if (due.length === 0) return observed;
      let claimed = 0;
      // Several machines at once: after an outage most do not answer, and each silent one costs a live timeout.
      const results = await mapLimit(due, REOBSERVE_CONCURRENCY, (mark) => one(mark));
      results.forEach((r, i) => {
        const mark = due[i]!;
        if (r.status === 'rejected') {
          logger.warn('re-observation failed', { instanceId: mark.instanceId, error: String(r.reason) });
          return;
        }
        if (r.value === 'claimed-elsewhere') return;
        claimed++;
        if (r.value === 'observed') {
          observed++;
          logger.info('interrupted change observed', { instanceId: mark.instanceId, taskId: mark.taskId });
        }
      });
      if (claimed === 0 || due.length < BATCH) return observed;
    }
  }

  return {
    /** One sweep now: every due mark is asked (here or elsewhere). Returns how many machines answered here. */
    sweep(): Promise<number> {
      running ??= round().finally(() => {
        running = null;
      });
      return running;
    },
  };
}

export type ReobserveSweeper = ReturnType<typeof createReobserveSweeper>;
