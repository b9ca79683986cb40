/**
 * The expiry sweeper (issue 19): when a binding's expiry comes, keyfleet unbinds it through the same durable task
 * path as any unbind, as keyfleet itself (the system caller, audited as such, listed with the tasks). The machine
 * refuses the key from that second on by itself (the line's `expiry-time`); the unbind takes the line out and turns
 * password login back on by the product's rule, so the record and the machine agree again.
 *
 * Which path the unbind takes, since no caller is there to give a credential:
 * - a registered host: live, with the host's sealed management key (a bind with an expiry is refused on a host
 *   without one, bind-submit.ts);
 * - a simulated instance: keyfleet holds no credential for it (a live change logs in with the caller's root password
 *   or the bound key's private key, which the machine now refuses), so the unbind is recorded for its next start,
 *   the on-restart path, whatever mode it was bound in. Until that boot the machine keeps the line and refuses the
 *   key by its `expiry-time`; password login comes back at the boot.
 *
 * When: OpenSSH refuses the key once the expiry is BEFORE now in whole seconds, so during the second the expiry
 * names the key still logs in; keyfleet unbinds from the next second on (expiry + 1 s), when the machine already
 * refuses it, so the record never says "unbound" while the machine still lets the key in by its own rule.
 *
 * Exactly once: a due expiry is claimed in the store (binding_expiries, keyed by instance and expiry) in the
 * transaction that inserts its task, so several processes sweeping one PostgreSQL store make one task. A sweep runs
 * at start (expiries that came while keyfleet was down) and then every `everyMs`.
 *
 * Retried until done: an unbind that failed (a host unreachable through every attempt of its task) leaves the
 * binding with its expiry in the record, which is true (the line is still on the machine, refused by OpenSSH). Once
 * `retryMs` has passed since that task ended, the sweep claims the expiry again, taking the claim over from the
 * failed task only (a compare-and-set, so two sweepers make one retry), and makes a new unbind task, until one
 * succeeds or the binding changes (an operator's unbind, a rebind, an extension).
 */
import { type Caller, systemCaller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { Instance } from '../instance/instance.js';
import type { DueExpiry, Logger, Store } from '../ports.js';
import type { ResourceRef } from '../authz/actions.js';
import { pendingItem, queuedTask, type Task, type TaskMode } from '../task/task.js';
import { ref } from '../usecase/use-case.js';

export interface ExpirySweeperDeps {
  store: Store;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  /** Starts a task this process made (the task runner's kick). */
  kick: (taskId: string) => void;
  /** Records the expiry's unbind in the audit trail as the system caller did it. */
  audit: (caller: Caller, action: string, refs: ResourceRef[], taskId: string) => Promise<void>;
  /** How long after a failed expiry unbind ended it is tried again (default 5 minutes). */
  retryMs?: number;
}

/** sshd refuses a key from the second after its expiry-time (valid_before < now, in seconds). */
const REFUSED_AFTER_MS = 1000;
/** Expiries read per sweep round; a round repeats until none is due. */
const BATCH = 100;
const DEFAULT_RETRY_MS = 300_000;

/** The mode an expiry's unbind takes on this machine (see the header). */
export function expiryUnbindMode(inst: Pick<Instance, 'backend'>): TaskMode {
  return inst.backend === 'host' ? 'live' : 'on-restart';
}

export function createExpirySweeper(deps: ExpirySweeperDeps) {
  const { store, clock, ids, logger } = deps;
  const retryMs = deps.retryMs ?? DEFAULT_RETRY_MS;
  let running: Promise<number> | null = null;

  /** Claims one due expiry and makes its unbind task; null when another sweep claimed it, or nothing is bound. */
  async function claim(due: DueExpiry): Promise<Task | null> {
    const taskId = ids.uuid();
    const requestId = `expiry-${taskId}`;
    const caller = systemCaller(due.accountId, requestId);
    return store.transaction(async (tx) => {
      const inst = await tx.instances.get(due.accountId, due.instanceId);
      if (!inst || inst.keyExpiresAt?.getTime() !== due.expiresAt.getTime() || !inst.keyPairId) return null;
      if (!(await tx.expiries.claim(due, taskId, clock.now()))) return null;
      const task = queuedTask(
        caller,
        {
          id: taskId,
          regionId: inst.regionId,
          kind: 'unbind',
          mode: expiryUnbindMode(inst),
          keyPairId: inst.keyPairId,
          keyPairName: inst.keyPairName,
          total: 1,
          options: {
            flavour: 'unbind',
            endsExpiry: due.expiresAt.toISOString(),
            ...(due.retryOf ? { retryOf: due.retryOf } : {}),
          },
        },
        clock.now(),
      );
      await tx.tasks.insert(task, [pendingItem(task.id, 0, inst.id)]);
      return task;
    });
  }

  async function round(): Promise<number> {
    let made = 0;
    for (;;) {
      const now = clock.now().getTime();
      const due = await store.expiries.due(new Date(now - REFUSED_AFTER_MS), BATCH, new Date(now - retryMs));
      if (due.length === 0) return made;
      let claimed = 0;
      for (const expiry of due) {
        const task = await claim(expiry).catch((err: unknown) => {
          logger.warn('binding expiry could not be claimed', { instanceId: expiry.instanceId, error: String(err) });
          return null;
        });
        if (!task) continue;
        claimed++;
        made++;
        logger.info(
          expiry.retryOf ? 'binding expired: unbinding again after a failed unbind' : 'binding expired: unbinding',
          {
            instanceId: expiry.instanceId,
            ...(expiry.retryOf ? { failedTaskId: expiry.retryOf } : {}),
            keyPairName: task.keyPairName,
            expiresAt: expiry.expiresAt.toISOString(),
            taskId: task.id,
            mode: task.mode,
          },
        );
        await deps.audit(
          systemCaller(task.accountId, task.requestId),
          'keypair:Unbind',
          [ref.keyPair(task.regionId, task.keyPairName), ref.instance(task.regionId, expiry.instanceId)],
          task.id,
        );
        deps.kick(task.id);
      }
      // Everything read was claimed elsewhere or changed since: the next round would read the same rows.
      if (claimed === 0 || due.length < BATCH) return made;
    }
  }

  return {
    /** One sweep now: every due expiry gets its unbind task (here, or already elsewhere). Returns how many made here. */
    sweep(): Promise<number> {
      // One sweep at a time in this process; a call during a sweep waits for it and its count.
      running ??= round().finally(() => {
        running = null;
      });
      return running;
    },
  };
}

export type ExpirySweeper = ReturnType<typeof createExpirySweeper>;
