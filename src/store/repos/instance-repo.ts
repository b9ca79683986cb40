import { type Kysely, sql } from 'kysely';
import { CoreError } from '../../core/errors.js';
import type { BackendKind, Instance, InstanceStatus, OsType } from '../../core/instance/instance.js';
import type { InstanceFilter, InstanceRepo, Page } from '../../core/ports.js';
import type { Tag } from '../../core/keypair/keypair.js';
import type { Database, InstancesTable } from '../schema.js';
import { bool, containsPattern, fromMs, fromMsOrNull, int, likePattern, type RepoContext, toMs } from './common.js';
import { tagsOf } from './tag-repo.js';

function toRow(i: Instance): InstancesTable {
  return {
    id: i.id,
    account_id: i.accountId,
    region_id: i.regionId,
    zone_id: i.zoneId,
    name: i.name,
    host_name: i.hostName,
    description: i.description,
    image_id: i.imageId,
    instance_type: i.instanceType,
    os_type: i.osType,
    os_name: i.osName,
    status: i.status,
    backend: i.backend,
    address: i.address,
    ssh_port: i.sshPort,
    login_user: i.loginUser,
    resource_group_id: i.resourceGroupId,
    created_at: toMs(i.createdAt),
    updated_at: toMs(i.updatedAt),
    key_pair_id: i.keyPairId,
    key_pair_name: i.keyPairName,
    desired_public_key: i.desiredPublicKey,
    pending_password_hash: i.pendingPasswordHash,
    applied_public_key: i.appliedPublicKey,
    applied_password_login: int(i.appliedPasswordLogin),
    pending_restart: int(i.pendingRestart),
    has_password: int(i.hasPassword),
    host_key_sha256: i.hostKeySha256,
    start_after_provision: int(i.startAfterProvision),
    verified_at: i.verifiedAt ? toMs(i.verifiedAt) : null,
    verification: i.verification ?? null,
    home_dir: i.host?.homeDir ?? null,
    sshd_drop_in_path: i.host?.dropInPath ?? null,
    sshd_reload_command: i.host?.reloadCommand ?? null,
    sshd_validate_command: i.host?.validateCommand ?? null,
    management_user: i.host?.managementUser ?? null,
    sealed_management_key: i.host?.sealedManagementKey ?? null,
    password_login_policy: i.host?.passwordLogin ?? null,
    use_sudo: i.host ? int(i.host.sudo) : null,
    key_expires_at: i.keyExpiresAt ? toMs(i.keyExpiresAt) : null,
    binding_mode: i.bindingMode ?? null,
    applied_key_expires_at: i.appliedKeyExpiresAt ? toMs(i.appliedKeyExpiresAt) : null,
    root_keys_file: i.host?.rootKeysFile ?? null,
  };
}

function fromRow(r: InstancesTable, tags: Tag[]): Instance {
  return {
    id: r.id,
    accountId: r.account_id,
    regionId: r.region_id,
    zoneId: r.zone_id,
    name: r.name,
    hostName: r.host_name,
    description: r.description,
    imageId: r.image_id,
    instanceType: r.instance_type,
    osType: r.os_type as OsType,
    osName: r.os_name,
    status: r.status as InstanceStatus,
    backend: r.backend as BackendKind,
    address: r.address,
    sshPort: Number(r.ssh_port),
    loginUser: r.login_user,
    resourceGroupId: r.resource_group_id,
    tags,
    createdAt: fromMs(r.created_at),
    updatedAt: fromMs(r.updated_at),
    keyPairId: r.key_pair_id,
    keyPairName: r.key_pair_name,
    desiredPublicKey: r.desired_public_key,
    pendingPasswordHash: r.pending_password_hash,
    appliedPublicKey: r.applied_public_key,
    appliedPasswordLogin: bool(r.applied_password_login),
    pendingRestart: bool(r.pending_restart),
    hasPassword: bool(r.has_password),
    hostKeySha256: r.host_key_sha256,
    startAfterProvision: bool(r.start_after_provision),
    verifiedAt: fromMsOrNull(r.verified_at ?? null),
    verification: r.verification ?? null,
    // Only bindings that expire carry these (issue 19): an instance without one reads back as it was written.
    ...(r.key_expires_at != null ? { keyExpiresAt: fromMs(r.key_expires_at) } : {}),
    ...(r.applied_key_expires_at != null ? { appliedKeyExpiresAt: fromMs(r.applied_key_expires_at) } : {}),
    ...(r.binding_mode === 'live' || r.binding_mode === 'on-restart' ? { bindingMode: r.binding_mode } : {}),
    ...(r.home_dir
      ? {
          host: {
            homeDir: r.home_dir,
            dropInPath: r.sshd_drop_in_path ?? '',
            reloadCommand: r.sshd_reload_command ?? '',
            validateCommand: r.sshd_validate_command ?? '',
            managementUser: r.management_user ?? r.login_user,
            sealedManagementKey: r.sealed_management_key ?? null,
            passwordLogin: r.password_login_policy === 'unmanaged' ? 'unmanaged' : 'managed',
            sudo: r.use_sudo === 1,
            ...(r.root_keys_file ? { rootKeysFile: r.root_keys_file } : {}),
          },
        }
      : {}),
  };
}

/**
 * Whether an insert broke the index that makes a host unique per account, address and port (migration 0011):
 * PostgreSQL names the constraint; SQLite names its columns in the message.
 */
function isHostAddressTaken(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code === '23505') return e.constraint === 'instances_account_address';
  return (
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof e.message === 'string' &&
    e.message.includes('instances.account_id, instances.address, instances.ssh_port')
  );
}

async function withTags(db: Kysely<Database>, rows: InstancesTable[]): Promise<Instance[]> {
  if (rows.length === 0) return [];
  const tags = await tagsOf(
    db,
    'instance',
    rows.map((r) => r.id),
  );
  return rows.map((r) => fromRow(r, tags.get(r.id) ?? []));
}

export function createInstanceRepo({ db }: RepoContext): InstanceRepo {
  return {
    async insert(i) {
      try {
        await db.insertInto('instances').values(toRow(i)).execute();
        if (i.tags.length > 0)
          await db
            .insertInto('resource_tags')
            .values(
              i.tags.map((t) => ({
                account_id: i.accountId,
                region_id: i.regionId,
                resource_type: 'instance',
                resource_id: i.id,
                key: t.key,
                value: t.value,
              })),
            )
            .execute();
      } catch (err) {
        // Two registrations (or imports) of one host in one account at once: both passed the check before their
        // first contact, and the unique index keeps the first to commit. The other is told what the check says.
        if (isHostAddressTaken(err))
          throw new CoreError(
            'Instance.AlreadyRegistered',
            `${i.address}:${i.sshPort} is already an instance; delete that registration first.`,
            { host: i.address, port: i.sshPort },
          );
        throw err;
      }
    },
    async get(accountId, id) {
      const r = await db
        .selectFrom('instances')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? (await withTags(db, [r]))[0]! : null;
    },
    async getMany(accountId, ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('instances')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', 'in', ids)
        .execute();
      return withTags(db, rows);
    },
    async list(f: InstanceFilter): Promise<Page<Instance>> {
      let q = db.selectFrom('instances');
      if (f.accountId) q = q.where('account_id', '=', f.accountId);
      if (f.regionId) q = q.where('region_id', '=', f.regionId);
      if (f.ids) q = f.ids.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('id', 'in', f.ids);
      if (f.namePattern)
        q = f.namePattern.includes('*')
          ? q.where(sql<boolean>`name like ${likePattern(f.namePattern)} escape '\\'`)
          : q.where('name', '=', f.namePattern);
      if (f.search) {
        const p = containsPattern(f.search);
        q = q.where(
          sql<boolean>`(lower(id) like ${p} escape '\\' or lower(name) like ${p} escape '\\' or lower(address) like ${p} escape '\\' or lower(coalesce(key_pair_name, '')) like ${p} escape '\\')`,
        );
      }
      if (f.status) q = q.where('status', '=', f.status);
      if (f.statuses) q = q.where('status', 'in', f.statuses);
      if (f.keyPairName) q = q.where('key_pair_name', '=', f.keyPairName);
      if (f.resourceGroupId) q = q.where('resource_group_id', '=', f.resourceGroupId);
      for (const t of f.tags ?? []) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('resource_tags')
              .select('resource_id')
              .where('resource_tags.resource_type', '=', 'instance')
              .whereRef('resource_tags.resource_id', '=', 'instances.id')
              .where('resource_tags.key', '=', t.key)
              .$if(t.value !== '', (sq) => sq.where('resource_tags.value', '=', t.value)),
          ),
        );
      }
      if (f.backend) q = q.where('backend', '=', f.backend);
      if (f.pendingRestart !== undefined) q = q.where('pending_restart', '=', int(f.pendingRestart));
      if (f.expiringBefore) q = q.where('key_expires_at', '<=', toMs(f.expiringBefore));
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q.selectAll().orderBy('created_at').orderBy('id').offset(f.offset).limit(f.limit).execute();
      return { items: await withTags(db, rows), total: Number(total.n) };
    },
    // Tags and the resource group are not written here (see the key pair repository): a task that read the
    // instance before a tag change or a move never undoes it.
    async update(i) {
      const { id, account_id, resource_group_id: _group, ...rest } = toRow(i);
      await db.updateTable('instances').set(rest).where('id', '=', id).where('account_id', '=', account_id).execute();
    },
    async delete(accountId, id) {
      await db
        .deleteFrom('resource_tags')
        .where('account_id', '=', accountId)
        .where('resource_type', '=', 'instance')
        .where('resource_id', '=', id)
        .execute();
      await db.deleteFrom('instances').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async boundTo(accountId, keyPairId, limit) {
      const base = db.selectFrom('instances').where('account_id', '=', accountId).where('key_pair_id', '=', keyPairId);
      const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await base.select('id').orderBy('id').limit(limit).execute();
      return { items: rows.map((r) => r.id), total: Number(total.n) };
    },
    async nextSequence(name) {
      const r = await db
        .insertInto('sequences')
        .values({ name, value: 1 })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`sequences.value + 1` }))
        .returning('value')
        .executeTakeFirstOrThrow();
      return Number(r.value);
    },
  };
}
