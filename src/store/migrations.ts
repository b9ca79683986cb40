/**
 * The one set of migrations, written with Kysely's schema builder so that the same code runs on SQLite and
 * PostgreSQL. Never edit a migration that has shipped; add a new one.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { normalizeHostAddress } from '../common/address.js';
import { eventOutbox } from './migration-0013-event-outbox.js';
import { bindingExpiry } from './migration-0014-binding-expiry.js';
import { rotations } from './migration-0016-rotations.js';
import { sharedGuards } from './migration-0012-shared-guards.js';
import { revocations } from './migration-0015-revocations.js';
import { tags } from './migration-0017-tags.js';
import { reobservations } from './migration-0018-reobservations.js';

const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(128)', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('is_account_admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('is_system_admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('password_hash', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('users_account_name', ['account_id', 'name'])
      .execute();
    await db.schema
      .createTable('access_keys')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id'))
      .addColumn('sealed_secret', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().unique())
      .addColumn('region_id', 'varchar(64)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('resource_groups')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('resource_groups_account_name', ['account_id', 'name'])
      .execute();
    await db.schema
      .createTable('key_pairs')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('algorithm', 'varchar(64)', (c) => c.notNull())
      .addColumn('bits', 'integer', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint_md5', 'varchar(64)', (c) => c.notNull())
      .addColumn('fingerprint_sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('resource_group_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('escrowed_private_key', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('key_pairs_account_region_name', ['account_id', 'region_id', 'name'])
      .execute();
    await db.schema.createIndex('key_pairs_md5').on('key_pairs').columns(['account_id', 'fingerprint_md5']).execute();
    await db.schema
      .createIndex('key_pairs_sha256')
      .on('key_pairs')
      .columns(['account_id', 'fingerprint_sha256'])
      .execute();
    await db.schema
      .createTable('resource_tags')
      .addColumn('resource_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('key', 'varchar(128)', (c) => c.notNull())
      .addColumn('value', 'varchar(128)', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_tags_pk', ['resource_id', 'key'])
      .execute();
    await db.schema
      .createTable('instances')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('zone_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('host_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('image_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('instance_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('os_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('os_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('backend', 'varchar(16)', (c) => c.notNull())
      .addColumn('address', 'varchar(255)', (c) => c.notNull())
      .addColumn('ssh_port', 'integer', (c) => c.notNull())
      .addColumn('login_user', 'varchar(64)', (c) => c.notNull())
      .addColumn('resource_group_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('key_pair_id', 'varchar(64)')
      .addColumn('key_pair_name', 'varchar(255)')
      .addColumn('desired_public_key', 'text')
      .addColumn('pending_password_hash', 'text')
      .addColumn('applied_public_key', 'text')
      .addColumn('applied_password_login', 'integer', (c) => c.notNull())
      .addColumn('pending_restart', 'integer', (c) => c.notNull())
      .addColumn('has_password', 'integer', (c) => c.notNull())
      .addColumn('host_key_sha256', 'varchar(128)')
      .execute();
    await db.schema
      .createIndex('instances_account_region_name')
      .on('instances')
      .columns(['account_id', 'region_id', 'name'])
      .execute();
    await db.schema
      .createIndex('instances_account_key_pair')
      .on('instances')
      .columns(['account_id', 'key_pair_id'])
      .execute();
    await db.schema.createIndex('instances_status').on('instances').columns(['status']).execute();
    await db.schema
      .createIndex('instances_address')
      .on('instances')
      .columns(['address', 'ssh_port'])
      .unique()
      .execute();
    await db.schema
      .createTable('tasks')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('mode', 'varchar(16)', (c) => c.notNull())
      .addColumn('key_pair_id', 'varchar(64)')
      .addColumn('key_pair_name', 'varchar(255)')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('succeeded', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull())
      .addColumn('face', 'varchar(16)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await db.schema.createIndex('tasks_account_created').on('tasks').columns(['account_id', 'created_at']).execute();
    await db.schema.createIndex('tasks_unfinished').on('tasks').columns(['finished_at']).execute();
    await db.schema
      .createTable('task_items')
      .addColumn('task_id', 'varchar(64)', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'varchar(64)')
      .addColumn('error_message', 'text')
      .addColumn('note', 'text')
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('lease_owner', 'varchar(128)')
      .addColumn('lease_until', 'bigint')
      .addPrimaryKeyConstraint('task_items_pk', ['task_id', 'seq'])
      .execute();
    await db.schema.createIndex('task_items_status').on('task_items').columns(['task_id', 'status', 'seq']).execute();
    await db.schema
      .createTable('binding_events')
      .addColumn('task_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('action', 'varchar(16)', (c) => c.notNull())
      .addColumn('key_pair_id', 'varchar(64)')
      .addColumn('key_pair_name', 'varchar(255)')
      .addColumn('mode', 'varchar(16)', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('binding_events_pk', ['task_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('binding_events_instance')
      .on('binding_events')
      .columns(['account_id', 'instance_id'])
      .execute();
    await db.schema
      .createTable('sequences')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
  },
};

const identity: Migration = {
  async up(db: Kysely<any>) {
    // Bumped whenever the user's set of policies changes: the per-request permission cache checks only this.
    await db.schema
      .alterTable('users')
      .addColumn('policies_version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('policies')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('policies_account_name', ['account_id', 'name'])
      .execute();
    await db.schema
      .createTable('user_policies')
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('policy_id', 'varchar(64)', (c) => c.notNull().references('policies.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('user_policies_pk', ['user_id', 'policy_id'])
      .execute();
    await db.schema
      .createTable('audit_entries')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('access_key_id', 'varchar(128)')
      .addColumn('session_id', 'varchar(64)')
      .addColumn('face', 'varchar(16)', (c) => c.notNull())
      .addColumn('source_ip', 'varchar(64)', (c) => c.notNull())
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('resources', 'text', (c) => c.notNull())
      .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('result', 'varchar(16)', (c) => c.notNull())
      .addColumn('error_code', 'varchar(64)')
      .execute();
    await db.schema.createIndex('audit_account_at').on('audit_entries').columns(['account_id', 'at']).execute();
    await db.schema
      .createIndex('audit_account_user')
      .on('audit_entries')
      .columns(['account_id', 'user_name', 'at'])
      .execute();
    await db.schema
      .createIndex('audit_account_action')
      .on('audit_entries')
      .columns(['account_id', 'action', 'at'])
      .execute();
  },
};

/** Registered real hosts (ADR 9): where keyfleet writes on the host and how it logs in; null for simulated machines. */
const hosts: Migration = {
  async up(db: Kysely<any>) {
    // One column per statement: SQLite's ALTER TABLE adds one column at a time.
    for (const column of [
      'home_dir',
      'sshd_drop_in_path',
      'sshd_reload_command',
      'sshd_validate_command',
      'management_user',
      'sealed_management_key',
    ]) {
      await db.schema.alterTable('instances').addColumn(column, 'text').execute();
    }
  },
};

/** A registered host's password-login policy ('managed' | 'unmanaged'); null reads as 'managed'. */
const hostPasswordPolicy: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('instances').addColumn('password_login_policy', 'text').execute();
  },
};

/** Whether keyfleet runs its file operations and commands on a registered host through sudo (0/1; null reads as 0). */
const hostSudo: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('instances').addColumn('use_sudo', 'integer').execute();
  },
};

/**
 * Whether a Pending machine starts or rests Stopped once provisioned. Before this column a machine created stopped
 * and caught Pending by a restart was started; existing rows keep that meaning (1).
 */
const startAfterProvision: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('instances')
      .addColumn('start_after_provision', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
  },
};

/**
 * User groups (ADR 8): a group's members get the policies attached to it. Memberships and attachments are removed
 * by the repository, in the transaction that deletes a group, user or policy (as user_policies' are).
 */
const groups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('groups')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('groups_account_name', ['account_id', 'name'])
      .execute();
    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'varchar(64)', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
      .execute();
    // A user's groups are read on every change of its policies in effect.
    await db.schema.createIndex('group_members_user').on('group_members').columns(['user_id']).execute();
    await db.schema
      .createTable('group_policies')
      .addColumn('group_id', 'varchar(64)', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('policy_id', 'varchar(64)', (c) => c.notNull().references('policies.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_policies_pk', ['group_id', 'policy_id'])
      .execute();
    await db.schema.createIndex('group_policies_policy').on('group_policies').columns(['policy_id']).execute();
  },
};

/**
 * What a task item is about when it has no instance yet (an inventory import: the host row and the settings to
 * register it with; once done, the host key pinned), as JSON text; null for bind and unbind items. One nullable
 * column rather than a table of import rows: an item and its data are written, claimed, finished and deleted
 * together, so the existing item statements carry it and nothing has to be kept in step. Never a secret.
 */
const taskItemPayload: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('task_items').addColumn('payload', 'text').execute();
  },
};

/**
 * Live truth under faults (issue 16), in one migration so each part lands with its columns:
 * - task_items.intent: what an item is about to do to a machine and what it found there, written durably before
 *   the remote write, so an interrupted item is observed (not assumed) when it is taken up again;
 * - tasks.submitter: who submitted the task (not secret: ids and the source address), so a resumed task is
 *   authorized per item as its submitter, not as keyfleet itself;
 * - task_credentials: a live task's credential, sealed with the key-encryption key, for the task's lifetime only;
 * - instances.verified_at / verification: when a fresh login last proved the machine's key state, or why not;
 * - audit_entries.task_id / stage / detail: a task's outcome recorded as entries of its own, linked to the
 *   request that submitted it.
 */
const liveTruth: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('task_items').addColumn('intent', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('submitter', 'text').execute();
    await db.schema
      .createTable('task_credentials')
      .addColumn('task_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('instances').addColumn('verified_at', 'bigint').execute();
    await db.schema.alterTable('instances').addColumn('verification', 'text').execute();
    await db.schema.alterTable('audit_entries').addColumn('task_id', 'varchar(64)').execute();
    await db.schema
      .alterTable('audit_entries')
      .addColumn('stage', 'varchar(16)', (c) => c.notNull().defaultTo('request'))
      .execute();
    await db.schema.alterTable('audit_entries').addColumn('detail', 'text').execute();
    await db.schema.createIndex('audit_task').on('audit_entries').columns(['task_id']).execute();
  },
};

/**
 * Sessions die with their credential (issue 18): a session records the access key that opened it (null for a
 * password sign-in), so disabling or deleting that key ends it. Sessions from before this column cannot be traced
 * to a key, so they are ended here: everyone signs in again once, rather than a disabled key's sessions living on.
 */
const sessionAccessKey: Migration = {
  async up(db: Kysely<any>) {
    await db.deleteFrom('sessions').execute();
    await db.schema.alterTable('sessions').addColumn('access_key_id', 'varchar(64)').execute();
    await db.schema.createIndex('sessions_access_key').on('sessions').columns(['access_key_id']).execute();
  },
};

/**
 * Hosts are unique per account (issue 18): one account's record never decides another's answer. Stored addresses
 * are rewritten to their canonical form (src/common/address.ts) first; one that does not parse, or whose canonical
 * form the same account already holds, keeps its text.
 */
const hostAddressPerAccount: Migration = {
  async up(db: Kysely<any>) {
    const rows = await db
      .selectFrom('instances')
      .select(['id', 'account_id', 'address', 'ssh_port'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const key = (account: string, address: string, port: unknown) => `${account} ${address} ${Number(port)}`;
    const taken = new Set(rows.map((r) => key(r.account_id, r.address, r.ssh_port)));
    for (const r of rows) {
      const canonical = normalizeHostAddress(r.address)?.text;
      if (!canonical || canonical === r.address || taken.has(key(r.account_id, canonical, r.ssh_port))) continue;
      taken.delete(key(r.account_id, r.address, r.ssh_port));
      taken.add(key(r.account_id, canonical, r.ssh_port));
      await db.updateTable('instances').set({ address: canonical }).where('id', '=', r.id).execute();
    }
    await db.schema.dropIndex('instances_address').execute();
    await db.schema
      .createIndex('instances_account_address')
      .on('instances')
      .columns(['account_id', 'address', 'ssh_port'])
      .unique()
      .execute();
  },
};

export const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-identity': identity,
  '0003-hosts': hosts,
  '0004-host-password-policy': hostPasswordPolicy,
  '0005-host-sudo': hostSudo,
  '0006-groups': groups,
  '0007-start-after-provision': startAfterProvision,
  '0008-task-item-payload': taskItemPayload,
  '0009-live-truth': liveTruth,
  '0010-session-access-key': sessionAccessKey,
  '0011-host-address-per-account': hostAddressPerAccount,
  '0012-shared-guards': sharedGuards,
  '0013-event-outbox': eventOutbox,
  '0014-binding-expiry': bindingExpiry,
  '0015-revocations': revocations,
  '0016-rotations': rotations,
  '0017-tags': tags,
  '0018-reobservations': reobservations,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
