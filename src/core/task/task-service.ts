/**
 * Reading tasks and their items, watching one, deleting finished ones. Every read is task:Describe, every deletion
 * task:Delete, and nothing else (task-use-cases.ts): a face that lists failed tasks with the server each one
 * touched, or deletes all failed tasks of a region, needs no instance or key pair permission (Huawei's
 * ListFailedTask and DeleteAllFailedTask need only the task actions).
 */
import type { Caller } from '../caller.js';
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import type { Page, Store } from '../ports.js';
import type { Task, TaskItem, TaskKind, TaskStatus } from './task.js';
import { LIST_PAGE, pageOf } from '../paging.js';

export interface TaskServiceDeps {
  store: Store;
  clock: Clock;
  waitFor(accountId: string, taskId: string): Promise<Task>;
  /** Told after each item this process finishes; other processes' progress is read from the store. */
  subscribe(taskId: string, cb: () => void): () => void;
}

/** How often a watcher reads the store when no local item ended (a task run by another process). */
const WATCH_POLL_MS = 1_000;
/** At most this many updates per second go to a watcher: a 10,000-host task is not 10,000 messages. */
const WATCH_MIN_INTERVAL_MS = 100;

/** Which tasks a deletion may touch: a face that deletes "failed tasks" of one project names both. */
export interface TaskScope {
  regionId?: string;
  statuses?: TaskStatus[];
  /** Only tasks of these kinds: a task of another kind is answered like one that does not exist. */
  kinds?: TaskKind[];
}

/** A task with the item that represents it (its first failed item, else its first) and that item's instance name. */
export interface TaskOverview {
  task: Task;
  item: TaskItem | null;
  instanceName: string | null;
}

export type TaskListQuery = {
  regionId?: string;
  statuses?: TaskStatus[];
  kinds?: TaskKind[];
  offset?: number;
  limit?: number;
};
export type TaskItemQuery = { status?: TaskItem['status']; offset?: number; limit?: number };

const notFound = (id: unknown) =>
  new CoreError('Task.NotFound', `The task '${String(id).slice(0, 80)}' does not exist.`, {
    taskId: String(id).slice(0, 80),
  });
const clampList = (q: TaskListQuery) => pageOf(q, LIST_PAGE);

export function createTaskService({ store, clock, waitFor, subscribe }: TaskServiceDeps) {
  async function get(caller: Caller, id: string): Promise<Task> {
    const t = typeof id === 'string' ? await store.tasks.get(caller.accountId, id) : null;
    if (!t) throw notFound(id);
    return t;
  }

  async function representative(task: Task): Promise<TaskItem | null> {
    if (task.failed > 0) {
      const failed = await store.tasks.items(task.id, { status: 'failed', offset: 0, limit: 1 });
      if (failed.items[0]) return failed.items[0];
    }
    return (await store.tasks.items(task.id, { offset: 0, limit: 1 })).items[0] ?? null;
  }

  return {
    /** Waits for a task this caller just submitted, then reads all its items. */
    async finished(task: Task): Promise<{ task: Task; items: TaskItem[] }> {
      const done = await waitFor(task.accountId, task.id);
      const items = await store.tasks.items(task.id, { offset: 0, limit: task.total });
      return { task: done, items: items.items };
    },
    get,
    async list(caller: Caller, q: TaskListQuery): Promise<Page<Task>> {
      return store.tasks.list({
        accountId: caller.accountId,
        regionId: q.regionId,
        statuses: q.statuses,
        kinds: q.kinds,
        ...clampList(q),
      });
    },
    /**
     * Tasks with the item that stands for each and the name of its instance. The name is part of what the task
     * did, so task:Describe shows it; the instance itself stays governed by instance:Describe.
     */
    async overview(caller: Caller, q: TaskListQuery): Promise<Page<TaskOverview>> {
      const page = await store.tasks.list({
        accountId: caller.accountId,
        regionId: q.regionId,
        statuses: q.statuses,
        kinds: q.kinds,
        ...clampList(q),
      });
      const items = await Promise.all(page.items.map(representative));
      const ids = [...new Set(items.flatMap((i) => (i ? [i.instanceId] : [])))];
      const names = new Map<string, string>();
      if (ids.length > 0) {
        const found = await store.instances.list({ accountId: caller.accountId, ids, offset: 0, limit: ids.length });
        for (const inst of found.items) names.set(inst.id, inst.name);
      }
      return {
        total: page.total,
        items: page.items.map((task, n) => ({
          task,
          item: items[n] ?? null,
          instanceName: names.get(items[n]?.instanceId ?? '') ?? null,
        })),
      };
    },
    async items(caller: Caller, id: string, q: TaskItemQuery = {}): Promise<Page<TaskItem>> {
      await get(caller, id);
      return store.tasks.items(id, {
        status: q.status,
        ...pageOf(q, { limit: 100, max: 10_000 }),
      });
    },
    async waitFor(caller: Caller, id: string): Promise<Task> {
      await get(caller, id);
      return waitFor(caller.accountId, id);
    },
    /**
     * Streams a task's progress: `onUpdate` gets the task now and whenever its counts or status change, until it
     * finishes (resolves with the final task) or `signal` aborts (resolves with the last task seen).
     */
    async watch(caller: Caller, id: string, onUpdate: (t: Task) => void, signal?: AbortSignal): Promise<Task> {
      let last = await get(caller, id);
      onUpdate(last);
      // Each round waits for an item of this task to end here, or a poll interval (another process's progress),
      // or the watcher to leave; one controller per round, so every wait is cancelled when the round ends.
      let round = new AbortController();
      const unsubscribe = subscribe(last.id, () => round.abort());
      const onAbort = () => round.abort();
      signal?.addEventListener('abort', onAbort);
      try {
        while (!last.finishedAt && !signal?.aborted) {
          await clock.sleep(WATCH_POLL_MS, round.signal);
          round = new AbortController();
          if (signal?.aborted) break;
          await clock.sleep(WATCH_MIN_INTERVAL_MS, signal);
          const now = await store.tasks.get(caller.accountId, last.id);
          if (!now) break;
          if (
            now.succeeded !== last.succeeded ||
            now.failed !== last.failed ||
            now.status !== last.status ||
            Boolean(now.finishedAt) !== Boolean(last.finishedAt)
          )
            onUpdate(now);
          last = now;
        }
        return last;
      } finally {
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
      }
    },
    /**
     * Deletes finished tasks by id. Needs task:Delete only (not task:Describe as well). A task outside the scope's
     * region is answered like one that does not exist; one outside its statuses, or unfinished, is refused.
     */
    async delete(caller: Caller, ids: string[], scope: TaskScope = {}): Promise<void> {
      for (const id of ids) {
        const t = typeof id === 'string' ? await store.tasks.get(caller.accountId, id) : null;
        if (!t || (scope.regionId && t.regionId !== scope.regionId) || (scope.kinds && !scope.kinds.includes(t.kind)))
          throw notFound(id);
        if (!t.finishedAt || (scope.statuses && !scope.statuses.includes(t.status))) {
          throw new CoreError(
            'Task.NotFailed',
            `The task '${id}' is ${t.status}; only ${scope.statuses ? scope.statuses.join(' or ') : 'finished'} tasks can be deleted here.`,
            { taskId: id },
          );
        }
      }
      await store.tasks.delete(caller.accountId, ids);
    },
    /** Deletes every finished task in the scope (DeleteAllFailedTask): task:Delete on the region's tasks. */
    async deleteAll(caller: Caller, scope: TaskScope): Promise<number> {
      let deleted = 0;
      for (;;) {
        const page = await store.tasks.list({
          accountId: caller.accountId,
          regionId: scope.regionId,
          statuses: scope.statuses ?? ['succeeded', 'failed', 'partial'],
          kinds: scope.kinds,
          offset: 0,
          limit: 1000,
        });
        const done = page.items.filter((t) => t.finishedAt).map((t) => t.id);
        if (done.length === 0) return deleted;
        await store.tasks.delete(caller.accountId, done);
        deleted += done.length;
      }
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
