/**
 * The request guards' SQL (src/core/account/request-guard.ts): each operation is one statement, atomic on both
 * stores, so processes sharing a PostgreSQL never need a lock of their own.
 *
 * - firstUse: `INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING`: a row comes back when the digest was
 *   absent (inserted) or its record had expired (renewed); nothing when it is recorded and live. PostgreSQL's
 *   ON CONFLICT makes two concurrent inserts of one digest end with one inserted and one conflict.
 *   On the embedded store the calls of one event-loop turn go as one multi-row statement: SQLite has one writer
 *   and each statement is its own COMMIT, which costs more than the row (as group-commit.ts does for
 *   transactions). A digest twice in one batch: the first row inserts, the second conflicts with it, and the first
 *   caller in order gets the record.
 * - takeToken: a token bucket in one row, refilled and decremented by the same upsert; the row lock serialises
 *   the processes. Every SET expression reads the row as it was, on both stores.
 */
import { type Kysely, sql } from 'kysely';
import type { RequestGuardRepo } from '../../core/account/request-guard.js';
import type { Database } from '../schema.js';
import type { RepoContext } from './common.js';

/** Rows of one batched statement at most (two parameters each; far below SQLite's variable limit). */
const MAX_BATCH = 500;

type FirstUse = RequestGuardRepo['firstUse'];

/** The statement, for any number of rows; returns the digests it recorded. */
async function recordUses(
  db: Kysely<Database>,
  rows: ReadonlyArray<{ digest: string; expiresAt: Date }>,
  now: Date,
): Promise<Set<string>> {
  const values = sql.join(rows.map((r) => sql`(${r.digest}, cast(${r.expiresAt.getTime()} as bigint))`));
  const r = await sql<{ digest: string }>`
    insert into request_replays (digest, expires_at) values ${values}
    on conflict (digest) do update set expires_at = excluded.expires_at
      where request_replays.expires_at <= cast(${now.getTime()} as bigint)
    returning digest`.execute(db);
  return new Set(r.rows.map((x) => x.digest));
}

/** firstUse for SQLite: the calls of one turn share one statement (one COMMIT). */
function batchedFirstUse(db: Kysely<Database>): FirstUse {
  type Job = {
    digest: string;
    now: Date;
    expiresAt: Date;
    resolve: (v: boolean) => void;
    reject: (e: unknown) => void;
  };
  let queue: Job[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0) {
      const jobs = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      // The latest clock reading of the batch decides what has expired (the calls are a turn apart at most).
      const now = new Date(Math.max(...jobs.map((j) => j.now.getTime())));
      recordUses(db, jobs, now).then(
        (recorded) => {
          for (const j of jobs) j.resolve(recorded.delete(j.digest));
        },
        (err: unknown) => {
          for (const j of jobs) j.reject(err);
        },
      );
    }
  };
  return (digest, now, expiresAt) =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ digest, now, expiresAt, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

export function createRequestGuardRepo({ db, dialect }: RepoContext): RequestGuardRepo {
  // SQLite's multi-argument min/max are PostgreSQL's least/greatest.
  const least = sql.raw(dialect === 'postgres' ? 'least' : 'min');
  const greatest = sql.raw(dialect === 'postgres' ? 'greatest' : 'max');
  return {
    firstUse:
      // Not inside a transaction: a batch runs a turn later, when the transaction may have ended.
      dialect === 'sqlite' && !db.isTransaction
        ? batchedFirstUse(db)
        : async (digest, now, expiresAt) => (await recordUses(db, [{ digest, expiresAt }], now)).has(digest),
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
