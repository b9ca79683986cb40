/**
 * Rotations in waves (issue 19): the rotation (its plan, state, version and sealed live credential), its waves (the
 * claim of each attempt: status and task) and one row per machine with its wave and result.
 */
import type { Kysely, Migration } from 'kysely';

export const rotations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rotations')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('from_key_pair_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('from_key_pair_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('to_key_pair_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('to_key_pair_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('mode', 'varchar(16)', (c) => c.notNull())
      .addColumn('port', 'integer')
      .addColumn('canary_size', 'integer', (c) => c.notNull())
      .addColumn('wave_size', 'integer', (c) => c.notNull())
      .addColumn('pause_ms', 'bigint', (c) => c.notNull())
      .addColumn('max_failures', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('succeeded', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull())
      .addColumn('wave_count', 'integer', (c) => c.notNull())
      .addColumn('next_wave_at', 'bigint')
      .addColumn('face', 'varchar(16)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
      .addColumn('submitter', 'text')
      .addColumn('sealed_credential', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rotations_account').on('rotations').columns(['account_id', 'created_at']).execute();
    await db.schema.createIndex('rotations_status').on('rotations').columns(['status']).execute();
    await db.schema
      .createTable('rotation_waves')
      .addColumn('rotation_id', 'varchar(64)', (c) => c.notNull().references('rotations.id'))
      .addColumn('n', 'integer', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('task_id', 'varchar(64)')
      .addColumn('succeeded', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('rotation_waves_pk', ['rotation_id', 'n'])
      .execute();
    await db.schema.createIndex('rotation_waves_status').on('rotation_waves').columns(['status']).execute();
    await db.schema
      .createTable('rotation_machines')
      .addColumn('rotation_id', 'varchar(64)', (c) => c.notNull().references('rotations.id'))
      .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('wave', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('task_id', 'varchar(64)')
      .addColumn('error_code', 'varchar(64)')
      .addColumn('detail', 'text')
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('rotation_machines_pk', ['rotation_id', 'instance_id'])
      .execute();
    await db.schema
      .createIndex('rotation_machines_wave')
      .on('rotation_machines')
      .columns(['rotation_id', 'wave', 'position'])
      .execute();
  },
};
