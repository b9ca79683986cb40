/**
 * The request guards' SQL (src/core/account/request-guard.ts): each operation is one statement, atomic on both
 * stores, so processes sharing a PostgreSQL never need a lock of their own.
 *
 * - firstUse: `INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING`: a row comes back when the digest was
 *   absent (inserted) or its record had expired (renewed); nothing when it is recorded and live. PostgreSQL's
 *   ON CONFLICT makes two concurrent inserts of one digest end with one inserted and one conflict.
 * - takeToken: a token bucket in one row, refilled and decremented by the same upsert; the row lock serialises
 *   the processes. Every SET expression reads the row as it was, on both stores.
 */
import { sql } from 'kysely';
import type { RequestGuardRepo } from '../../core/account/request-guard.js';
import type { RepoContext } from './common.js';

export function createRequestGuardRepo({ db, dialect }: RepoContext): RequestGuardRepo {
  // SQLite's multi-argument min/max are PostgreSQL's least/greatest.
  const least = sql.raw(dialect === 'postgres' ? 'least' : 'min');
  const greatest = sql.raw(dialect === 'postgres' ? 'greatest' : 'max');
  return {
    async firstUse(digest, now, expiresAt) {
      const r = await sql<{ digest: string }>`
        insert into request_replays (digest, expires_at) values (${digest}, cast(${expiresAt.getTime()} as bigint))
        on conflict (digest) do update set expires_at = excluded.expires_at
          where request_replays.expires_at <= cast(${now.getTime()} as bigint)
        returning digest`.execute(db);
      return r.rows.length === 1;
    },
    async sweepUses(now) {
      const r = await db.deleteFrom('request_replays').where('expires_at', '<=', now.getTime()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async takeToken(bucket, now, perSecond, burst) {
      const at = sql`cast(${now.getTime()} as bigint)`;
      const cap = sql`cast(${burst} as double precision)`;
      const refilled = sql`${least}(${cap}, rate_buckets.tokens + ${greatest}(0, ${at} - rate_buckets.at) * cast(${perSecond} as double precision) / 1000.0)`;
      const r = await sql<{ tokens: number; ok: number }>`
        insert into rate_buckets (bucket, tokens, at, ok)
          values (${bucket}, ${cap} - 1, ${at}, 1)
        on conflict (bucket) do update set
          tokens = case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end,
          ok = case when ${refilled} >= 1 then 1 else 0 end,
          at = ${greatest}(${at}, rate_buckets.at)
        returning tokens, ok`.execute(db);
      const row = r.rows[0]!;
      return { ok: Number(row.ok) === 1, tokens: Number(row.tokens) };
    },
    async sweepBuckets(idleBefore) {
      const r = await db.deleteFrom('rate_buckets').where('at', '<', idleBefore.getTime()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
