/** Re-observation marks (migration 0018): claimed by compare-and-set, so one process asks a machine per round. */
import type { Reobservation, ReobservationRepo, WantedKeyState } from '../../core/binding/reobservation.js';
import type { ReobservationsTable } from '../schema.js';
import { bool, fromMs, fromMsOrNull, int, type RepoContext, toMs } from './common.js';

function fromRow(r: ReobservationsTable): Reobservation {
  return {
    accountId: r.account_id,
    instanceId: r.instance_id,
    taskId: r.task_id,
    wanted: JSON.parse(r.wanted) as WantedKeyState,
    oldPublicKey: r.old_public_key,
    passwordBefore: r.password_before === null ? null : bool(r.password_before),
    stateToken: r.state_token,
    attempts: Number(r.attempts),
    dueAt: fromMs(r.due_at),
    lastAskedAt: fromMsOrNull(r.last_asked_at),
    createdAt: fromMs(r.created_at),
  };
}

export function createReobservationRepo({ db, dialect }: RepoContext): ReobservationRepo {
  const stillClaimed = (c: Pick<Reobservation, 'instanceId' | 'taskId' | 'attempts'>) =>
    db
      .updateTable('reobservations')
      .where('instance_id', '=', c.instanceId)
      .where('task_id', '=', c.taskId)
      .where('attempts', '=', c.attempts);
  return {
    async put(m) {
      const row: ReobservationsTable = {
        instance_id: m.instanceId,
        account_id: m.accountId,
        task_id: m.taskId,
        wanted: JSON.stringify(m.wanted),
        old_public_key: m.oldPublicKey,
        password_before: m.passwordBefore === null ? null : int(m.passwordBefore),
        state_token: m.stateToken,
        attempts: m.attempts,
        due_at: toMs(m.dueAt),
        last_asked_at: m.lastAskedAt ? toMs(m.lastAskedAt) : null,
        created_at: toMs(m.createdAt),
      };
      const { instance_id: _id, ...rest } = row;
      await db
        .insertInto('reobservations')
        .values(row)
        .onConflict((oc) => oc.column('instance_id').doUpdateSet(rest))
        .execute();
    },
    async get(instanceId) {
      const r = await db
        .selectFrom('reobservations')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .executeTakeFirst();
      return r ? fromRow(r) : null;
    },
    async due(now, limit) {
      const rows = await db
        .selectFrom('reobservations')
        .selectAll()
        .where('due_at', '<=', toMs(now))
        .orderBy('due_at')
        .orderBy('instance_id')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
    async claim(m, until) {
      const result = await db
        .updateTable('reobservations')
        .set({ due_at: toMs(until), attempts: m.attempts + 1 })
        .where('instance_id', '=', m.instanceId)
        .where('task_id', '=', m.taskId)
        .where('attempts', '=', m.attempts)
        .where('due_at', '=', toMs(m.dueAt))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async reschedule(c, next) {
      const result = await stillClaimed(c)
        .set({ due_at: toMs(next.dueAt), last_asked_at: toMs(next.lastAskedAt), state_token: next.stateToken })
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(c) {
      const result = await db
        .deleteFrom('reobservations')
        .where('instance_id', '=', c.instanceId)
        .where('task_id', '=', c.taskId)
        .where('attempts', '=', c.attempts)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async lockInstance(accountId, instanceId) {
      if (dialect !== 'postgres') return;
      await db
        .selectFrom('instances')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', instanceId)
        .forUpdate()
        .execute();
    },
  };
}
