/** Due binding expiries and their claims (migration 0014): one unbind task per instance and expiry, on any store. */
import type { BindingExpiryRepo } from '../../core/ports.js';
import { fromMs, type RepoContext, toMs } from './common.js';

export function createBindingExpiryRepo({ db }: RepoContext): BindingExpiryRepo {
  return {
    async due(now, limit, retryFailedBefore) {
      // An expiry is due when it has no claim, or when its claim's task failed long enough ago (the machine was
      // unreachable through every attempt) and the binding still has that expiry. A task that succeeded is never
      // retried: a binding it left in place was extended or replaced, which changed the expiry.
      const rows = await db
        .selectFrom('instances as i')
        .leftJoin('binding_expiries as e', (j) =>
          j.onRef('e.instance_id', '=', 'i.id').onRef('e.expires_at', '=', 'i.key_expires_at'),
        )
        .leftJoin('tasks as t', 't.id', 'e.task_id')
        .select(['i.account_id', 'i.id', 'i.key_expires_at', 'e.task_id'])
        .where('i.key_expires_at', 'is not', null)
        .where('i.key_expires_at', '<=', toMs(now))
        .where((w) =>
          w.or([
            w('e.task_id', 'is', null),
            w('t.id', 'is', null),
            w.and([w('t.status', 'in', ['failed', 'partial']), w('t.finished_at', '<=', toMs(retryFailedBefore))]),
          ]),
        )
        .orderBy('i.key_expires_at')
        .orderBy('i.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        accountId: r.account_id,
        instanceId: r.id,
        expiresAt: fromMs(r.key_expires_at!),
        ...(r.task_id ? { retryOf: r.task_id } : {}),
      }));
    },
    async claim(expiry, taskId, now) {
      if (expiry.retryOf) {
        // A compare-and-set on the failed task: the first retry moves the claim to its task, any other finds
        // another task there and updates nothing.
        const result = await db
          .updateTable('binding_expiries')
          .set({ task_id: taskId, claimed_at: toMs(now) })
          .where('instance_id', '=', expiry.instanceId)
          .where('expires_at', '=', toMs(expiry.expiresAt))
          .where('task_id', '=', expiry.retryOf)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      }
      // The primary key (instance, expiry) decides: on PostgreSQL a concurrent insert of the same key waits for the
      // first transaction and then inserts nothing; SQLite has one writer.
      const result = await db
        .insertInto('binding_expiries')
        .values({
          instance_id: expiry.instanceId,
          expires_at: toMs(expiry.expiresAt),
          account_id: expiry.accountId,
          task_id: taskId,
          claimed_at: toMs(now),
        })
        .onConflict((oc) => oc.columns(['instance_id', 'expires_at']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}
