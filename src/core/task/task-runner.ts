/**
 * TaskRunner works through the items of durable tasks. Items are claimed in chunks under a lease, executed with
 * bounded concurrency by the executor registered for the task (by its mode, or its kind: executorKey in task.ts), and finished one by one; a task ends when
 * nothing is pending or running. On start every unfinished task is resumed. With `itemsPerSecond` an operator
 * paces fleet-wide changes (waves, not a stampede).
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { Clock } from '../clock.js';
import type { Logger, Repos, Store } from '../ports.js';
import { type ExecutorKey, executorKey, type Task, type TaskItem } from './task.js';

/** Runs the items of one kind of task; registered with the runner by the module that owns that kind. */
export interface TaskExecutor {
  /** Runs one item, claimed (status running) by `owner`, and records its outcome. */
  execute(task: Task, item: TaskItem, owner: string): Promise<void>;
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
  chunk: number;
  leaseMs: number;
  itemsPerSecond: number;
}

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
  let nextStartAt = 0;

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
    // Workers share one queue and claim the next chunk when it runs dry, so a slow host holds one slot, not a
    // whole chunk: with chunk-at-a-time, the fleet waited for the slowest host of every chunk.
    const queue: TaskItem[] = [];
    let exhausted = false;
    let claiming: Promise<void> | null = null;
    const refill = (): Promise<void> =>
      (claiming ??= (async () => {
        const now = clock.now();
        const items = await store.tasks.claimItems(
          taskId,
          deps.owner,
          now,
          new Date(now.getTime() + deps.leaseMs),
          deps.chunk,
        );
        if (items.length === 0) exhausted = true;
        else queue.push(...items);
      })().finally(() => (claiming = null)));
    const worker = async () => {
      for (;;) {
        if (closed) return;
        const item = queue.shift();
        if (!item) {
          if (exhausted) return;
          await refill();
          continue;
        }
        await slots.acquire();
        try {
          await pace();
          await executor.execute(task, item, deps.owner);
        } finally {
          slots.release();
          notify(taskId);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, task.total) }, worker));
    const done = await store.tasks.refresh(taskId, clock.now());
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
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...running.values()]);
    },
    active(): number {
      return running.size;
    },
  };
}

export type TaskRunner = ReturnType<typeof createTaskRunner>;
