/**
 * Bindings that expire (issue 19): the expiry of each instance's binding (and the mode it was bound in, which an
 * extension and the expiry's unbind follow), and the claims of due expiries. A claim is keyed by the instance and
 * the expiry it ends, so however many processes sweep at once, one unbind task is made per expiry: the insert of
 * the claim and of its task commit together, and a second insert of the same key does nothing.
 */
import type { Kysely, Migration } from 'kysely';

export const bindingExpiry: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('instances').addColumn('key_expires_at', 'bigint').execute();
    await db.schema.alterTable('instances').addColumn('binding_mode', 'varchar(16)').execute();
    await db.schema.alterTable('instances').addColumn('applied_key_expires_at', 'bigint').execute();
    await db.schema.createIndex('instances_key_expires_at').on('instances').columns(['key_expires_at']).execute();
    await db.schema
      .createTable('binding_expiries')
      .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('task_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('claimed_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('binding_expiries_pk', ['instance_id', 'expires_at'])
      .execute();
  },
};
