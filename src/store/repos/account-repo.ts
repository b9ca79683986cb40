import type { Account, ResourceGroup, Session } from '../../core/account/account.js';
import type { AccountRepo } from '../../core/ports.js';
import { accessKeyFromRow, userFromRow } from './account-rows.js';
import { createPolicyRepo } from './policy-repo.js';
import { fromMs, int, type RepoContext, toMs } from './common.js';

/** Accounts, users, access keys, sessions and resource groups; policies and groups are in policy-repo.ts. */
export function createAccountRepo(ctx: RepoContext): AccountRepo {
  const { db, dialect } = ctx;
  return {
    async insertAccount(a) {
      await db
        .insertInto('accounts')
        .values({ id: a.id, name: a.name, created_at: toMs(a.createdAt) })
        .execute();
    },
    async getAccount(id) {
      const r = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? ({ id: r.id, name: r.name, createdAt: fromMs(r.created_at) } satisfies Account) : null;
    },
    async getAccountByName(name) {
      const r = await db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
      return r ? { id: r.id, name: r.name, createdAt: fromMs(r.created_at) } : null;
    },
    async listAccounts() {
      const rows = await db.selectFrom('accounts').selectAll().orderBy('created_at').execute();
      return rows.map((r) => ({ id: r.id, name: r.name, createdAt: fromMs(r.created_at) }));
    },
    async insertUser(u) {
      await db
        .insertInto('users')
        .values({
          id: u.id,
          account_id: u.accountId,
          name: u.name,
          is_account_admin: int(u.isAccountAdmin),
          is_system_admin: int(u.isSystemAdmin),
          password_hash: u.passwordHash,
          created_at: toMs(u.createdAt),
          policies_version: u.policiesVersion,
        })
        .execute();
    },
    async getUser(accountId, id) {
      const r = await db
        .selectFrom('users')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? userFromRow(r) : null;
    },
    async getUserByName(accountId, name) {
      const r = await db
        .selectFrom('users')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? userFromRow(r) : null;
    },
    async updateUser(u) {
      await db
        .updateTable('users')
        .set({
          name: u.name,
          is_account_admin: int(u.isAccountAdmin),
          is_system_admin: int(u.isSystemAdmin),
          password_hash: u.passwordHash,
        })
        .where('id', '=', u.id)
        .where('account_id', '=', u.accountId)
        .execute();
    },
    async insertAccessKey(k) {
      await db
        .insertInto('access_keys')
        .values({
          id: k.id,
          account_id: k.accountId,
          user_id: k.userId,
          sealed_secret: k.sealedSecret,
          status: k.status,
          created_at: toMs(k.createdAt),
        })
        .execute();
    },
    async getAccessKey(id) {
      const r = await db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? accessKeyFromRow(r) : null;
    },
    async updateAccessKey(k) {
      await db
        .updateTable('access_keys')
        .set({ sealed_secret: k.sealedSecret, status: k.status })
        .where('id', '=', k.id)
        .where('account_id', '=', k.accountId)
        .execute();
    },
    async insertSession(s) {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          account_id: s.accountId,
          user_id: s.userId,
          token_hash: s.tokenHash,
          region_id: s.regionId,
          created_at: toMs(s.createdAt),
          expires_at: toMs(s.expiresAt),
          access_key_id: s.accessKeyId ?? null,
        })
        .execute();
    },
    async getSessionByTokenHash(hash) {
      const r = await db.selectFrom('sessions').selectAll().where('token_hash', '=', hash).executeTakeFirst();
      return r
        ? ({
            id: r.id,
            accountId: r.account_id,
            userId: r.user_id,
            tokenHash: r.token_hash,
            regionId: r.region_id,
            createdAt: fromMs(r.created_at),
            expiresAt: fromMs(r.expires_at),
            accessKeyId: r.access_key_id,
          } satisfies Session)
        : null;
    },
    async deleteSession(id) {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
    },
    async insertResourceGroup(g) {
      await db
        .insertInto('resource_groups')
        .values({ id: g.id, account_id: g.accountId, name: g.name, created_at: toMs(g.createdAt) })
        .execute();
    },
    async listResourceGroups(accountId) {
      const rows = await db
        .selectFrom('resource_groups')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(
        (r): ResourceGroup => ({ id: r.id, accountId: r.account_id, name: r.name, createdAt: fromMs(r.created_at) }),
      );
    },
    async lockResourceGroup(accountId, id, mode) {
      const q = db.selectFrom('resource_groups').selectAll().where('account_id', '=', accountId).where('id', '=', id);
      const r =
        dialect === 'postgres'
          ? await (mode === 'update' ? q.forUpdate() : q.forShare()).executeTakeFirst()
          : await q.executeTakeFirst();
      return r ? { id: r.id, accountId: r.account_id, name: r.name, createdAt: fromMs(r.created_at) } : null;
    },
    async renameResourceGroup(accountId, id, name) {
      await db
        .updateTable('resource_groups')
        .set({ name })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .execute();
    },
    async deleteResourceGroup(accountId, id) {
      await db.deleteFrom('resource_groups').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async resourceGroupMembers(accountId, id) {
      const count = async (table: 'key_pairs' | 'instances') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('account_id', '=', accountId)
              .where('resource_group_id', '=', id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      return { keyPairs: await count('key_pairs'), instances: await count('instances') };
    },
    async moveToResourceGroup(accountId, type, id, groupId) {
      const r = await db
        .updateTable(type === 'keypair' ? 'key_pairs' : 'instances')
        .set({ resource_group_id: groupId })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async getResourceGroup(accountId, id) {
      const r = await db
        .selectFrom('resource_groups')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? { id: r.id, accountId: r.account_id, name: r.name, createdAt: fromMs(r.created_at) } : null;
    },
    async listUsers(accountId) {
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('name')
        .execute();
      return rows.map(userFromRow);
    },
    async deleteUser(accountId, id) {
      await db.deleteFrom('user_policies').where('user_id', '=', id).execute();
      await db
        .deleteFrom('group_members')
        .where(
          'user_id',
          'in',
          db.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', id),
        )
        .execute();
      await db.deleteFrom('sessions').where('account_id', '=', accountId).where('user_id', '=', id).execute();
      await db.deleteFrom('access_keys').where('account_id', '=', accountId).where('user_id', '=', id).execute();
      await db.deleteFrom('users').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async listAccessKeys(accountId, userId) {
      const rows = await db
        .selectFrom('access_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute();
      return rows.map(accessKeyFromRow);
    },
    async deleteAccessKey(accountId, id) {
      await db.deleteFrom('access_keys').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async deleteSessionsOfUser(accountId, userId) {
      await db.deleteFrom('sessions').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
    },
    async deleteSessionsOfAccessKey(accountId, accessKeyId) {
      await db
        .deleteFrom('sessions')
        .where('account_id', '=', accountId)
        .where('access_key_id', '=', accessKeyId)
        .execute();
    },
    ...createPolicyRepo(ctx),
  };
}
