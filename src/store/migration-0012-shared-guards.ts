/**
 * Migration 0012: request guards shared by every keyfleet process on one store (issue 17).
 *
 * - `request_replays`: one row per signed request that may be used once (an ECS signature nonce, a KPS mutating
 *   request's signature), keyed by a digest of (face, access key, value), kept until the request's timestamp has
 *   left the freshness window. The primary key makes "insert if absent" one atomic statement on both stores.
 * - `rate_buckets`: the token bucket of an access key or session when several processes share a PostgreSQL store
 *   (the embedded store has one process and keeps its buckets in memory).
 */
import type { Kysely, Migration } from 'kysely';

export const sharedGuards: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('request_replays')
      .addColumn('digest', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('request_replays_expires').on('request_replays').column('expires_at').execute();
    await db.schema
      .createTable('rate_buckets')
      .addColumn('bucket', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .execute();
    // No index on `at`: every request updates it, and an indexed column would make each update a new index entry
    // (no HOT update on PostgreSQL). The rare sweep of idle buckets reads this small table (a row per active key).
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('rate_buckets').execute();
    await db.schema.dropTable('request_replays').execute();
  },
};
