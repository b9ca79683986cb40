/**
 * Tasks and their items by kind and state, for the metrics endpoint, read at scrape time. Cheap by design: items
 * are never scanned. A task keeps its own counters (total, succeeded, failed, recounted as its items finish), so
 * finished items are summed from the tasks table; only the running items of unfinished tasks are counted, through
 * the unfinished-tasks and item-status indexes. Pending items are the rest of an unfinished task's total.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

export interface TaskCounts {
  tasks: Array<{ kind: string; state: string; count: number }>;
  items: Array<{ kind: string; state: string; count: number }>;
}

export async function countTasks(db: Kysely<Database>): Promise<TaskCounts> {
  const byTask = await db
    .selectFrom('tasks')
    .select([
      'kind',
      'status',
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(succeeded), 0)`.as('succeeded'),
      sql<number>`coalesce(sum(failed), 0)`.as('failed'),
      sql<number>`coalesce(sum(case when finished_at is null then total - succeeded - failed else 0 end), 0)`.as(
        'open',
      ),
    ])
    .groupBy(['kind', 'status'])
    .execute();
  const running = await db
    .selectFrom('tasks')
    .innerJoin('task_items', 'task_items.task_id', 'tasks.id')
    .where('tasks.finished_at', 'is', null)
    .where('task_items.status', '=', 'running')
    .select(['tasks.kind as kind', sql<number>`count(*)`.as('n')])
    .groupBy('tasks.kind')
    .execute();
  const items = new Map<string, Record<'pending' | 'running' | 'succeeded' | 'failed', number>>();
  const of = (kind: string) => {
    let c = items.get(kind);
    if (!c) items.set(kind, (c = { pending: 0, running: 0, succeeded: 0, failed: 0 }));
    return c;
  };
  for (const r of byTask) {
    const c = of(r.kind);
    c.succeeded += Number(r.succeeded);
    c.failed += Number(r.failed);
    c.pending += Number(r.open);
  }
  for (const r of running) {
    const c = of(r.kind);
    c.running += Number(r.n);
    c.pending = Math.max(0, c.pending - Number(r.n));
  }
  return {
    tasks: byTask.map((r) => ({ kind: r.kind, state: r.status, count: Number(r.n) })),
    items: [...items].flatMap(([kind, c]) => Object.entries(c).map(([state, count]) => ({ kind, state, count }))),
  };
}
