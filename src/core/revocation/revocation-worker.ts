/**
 * The worker that carries an applied revocation to its end (issue 19). Durable: everything it needs is in the store
 * (the revocation, each machine's state and next attempt), so a restart, or another process of a cluster, takes up
 * where it stopped. Exactly once in a cluster: a revocation is leased to one process (claimDue) and every machine's
 * outcome is written only while that lease is held.
 *
 * Per machine, one attempt:
 *  1. where the store binds the key, wait for its live unbind task (the ordinary task path); an unbind that failed
 *     because the machine was unreachable is submitted again at the next attempt;
 *  2. with includeUnmanaged, remove the lines outside keyfleet's block that authorise the key (atomic replace,
 *     every other byte kept: key-copies.ts);
 *  3. ask the machine, for the managed user and root, whether it would accept the key (publickey query, PK_OK):
 *     refused everywhere: `refused (verified at …)`; still accepted: `failed (why)`.
 * A network fault makes the machine `unreachable`: tried again with doubling delays until the deadline the user
 * set, then `failed`. When no machine is left pending or unreachable, the revocation is finished and one audit
 * entry records its outcome (stage 'outcome', under the revocation's id), in the transaction that finishes it.
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { NewAuditEntry } from '../audit/audit.js';
import { resourceNames } from '../audit/auditor.js';
import type { BindRequest } from '../binding/bind-request.js';
import type { DriftSource } from '../binding/drift-source.js';
import { type Caller, type Face, systemCaller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { LiveAccess, LiveCredential, Logger, SecretBox, Store } from '../ports.js';
import type { Task, TaskItem } from '../task/task.js';
import { ref } from '../usecase/use-case.js';
import { removeCopies } from './key-copies.js';
import { isUnreachable, openMachine, probeKey, reasonOf, unsupported } from './machine-access.js';
import type { Revocation, RevocationMachine } from './revocation.js';
import { credentialContext } from './revocation-service.js';

export interface RevocationWorkerDeps {
  store: Store;
  live: LiveAccess;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  source?: DriftSource;
  liveTimeoutMs: number;
  /** This process, for leases. */
  owner: string;
  concurrency: number;
  /** How often the worker looks for due revocations (KEYFLEET_REVOKE_TICK_MS). */
  tickMs: number;
  /** First delay before an unreachable machine is tried again; doubles up to 32 times it (KEYFLEET_REVOKE_RETRY_MS). */
  retryMs: number;
  leaseMs?: number;
  submit(caller: Caller, req: BindRequest): Promise<Task>;
  /** The user who applied the revocation, with their current policies (null: the user is gone). */
  callerOf(r: Revocation): Promise<Caller | null>;
}

const PAGE = 1000;
const DEFAULT_LEASE_MS = 60_000;
/** The delay doubles at most this many times (10 s → about 5 min by default). */
const MAX_DOUBLINGS = 5;
const CLAIM_LIMIT = 4;

type Outcome = Pick<RevocationMachine, 'state' | 'detail' | 'verifiedAt' | 'nextAttemptAt'> &
  Partial<Pick<RevocationMachine, 'unbindTaskId' | 'removedLines'>> & { counts: boolean };

export function createRevocationWorker(deps: RevocationWorkerDeps) {
  const { store, clock } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const access = { live: deps.live, secrets: deps.secrets, source: deps.source, timeoutMs: deps.liveTimeoutMs };
  let running: Promise<void> | null = null;
  let again = false;
  let stop: (() => void) | null = null;
  let closed = false;

  /** One round: claim due revocations and work on each; a wake during a round runs another. */
  function wake(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          for (;;) {
            const now = clock.now();
            const due = await store.revocations.claimDue(
              deps.owner,
              now,
              new Date(now.getTime() + leaseMs),
              CLAIM_LIMIT,
            );
            if (due.length === 0) break;
            await Promise.all(due.map((r) => work(r)));
          }
        } catch (err) {
          deps.logger.warn('revocation round failed', { error: err instanceof Error ? err.message : String(err) });
        }
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
  }

  async function work(r: Revocation): Promise<void> {
    const caller = (await deps.callerOf(r)) ?? systemCaller(r.accountId, r.requestId);
    const slots = createSemaphore(deps.concurrency);
    const now = clock.now();
    const due: RevocationMachine[] = [];
    for (const state of ['pending', 'unreachable'] as const)
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.revocations.machines(r.id, { state, offset, limit: PAGE });
        due.push(...page.items.filter((m) => !m.nextAttemptAt || m.nextAttemptAt <= now));
        if (page.items.length < PAGE) break;
      }
    let lost = false;
    // The unbind tasks' items, read once per pass (not once per machine).
    const items = new Map<string, Promise<Map<string, TaskItem> | null>>();
    const itemsOf = (taskId: string) => {
      let found = items.get(taskId);
      if (!found) {
        found = taskItems(r, taskId);
        items.set(taskId, found);
      }
      return found;
    };
    await Promise.all(
      due.map((m) =>
        slots.run(async () => {
          if (lost || closed) return;
          const outcome = await attempt(r, caller, m, itemsOf);
          // Still waiting for its unbind task: nothing to write (writes would only slow the task's own).
          if (!outcome.counts && outcome.state === m.state) return;
          const at = clock.now();
          const row: RevocationMachine = {
            ...m,
            ...outcome,
            attempts: m.attempts + (outcome.counts ? 1 : 0),
            updatedAt: at,
          };
          if (!(await store.revocations.updateMachine(row, deps.owner))) lost = true;
          else await store.revocations.holds(r.id, deps.owner, new Date(at.getTime() + leaseMs));
        }),
      ),
    );
    if (lost || closed) return;
    await settle(r);
  }

  /** Finishes the revocation when nothing is left to try, else sets when to look again; gives the lease up. */
  async function settle(r: Revocation): Promise<void> {
    const counts = await store.revocations.countStates(r.id);
    const open = counts.pending + counts.unreachable;
    const now = clock.now();
    if (open === 0) {
      const done: Revocation = { ...r, status: 'finished', counts, finishedAt: now, nextRunAt: null };
      await store.transaction(async (tx) => {
        if (await tx.revocations.update(done, deps.owner, 'applying')) await tx.audit.append(outcomeEntry(done));
      });
      return;
    }
    let next = Number.POSITIVE_INFINITY;
    for (const state of ['pending', 'unreachable'] as const)
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.revocations.machines(r.id, { state, offset, limit: PAGE });
        for (const m of page.items) next = Math.min(next, m.nextAttemptAt?.getTime() ?? now.getTime());
        if (page.items.length < PAGE) break;
      }
    await store.revocations.update(
      // Never sooner than a tick: every machine due now was just tried (or is waiting for its unbind task).
      { ...r, counts, nextRunAt: new Date(Math.max(Number.isFinite(next) ? next : 0, now.getTime() + deps.tickMs)) },
      deps.owner,
      'applying',
    );
  }

  async function attempt(
    r: Revocation,
    caller: Caller,
    m: RevocationMachine,
    itemsOf: (taskId: string) => Promise<Map<string, TaskItem> | null>,
  ): Promise<Outcome> {
    const now = clock.now();
    const inst = await store.instances.get(r.accountId, m.instanceId);
    if (!inst) return final('failed', 'The machine no longer exists.');
    const why = unsupported(inst, deps.source);
    if (why) return final('skipped', why);

    // 1. The unbind, through the task path.
    let unbindTaskId = m.unbindTaskId;
    if (unbindTaskId) {
      const item = unbindItem(await itemsOf(unbindTaskId), unbindTaskId, m.instanceId);
      if (item === 'running')
        return { state: m.state, detail: m.detail, verifiedAt: null, nextAttemptAt: soon(), counts: false };
      if (item !== 'succeeded') {
        if (!item.unreachable) return final('failed', `The unbind failed: ${item.reason}`);
        // A simulated instance logs in with the credential given with apply (never offered to a host).
        const sealed = inst.backend !== 'host' ? await store.revocations.credential(r.id) : null;
        const credential = sealed
          ? (JSON.parse(deps.secrets.open(sealed, credentialContext(r.id))) as LiveCredential)
          : null;
        const task = await deps.submit(caller, {
          regionId: r.regionId,
          kind: 'unbind',
          keyPairName: m.boundKeyPairName ?? undefined,
          instanceIds: [m.instanceId],
          mode: 'live',
          ...(credential ? { credential } : {}),
          options: { flavour: 'unbind' },
          maxBatch: 1,
        });
        return unreachable(r, m, `The unbind could not reach the machine (${item.reason}); it is tried again.`, {
          unbindTaskId: task.id,
        });
      }
      unbindTaskId = null;
    }

    // 2. Copies outside keyfleet's block, only when asked.
    let removed = m.removedLines;
    if (r.includeUnmanaged) {
      try {
        const files = await openMachine(access, inst);
        try {
          for (const f of files.files)
            await files.edit(f.path, (text) => {
              const next = removeCopies(text, r.key.base64);
              removed += next.removed;
              return next.content;
            });
        } finally {
          files.close();
        }
      } catch (err) {
        if (isUnreachable(err)) return unreachable(r, m, reasonOf(err), { removedLines: removed, unbindTaskId });
        return final('failed', `Removing the copies failed: ${reasonOf(err)}`, { removedLines: removed });
      }
    }

    // 3. The proof: sshd is asked, with no credential, whether it would accept the key.
    try {
      const answers = await probeKey(access, inst, m.users, `${r.key.type} ${r.key.base64}`);
      const accepted = answers.filter((a) => a.accepted === true).map((a) => a.user);
      if (accepted.length > 0) {
        const kept = m.copies.filter((c) => !c.managed).length;
        const hint =
          !r.includeUnmanaged && kept > 0
            ? `; ${kept} line(s) outside keyfleet's block authorise it and were kept (apply with includeUnmanaged to remove them)`
            : '; a file or setting keyfleet does not read may authorise it';
        return final('failed', `The key is still accepted for ${accepted.join(', ')}${hint}.`, {
          removedLines: removed,
          unbindTaskId,
        });
      }
      const detail = `publickey query refused for ${answers.map((a) => a.user).join(', ')}${
        removed > 0 ? `; ${removed} line(s) outside keyfleet's block removed` : ''
      }`;
      return {
        state: 'refused',
        detail,
        verifiedAt: now,
        nextAttemptAt: null,
        removedLines: removed,
        unbindTaskId,
        counts: true,
      };
    } catch (err) {
      if (isUnreachable(err)) return unreachable(r, m, reasonOf(err), { removedLines: removed, unbindTaskId });
      return final('failed', `The proof failed: ${reasonOf(err)}`, { removedLines: removed, unbindTaskId });
    }
  }

  function final(state: 'failed' | 'skipped', detail: string, more: Partial<Outcome> = {}): Outcome {
    return { state, detail, verifiedAt: null, nextAttemptAt: null, counts: true, ...more };
  }

  function soon(): Date {
    return new Date(clock.now().getTime() + deps.tickMs);
  }

  /** Tried again with doubling delays, the last time at the deadline; past it, the machine has failed. */
  function unreachable(r: Revocation, m: RevocationMachine, why: string, more: Partial<Outcome>): Outcome {
    const now = clock.now().getTime();
    const until = r.retryUntil?.getTime() ?? now;
    if (now >= until)
      return final('failed', `unreachable until the deadline ${new Date(until).toISOString()}: ${why}`, more);
    const delay = deps.retryMs * 2 ** Math.min(m.attempts, MAX_DOUBLINGS);
    return {
      state: 'unreachable',
      detail: why,
      verifiedAt: null,
      nextAttemptAt: new Date(Math.min(now + delay, until)),
      counts: true,
      ...more,
    };
  }

  async function taskItems(r: Revocation, taskId: string): Promise<Map<string, TaskItem> | null> {
    const task = await store.tasks.get(r.accountId, taskId);
    if (!task) return null;
    const found = new Map<string, TaskItem>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.tasks.items(taskId, { offset, limit: PAGE });
      for (const i of page.items) found.set(i.instanceId, i);
      if (page.items.length < PAGE) return found;
    }
  }

  function unbindItem(
    items: Map<string, TaskItem> | null,
    taskId: string,
    instanceId: string,
  ): 'running' | 'succeeded' | { unreachable: boolean; reason: string } {
    if (!items) return { unreachable: false, reason: `its task '${taskId}' no longer exists` };
    const item = items.get(instanceId);
    if (!item) return { unreachable: false, reason: 'its task has no item for the machine' };
    if (item.status === 'succeeded') return 'succeeded';
    if (item.status !== 'failed') return 'running';
    const code = item.errorCode ?? 'Internal';
    return {
      unreachable: code === 'Live.Unreachable' || code === 'Live.Timeout' || code === 'Live.StateUnknown',
      reason: `${code}: ${item.errorMessage ?? ''}`,
    };
  }

  function outcomeEntry(r: Revocation): NewAuditEntry {
    const c = r.counts;
    const named = r.target.kind === 'keyPair' ? `key pair '${r.target.keyPairName}', ` : '';
    const failed = c.failed > 0;
    return {
      id: deps.ids.next('ev-', 20),
      at: clock.now(),
      accountId: r.accountId,
      userId: r.createdBy,
      userName: r.submitter.userName,
      accessKeyId: r.submitter.accessKeyId,
      sessionId: r.submitter.sessionId,
      face: r.face as Face,
      sourceIp: r.submitter.sourceIp,
      action: 'keypair:Revoke',
      resources: resourceNames(r.accountId, [
        ...r.keyPairNames.map((n) => ref.keyPair(r.regionId, n)),
        ref.task(r.id, r.regionId),
      ]),
      requestId: r.requestId,
      result: failed ? 'failure' : 'success',
      errorCode: failed ? 'Revocation.Incomplete' : null,
      taskId: r.id,
      stage: 'outcome',
      detail:
        `revocation ${r.id} of ${named}${r.key.fingerprintSha256}: refused on ${c.refused} of ${r.machineCount} ` +
        `machine(s), ${c.failed} failed, ${c.skipped} skipped`,
    };
  }

  return {
    wake,
    start(): void {
      stop = clock.every(deps.tickMs, wake);
      wake();
    },
    async close(): Promise<void> {
      closed = true;
      stop?.();
      await running;
    },
  };
}

export type RevocationWorker = ReturnType<typeof createRevocationWorker>;
