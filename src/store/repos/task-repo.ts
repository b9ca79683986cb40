import { sql } from 'kysely';
import type { Page, TaskFilter, TaskRepo } from '../../core/ports.js';
import {
  type Task,
  type TaskItem,
  type TaskItemStatus,
  type TaskKind,
  type TaskMode,
  type TaskStatus,
  taskStatusOf,
} from '../../core/task/task.js';
import type { TaskItemsTable, TasksTable } from '../schema.js';
import { fromMs, fromMsOrNull, type RepoContext, toMs } from './common.js';

function taskToRow(t: Task): TasksTable {
  return {
    id: t.id,
    account_id: t.accountId,
    region_id: t.regionId,
    kind: t.kind,
    mode: t.mode,
    key_pair_id: t.keyPairId,
    key_pair_name: t.keyPairName,
    status: t.status,
    total: t.total,
    succeeded: t.succeeded,
    failed: t.failed,
    face: t.face,
    request_id: t.requestId,
    created_by: t.createdBy,
    created_at: toMs(t.createdAt),
    started_at: t.startedAt ? toMs(t.startedAt) : null,
    finished_at: t.finishedAt ? toMs(t.finishedAt) : null,
    options: JSON.stringify(t.options),
    submitter: t.submitter ? JSON.stringify(t.submitter) : null,
  };
}

function taskFromRow(r: TasksTable): Task {
  return {
    id: r.id,
    accountId: r.account_id,
    regionId: r.region_id,
    kind: r.kind as TaskKind,
    mode: r.mode as TaskMode,
    keyPairId: r.key_pair_id,
    keyPairName: r.key_pair_name,
    status: r.status as TaskStatus,
    total: Number(r.total),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    face: r.face,
    requestId: r.request_id,
    createdBy: r.created_by,
    createdAt: fromMs(r.created_at),
    startedAt: fromMsOrNull(r.started_at),
    finishedAt: fromMsOrNull(r.finished_at),
    options: JSON.parse(r.options) as Task['options'],
    submitter: r.submitter ? (JSON.parse(r.submitter) as Task['submitter']) : null,
  };
}

function itemToRow(i: TaskItem): TaskItemsTable {
  return {
    task_id: i.taskId,
    seq: i.seq,
    instance_id: i.instanceId,
    status: i.status,
    attempts: i.attempts,
    error_code: i.errorCode,
    error_message: i.errorMessage,
    note: i.note,
    started_at: i.startedAt ? toMs(i.startedAt) : null,
    finished_at: i.finishedAt ? toMs(i.finishedAt) : null,
    lease_owner: null,
    lease_until: null,
    payload: i.payload ? JSON.stringify(i.payload) : null,
  };
}

function itemFromRow(r: TaskItemsTable): TaskItem {
  return {
    taskId: r.task_id,
    seq: Number(r.seq),
    instanceId: r.instance_id,
    status: r.status as TaskItemStatus,
    attempts: Number(r.attempts),
    errorCode: r.error_code,
    errorMessage: r.error_message,
    note: r.note,
    startedAt: fromMsOrNull(r.started_at),
    finishedAt: fromMsOrNull(r.finished_at),
    payload: r.payload ? (JSON.parse(r.payload) as TaskItem['payload']) : null,
    intent: r.intent ? (JSON.parse(r.intent) as TaskItem['intent']) : null,
  };
}

/** Rows per multi-row INSERT: SQLite allows 32766 bound parameters per statement (13 columns per item). */
const INSERT_CHUNK = 500;

export function createTaskRepo({ db, dialect }: RepoContext): TaskRepo {
  /** Updates a running item only while `owner` holds it; true when it did. */
  async function extendLease(
    item: Pick<TaskItem, 'taskId' | 'seq'>,
    owner: string,
    set: { lease_until: number; intent?: string },
  ): Promise<boolean> {
    const r = await db
      .updateTable('task_items')
      .set(set)
      .where('task_id', '=', item.taskId)
      .where('seq', '=', item.seq)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  return {
    async insert(task, items) {
      await db.insertInto('tasks').values(taskToRow(task)).execute();
      for (let i = 0; i < items.length; i += INSERT_CHUNK) {
        await db
          .insertInto('task_items')
          .values(items.slice(i, i + INSERT_CHUNK).map(itemToRow))
          .execute();
      }
    },
    async get(accountId, id) {
      const r = await db
        .selectFrom('tasks')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? taskFromRow(r) : null;
    },
    async list(f: TaskFilter): Promise<Page<Task>> {
      let q = db.selectFrom('tasks').where('account_id', '=', f.accountId);
      if (f.regionId) q = q.where('region_id', '=', f.regionId);
      if (f.statuses) q = q.where('status', 'in', f.statuses);
      if (f.kinds) q = q.where('kind', 'in', f.kinds);
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .offset(f.offset)
        .limit(f.limit)
        .execute();
      return { items: rows.map(taskFromRow), total: Number(total.n) };
    },
    async items(taskId, f = {}) {
      let q = db.selectFrom('task_items').where('task_id', '=', taskId);
      if (f.status) q = q.where('status', '=', f.status);
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .selectAll()
        .orderBy('seq')
        .offset(f.offset ?? 0)
        .limit(f.limit ?? 10_000)
        .execute();
      return { items: rows.map(itemFromRow), total: Number(total.n) };
    },
    async unfinished() {
      const rows = await db
        .selectFrom('tasks')
        .selectAll()
        .where('finished_at', 'is', null)
        .orderBy('created_at')
        .execute();
      return rows.map(taskFromRow);
    },
    async claimItems(taskId, owner, now, leaseUntil, limit) {
      if (dialect === 'postgres') {
        // SKIP LOCKED lets several keyfleet processes share a task without waiting on each other. The pick is a
        // materialized CTE: as a plain IN-subquery PostgreSQL may evaluate it more than once and exceed the limit.
        const r = await sql<TaskItemsTable>`
          with picked as materialized (
            select seq from task_items where task_id = ${taskId} and status = 'pending' order by seq limit ${limit} for update skip locked
          )
          update task_items t set status = 'running', lease_owner = ${owner}, lease_until = ${toMs(leaseUntil)},
            started_at = ${toMs(now)}, attempts = t.attempts + 1
          from picked where t.task_id = ${taskId} and t.seq = picked.seq
          returning t.*`.execute(db);
        return r.rows.map(itemFromRow).sort((a, b) => a.seq - b.seq);
      }
      // SQLite: one writer at a time, so the plain subquery cannot race.
      const pick = db
        .selectFrom('task_items')
        .select('seq')
        .where('task_id', '=', taskId)
        .where('status', '=', 'pending')
        .orderBy('seq')
        .limit(limit);
      const rows = await db
        .updateTable('task_items')
        .set({
          status: 'running',
          lease_owner: owner,
          lease_until: toMs(leaseUntil),
          started_at: toMs(now),
          attempts: sql`attempts + 1`,
        })
        .where('task_id', '=', taskId)
        .where('status', '=', 'pending')
        .where('seq', 'in', pick)
        .returningAll()
        .execute();
      return rows.map(itemFromRow).sort((a, b) => a.seq - b.seq);
    },
    async finishItem(item, owner) {
      // An item with a payload (an import) finishes with what it produced: its new instance id and the host key
      // it pinned. Bind and unbind items carry none and keep their instance and (null) payload as inserted.
      const produced = item.payload ? { instance_id: item.instanceId, payload: JSON.stringify(item.payload) } : {};
      const r = await db
        .updateTable('task_items')
        .set({
          status: item.status,
          error_code: item.errorCode,
          error_message: item.errorMessage,
          note: item.note,
          finished_at: item.finishedAt ? toMs(item.finishedAt) : null,
          lease_owner: null,
          lease_until: null,
          intent: null,
          ...produced,
        })
        .where('task_id', '=', item.taskId)
        .where('seq', '=', item.seq)
        .where('status', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      const column = item.status === 'succeeded' ? 'succeeded' : 'failed';
      await db
        .updateTable('tasks')
        .set({ [column]: sql`${sql.ref(column)} + 1`, status: 'running' })
        .where('id', '=', item.taskId)
        .execute();
      return true;
    },
    async refresh(taskId, now) {
      const counts = await db
        .selectFrom('task_items')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('task_id', '=', taskId)
        .groupBy('status')
        .execute();
      const n = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
      const row = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
      const task = taskFromRow(row);
      task.succeeded = n('succeeded');
      task.failed = n('failed');
      const open = n('pending') + n('running');
      task.status = open > 0 ? (task.startedAt ? 'running' : 'queued') : taskStatusOf(task);
      const finishing = open === 0 && !task.finishedAt;
      if (finishing) task.finishedAt = now;
      let q = db
        .updateTable('tasks')
        .set({
          succeeded: task.succeeded,
          failed: task.failed,
          status: task.status,
          finished_at: task.finishedAt ? toMs(task.finishedAt) : null,
        })
        .where('id', '=', taskId);
      // Only one caller marks the task finished, even with several processes on one PostgreSQL.
      if (finishing) q = q.where('finished_at', 'is', null);
      const r = await q.executeTakeFirst();
      const finishedNow = finishing && Number(r.numUpdatedRows) === 1;
      if (finishing && !finishedNow) {
        const again = await db.selectFrom('tasks').select('finished_at').where('id', '=', taskId).executeTakeFirst();
        task.finishedAt = fromMsOrNull(again?.finished_at ?? null) ?? now;
      }
      // A task's credential lives exactly as long as the task runs (also when it finished elsewhere).
      if (task.finishedAt) await db.deleteFrom('task_credentials').where('task_id', '=', taskId).execute();
      return { ...task, finishedNow };
    },
    async renewLeases(owner, leaseUntil) {
      const rows = await db
        .updateTable('task_items')
        .set({ lease_until: toMs(leaseUntil) })
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .returning(['task_id', 'seq'])
        .execute();
      return rows.map((r) => ({ taskId: r.task_id, seq: Number(r.seq) }));
    },
    recordIntent: (item, owner, intent, leaseUntil) =>
      extendLease(item, owner, { intent: JSON.stringify(intent), lease_until: toMs(leaseUntil) }),
    holds: (item, owner, leaseUntil) => extendLease(item, owner, { lease_until: toMs(leaseUntil) }),
    async putCredential(taskId, sealed, now) {
      await db
        .insertInto('task_credentials')
        .values({ task_id: taskId, sealed, created_at: toMs(now) })
        .execute();
    },
    async credential(taskId) {
      const r = await db
        .selectFrom('task_credentials')
        .select('sealed')
        .where('task_id', '=', taskId)
        .executeTakeFirst();
      return r?.sealed ?? null;
    },
    async markStarted(taskId, now) {
      await db
        .updateTable('tasks')
        .set({ started_at: toMs(now), status: 'running' })
        .where('id', '=', taskId)
        .where('started_at', 'is', null)
        .execute();
    },
    async releaseLeases(which, now) {
      let q = db
        .updateTable('task_items')
        .set({ status: 'pending', lease_owner: null, lease_until: null })
        .where('status', '=', 'running');
      if (which === 'expired') q = q.where('lease_until', '<', toMs(now));
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async delete(accountId, ids) {
      if (ids.length === 0) return;
      const owned = db.selectFrom('tasks').select('id').where('account_id', '=', accountId).where('id', 'in', ids);
      await db.deleteFrom('task_items').where('task_id', 'in', owned).execute();
      await db.deleteFrom('task_credentials').where('task_id', 'in', owned).execute();
      await db.deleteFrom('tasks').where('account_id', '=', accountId).where('id', 'in', ids).execute();
    },
  };
}
