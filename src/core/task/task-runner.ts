/**
 * TaskRunner works through the items of durable tasks. An item is claimed under a lease only when it can start
 * (a free slot, its pacing time come; unpaced, a few more for the slots about to free up), executed by the executor registered for the task (by its
 * mode, or its kind: executorKey in task.ts), and finished one by one; a task ends when nothing is pending or
 * running. While an item runs its lease is renewed well before it expires; an item another runner took over
 * (this process was frozen or cut off past the lease) is told through its lease's signal, and its executor
 * checks the lease again before it touches the machine. On start every unfinished task is resumed. With
 * `itemsPerSecond` an operator paces fleet-wide changes (waves, not a stampede).
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { Clock } from '../clock.js';
import { taskFinishedEvent } from '../events/event.js';
import type { Logger, Repos, Store } from '../ports.js';
import { type ExecutorKey, executorKey, type ItemIntent, type Task, type TaskItem } from './task.js';

/** The lease of one running item, as its executor sees it. */
export interface ItemLease {
  readonly owner: string;
  /** Aborted when this runner learns that another runner holds the item now. */
  readonly signal: AbortSignal;
  /**
   * Records what the item is about to do to its machine and extends the lease; false: the lease is lost and the
   * item must stop before touching the machine (its result would not be recorded anyway).
   */
  recordIntent(intent: ItemIntent): Promise<boolean>;
  /** Whether this runner still holds the item (extends the lease if so): asked before undoing a change. */
  holds(): Promise<boolean>;
}

/** Runs the items of one kind of task; registered with the runner by the module that owns that kind. */
export interface TaskExecutor {
  /** Runs one item, claimed (status running) by `owner`, and records its outcome. */
  execute(task: Task, item: TaskItem, owner: string, lease: ItemLease): Promise<void>;
  /** Told once when a task this process ran has finished (to drop what it held for the task). */
  finished?(task: Task): void;
  /**
   * Records what the task came to (its outcome audit entries), inside the transaction that marks it finished:
   * called exactly once per task across every process sharing the store, and never lost to a crash in between.
   */
  recordOutcome?(tx: Repos, task: Task): Promise<void>;
}

export interface TaskRunnerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Unique per process, so a lease says who holds an item. */
  owner: string;
  concurrency: number;
  /** The most items claimed in one statement. */
  chunk: number;
  leaseMs: number;
  itemsPerSecond: number;
}

/** Items claimed beyond the free slots (unpaced), for the slots about to free up. */
const PREFETCH = 8;

/** Leases are renewed this often relative to their length: two renewals can fail before one expires. */
const RENEW_FRACTION = 3;

export function createTaskRunner(deps: TaskRunnerDeps) {
  const { store, clock, logger } = deps;
  // Per-task concurrency alone would let 200 one-instance tasks (KPS creates one per server) open 200 SSH
  // sessions at once; the same bound applies to the whole process.
  const slots = createSemaphore(deps.concurrency);
  const executors = new Map<ExecutorKey, TaskExecutor>();
  const running = new Map<string, Promise<void>>();
  const waiters = new Map<string, Array<(t: Task) => void>>();
  /** Progress listeners by task id (watchers of a task this process runs are told at once after each item). */
  const listeners = new Map<string, Set<() => void>>();
  const notify = (taskId: string) => {
    for (const cb of listeners.get(taskId) ?? []) cb();
  };
  let closed = false;
  /** When the last resumeAll read the store (the sweeper's heartbeat, for readiness). */
  let lastSweepAt: Date | null = null;
  let nextStartAt = 0;
  const leaseUntil = () => new Date(clock.now().getTime() + deps.leaseMs);

  /** Items this runner holds (claimed, not finished), by `taskId/seq`, with the abort of each one's lease. */
  const held = new Map<string, AbortController>();
  const heldKey = (i: { taskId: string; seq: number }) => `${i.taskId}/${i.seq}`;
  let stopRenewing: (() => void) | null = null;
  let renewing = false;

  async function renew(): Promise<void> {
    if (renewing || held.size === 0) return;
    renewing = true;
    try {
      const still = new Set((await store.tasks.renewLeases(deps.owner, leaseUntil())).map(heldKey));
      for (const [key, abort] of held) {
        if (still.has(key)) continue;
        // Claimed in the meantime rows are returned too; a missing one was taken over by another runner.
        abort.abort(new Error('the lease of this item was taken over by another runner'));
        held.delete(key);
        logger.warn('task item lease lost', { item: key });
      }
    } catch (err) {
      logger.warn('lease renewal failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      renewing = false;
    }
  }

  function hold(item: TaskItem): ItemLease {
    const abort = new AbortController();
    held.set(heldKey(item), abort);
    stopRenewing ??= clock.every(Math.max(1, Math.floor(deps.leaseMs / RENEW_FRACTION)), () => void renew());
    return {
      owner: deps.owner,
      signal: abort.signal,
      recordIntent: (intent) =>
        abort.signal.aborted
          ? Promise.resolve(false)
          : store.transaction((tx) => tx.tasks.recordIntent(item, deps.owner, intent, leaseUntil())),
      holds: () =>
        abort.signal.aborted
          ? Promise.resolve(false)
          : store.transaction((tx) => tx.tasks.holds(item, deps.owner, leaseUntil())),
    };
  }

  function release(item: TaskItem): void {
    held.delete(heldKey(item));
    if (held.size === 0 && stopRenewing) {
      stopRenewing();
      stopRenewing = null;
    }
  }

  async function pace(): Promise<void> {
    if (deps.itemsPerSecond <= 0) return;
    const interval = 1000 / deps.itemsPerSecond;
    const now = clock.now().getTime();
    const at = Math.max(now, nextStartAt);
    nextStartAt = at + interval;
    if (at > now) await clock.sleep(at - now);
  }

  async function work(taskId: string): Promise<void> {
    let task = await store.tasks.refresh(taskId, clock.now());
    const key = executorKey(task);
    const executor = executors.get(key);
    if (!executor) throw new Error(`no executor is registered for '${key}' tasks`);
    if (!task.startedAt) {
      await store.tasks.markStarted(taskId, clock.now());
      task = await store.tasks.refresh(taskId, clock.now());
    }
    // One dispatcher per task claims items only when they can start: it holds a free slot (the bound is
    // process-wide) and, when paced, the item's start time has come. Unpaced, it takes every slot free now and
    // claims that many in one statement, plus at most PREFETCH for the slots about to free up (one statement per
    // few items instead of one per item); those wait milliseconds, and their leases are renewed like running ones.
    const inFlight = new Set<Promise<void>>();
    const ready: Array<{ item: TaskItem; lease: ItemLease }> = [];
    let exhausted = false;
    const paced = deps.itemsPerSecond > 0;
    for (;;) {
      if (closed) break;
      await slots.acquire();
      let slotsHeld = 1;
      if (paced) await pace();
      else while (slotsHeld < deps.chunk && slots.tryAcquire()) slotsHeld++;
      let items: Array<{ item: TaskItem; lease: ItemLease }> = [];
      try {
        if (!closed && !exhausted && ready.length < slotsHeld) {
          const want = paced ? slotsHeld - ready.length : Math.min(deps.chunk, slotsHeld + PREFETCH) - ready.length;
          const now = clock.now();
          const claimed = await store.tasks.claimItems(
            taskId,
            deps.owner,
            now,
            new Date(now.getTime() + deps.leaseMs),
            want,
          );
          if (claimed.length === 0) exhausted = true;
          for (const item of claimed) ready.push({ item, lease: hold(item) });
        }
        if (!closed) items = ready.splice(0, slotsHeld);
      } finally {
        for (let n = items.length; n < slotsHeld; n++) slots.release();
      }
      if (items.length === 0) break;
      for (const { item, lease } of items) {
        const running: Promise<void> = executor
          .execute(task, item, deps.owner, lease)
          .catch((err: unknown) =>
            logger.error('task item failed unexpectedly', {
              taskId,
              seq: item.seq,
              error: err instanceof Error ? err.message : String(err),
            }),
          )
          .finally(() => {
            release(item);
            slots.release();
            inFlight.delete(running);
            notify(taskId);
          });
        inFlight.add(running);
      }
    }
    // Closing with claimed items not started: they are let go here and taken up again after their lease (or at once,
    // by the next start of a single-writer keyfleet).
    for (const { item } of ready.splice(0)) release(item);
    await Promise.all(inFlight);
    const done = await store.transaction(async (tx) => {
      const t = await tx.tasks.refresh(taskId, clock.now());
      if (t.finishedNow) await executor.recordOutcome?.(tx, t);
      // The webhook event of the finish is committed with it (or not at all): one per task, across processes.
      if (t.finishedNow) await tx.outbox.publish(taskFinishedEvent(t, clock.now()));
      return t;
    });
    if (done.finishedAt) {
      executor.finished?.(done);
      for (const resolve of waiters.get(taskId) ?? []) resolve(done);
      waiters.delete(taskId);
      notify(taskId);
    }
  }

  function kick(taskId: string): void {
    if (closed || running.has(taskId)) return;
    const p = work(taskId)
      .catch((err: unknown) =>
        logger.error('task run failed', { taskId, error: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => running.delete(taskId));
    running.set(taskId, p);
  }

  return {
    /** Registers the executor of one kind of task; the module that owns those tasks registers it once, at wiring. */
    register(key: ExecutorKey, executor: TaskExecutor): void {
      if (executors.has(key)) throw new Error(`an executor for '${key}' tasks is already registered`);
      executors.set(key, executor);
    },
    kick,
    /** Resumes every unfinished task (at start, and periodically to pick up work of a process that died). */
    async resumeAll(): Promise<number> {
      const tasks = await store.tasks.unfinished();
      lastSweepAt = clock.now();
      for (const t of tasks) kick(t.id);
      return tasks.length;
    },
    /** Resolves when the task has finished (immediately if it already has). */
    async waitFor(accountId: string, taskId: string): Promise<Task> {
      const t = await store.tasks.get(accountId, taskId);
      if (!t || t.finishedAt) return t!;
      return new Promise<Task>((resolve) => {
        const list = waiters.get(taskId) ?? [];
        list.push(resolve);
        waiters.set(taskId, list);
        // The task may have finished between the read above and registering.
        void store.tasks.get(accountId, taskId).then((again) => {
          if (again?.finishedAt) resolve(again);
        });
      });
    },
    /** Calls `cb` after each item of the task ends here (not for items run by another process); returns the unsubscribe. */
    subscribe(taskId: string, cb: () => void): () => void {
      const set = listeners.get(taskId) ?? new Set();
      set.add(cb);
      listeners.set(taskId, set);
      return () => {
        set.delete(cb);
        if (set.size === 0) listeners.delete(taskId);
      };
    },
    /**
     * Stops claiming, lets the items in flight finish, then hands back what this runner still holds (claimed, not
     * started): their leases are ended now rather than left to expire, so another process takes them at once.
     */
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...running.values()]);
      stopRenewing?.();
      stopRenewing = null;
      try {
        const now = clock.now();
        if ((await store.tasks.renewLeases(deps.owner, new Date(0))).length > 0)
          await store.tasks.releaseLeases('expired', now);
      } catch (err) {
        logger.warn('could not hand back claimed items; they return after their lease', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },
    /** Whether the runner works: not closed, and its sweeper read the store in the last `withinMs`. */
    alive(withinMs: number): boolean {
      return !closed && lastSweepAt !== null && clock.now().getTime() - lastSweepAt.getTime() <= withinMs;
    },
    active(): number {
      return running.size;
    },
  };
}

export type TaskRunner = ReturnType<typeof createTaskRunner>;
