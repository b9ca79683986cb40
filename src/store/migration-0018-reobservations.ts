/**
 * Re-observations (ADR 26): the instances whose live change was interrupted while the machine did not answer, one
 * row each, written with the item's Live.StateUnknown, asked again until the machine answers. `wanted` is the key
 * state the change wanted (JSON: key pair id, name and public key, expiry, password login, port; never a secret).
 * A claim moves `due_at` forward and adds one to `attempts` by compare-and-set, so in a cluster one process asks.
 */
import type { Kysely, Migration } from 'kysely';

export const reobservations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('reobservations')
      .addColumn('instance_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('task_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('wanted', 'text', (c) => c.notNull())
      .addColumn('old_public_key', 'text')
      .addColumn('password_before', 'integer')
      .addColumn('state_token', 'varchar(64)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('last_asked_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('reobservations_due').on('reobservations').columns(['due_at']).execute();
  },
};
