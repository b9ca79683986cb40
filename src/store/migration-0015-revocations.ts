/**
 * Revocations (issue 19): a revocation and its machines (the report), leased by the process that works on it; and
 * where root's authorized_keys lives on a registered host (revocations scan it).
 */
import type { Kysely, Migration } from 'kysely';

export const revocations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('instances').addColumn('root_keys_file', 'text').execute();
    await db.schema
      .createTable('revocations')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('key_base64', 'text', (c) => c.notNull())
      .addColumn('key_json', 'text', (c) => c.notNull())
      .addColumn('key_pair_names', 'text', (c) => c.notNull())
      .addColumn('include_unmanaged', 'integer', (c) => c.notNull())
      .addColumn('retry_until', 'bigint')
      .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
      .addColumn('submitter', 'text', (c) => c.notNull())
      .addColumn('face', 'varchar(16)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('applied_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('next_run_at', 'bigint')
      .addColumn('machine_count', 'integer', (c) => c.notNull())
      .addColumn('counts', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'varchar(128)')
      .addColumn('lease_until', 'bigint')
      // The credential given with apply, sealed by the SecretBox, for unbinds submitted again; wiped at the end.
      .addColumn('sealed_credential', 'text')
      .execute();
    await db.schema
      .createIndex('revocations_account')
      .on('revocations')
      .columns(['account_id', 'region_id', 'created_at'])
      .execute();
    await db.schema.createIndex('revocations_due').on('revocations').columns(['status', 'next_run_at']).execute();
    await db.schema
      .createTable('revocation_machines')
      .addColumn('revocation_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('backend', 'varchar(16)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('address', 'varchar(255)', (c) => c.notNull())
      .addColumn('ssh_port', 'integer', (c) => c.notNull())
      .addColumn('bound_key_pair_name', 'varchar(255)')
      .addColumn('copies', 'text', (c) => c.notNull())
      .addColumn('users', 'text', (c) => c.notNull())
      .addColumn('files', 'text', (c) => c.notNull())
      .addColumn('scan_error', 'text')
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('verified_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('unbind_task_id', 'varchar(64)')
      .addColumn('removed_lines', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('revocation_machines_pk', ['revocation_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('revocation_machines_state')
      .on('revocation_machines')
      .columns(['revocation_id', 'state'])
      .execute();
  },
};
