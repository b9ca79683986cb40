/** Due binding expiries and their claims (migration 0014): one unbind task per instance and expiry, on any store. */
import { sql } from 'kysely';
import type { BindingExpiryRepo } from '../../core/ports.js';
import { fromMs, type RepoContext, toMs } from './common.js';

export function createBindingExpiryRepo({ db }: RepoContext): BindingExpiryRepo {
  return {
    async due(now, limit) {
      const rows = await db
        .selectFrom('instances as i')
        .select(['i.account_id', 'i.id', 'i.key_expires_at'])
        .where('i.key_expires_at', 'is not', null)
        .where('i.key_expires_at', '<=', toMs(now))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('binding_expiries as e')
                .select(sql`1`.as('one'))
                .whereRef('e.instance_id', '=', 'i.id')
                .whereRef('e.expires_at', '=', 'i.key_expires_at'),
            ),
          ),
        )
        .orderBy('i.key_expires_at')
        .orderBy('i.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ accountId: r.account_id, instanceId: r.id, expiresAt: fromMs(r.key_expires_at!) }));
    },
    async claim(expiry, taskId, now) {
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
