import { sql } from 'kysely';
import type { AccessKey, AccessKeyStatus, Account, Group, Policy, ResourceGroup, Session, User } from '../../core/account/account.js';
import type { PolicyDocument } from '../../core/authz/policy.js';
import type { AccountRepo } from '../../core/ports.js';
import type { AccessKeysTable, GroupsTable, PoliciesTable, UsersTable } from '../schema.js';
import { bool, fromMs, int, type RepoContext, toMs } from './common.js';

const userFromRow = (r: UsersTable): User => ({
  id: r.id, accountId: r.account_id, name: r.name, isAccountAdmin: bool(r.is_account_admin), isSystemAdmin: bool(r.is_system_admin),
  passwordHash: r.password_hash, createdAt: fromMs(r.created_at), policiesVersion: Number(r.policies_version),
});

const accessKeyFromRow = (r: AccessKeysTable): AccessKey => ({
  id: r.id, accountId: r.account_id, userId: r.user_id, sealedSecret: r.sealed_secret, status: r.status as AccessKeyStatus, createdAt: fromMs(r.created_at),
});

const policyFromRow = (r: PoliciesTable): Policy => ({
  id: r.id, accountId: r.account_id, name: r.name, description: r.description, document: JSON.parse(r.document) as PolicyDocument,
  createdAt: fromMs(r.created_at), updatedAt: fromMs(r.updated_at),
});

const groupFromRow = (r: GroupsTable): Group => ({ id: r.id, accountId: r.account_id, name: r.name, description: r.description, createdAt: fromMs(r.created_at) });

export function createAccountRepo({ db }: RepoContext): AccountRepo {
  /** The group, if it belongs to the account (every group query is scoped through this or a join on it). */
  const groupOf = (accountId: string, groupId: string) => db.selectFrom('groups').select('id').where('account_id', '=', accountId).where('id', '=', groupId);
  /** Bumps the policy version of the group's members: their policies in effect changed. Run after the change. */
  const bumpMembers = (accountId: string, groupId: string) =>
    db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('account_id', '=', accountId)
      .where('id', 'in', db.selectFrom('group_members').select('user_id').where('group_id', 'in', groupOf(accountId, groupId))).execute();
  return {
    async insertAccount(a) {
      await db.insertInto('accounts').values({ id: a.id, name: a.name, created_at: toMs(a.createdAt) }).execute();
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
      await db.insertInto('users').values({ id: u.id, account_id: u.accountId, name: u.name, is_account_admin: int(u.isAccountAdmin), is_system_admin: int(u.isSystemAdmin), password_hash: u.passwordHash, created_at: toMs(u.createdAt), policies_version: u.policiesVersion }).execute();
    },
    async getUser(accountId, id) {
      const r = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return r ? userFromRow(r) : null;
    },
    async getUserByName(accountId, name) {
      const r = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return r ? userFromRow(r) : null;
    },
    async updateUser(u) {
      await db.updateTable('users').set({ name: u.name, is_account_admin: int(u.isAccountAdmin), is_system_admin: int(u.isSystemAdmin), password_hash: u.passwordHash }).where('id', '=', u.id).where('account_id', '=', u.accountId).execute();
    },
    async insertAccessKey(k) {
      await db.insertInto('access_keys').values({ id: k.id, account_id: k.accountId, user_id: k.userId, sealed_secret: k.sealedSecret, status: k.status, created_at: toMs(k.createdAt) }).execute();
    },
    async getAccessKey(id) {
      const r = await db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? accessKeyFromRow(r) : null;
    },
    async updateAccessKey(k) {
      await db.updateTable('access_keys').set({ sealed_secret: k.sealedSecret, status: k.status }).where('id', '=', k.id).where('account_id', '=', k.accountId).execute();
    },
    async insertSession(s) {
      await db.insertInto('sessions').values({ id: s.id, account_id: s.accountId, user_id: s.userId, token_hash: s.tokenHash, region_id: s.regionId, created_at: toMs(s.createdAt), expires_at: toMs(s.expiresAt) }).execute();
    },
    async getSessionByTokenHash(hash) {
      const r = await db.selectFrom('sessions').selectAll().where('token_hash', '=', hash).executeTakeFirst();
      return r ? ({ id: r.id, accountId: r.account_id, userId: r.user_id, tokenHash: r.token_hash, regionId: r.region_id, createdAt: fromMs(r.created_at), expiresAt: fromMs(r.expires_at) } satisfies Session) : null;
    },
    async deleteSession(id) {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
    },
    async insertResourceGroup(g) {
      await db.insertInto('resource_groups').values({ id: g.id, account_id: g.accountId, name: g.name, created_at: toMs(g.createdAt) }).execute();
    },
    async listResourceGroups(accountId) {
      const rows = await db.selectFrom('resource_groups').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
      return rows.map((r): ResourceGroup => ({ id: r.id, accountId: r.account_id, name: r.name, createdAt: fromMs(r.created_at) }));
    },
    async getResourceGroup(accountId, id) {
      const r = await db.selectFrom('resource_groups').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return r ? { id: r.id, accountId: r.account_id, name: r.name, createdAt: fromMs(r.created_at) } : null;
    },
    async listUsers(accountId) {
      const rows = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('name').execute();
      return rows.map(userFromRow);
    },
    async deleteUser(accountId, id) {
      await db.deleteFrom('user_policies').where('user_id', '=', id).execute();
      await db.deleteFrom('group_members').where('user_id', 'in', db.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', id)).execute();
      await db.deleteFrom('sessions').where('account_id', '=', accountId).where('user_id', '=', id).execute();
      await db.deleteFrom('access_keys').where('account_id', '=', accountId).where('user_id', '=', id).execute();
      await db.deleteFrom('users').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async listAccessKeys(accountId, userId) {
      const rows = await db.selectFrom('access_keys').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId).orderBy('created_at').execute();
      return rows.map(accessKeyFromRow);
    },
    async deleteAccessKey(accountId, id) {
      await db.deleteFrom('access_keys').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async deleteSessionsOfUser(accountId, userId) {
      await db.deleteFrom('sessions').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
    },
    async insertPolicy(p) {
      await db.insertInto('policies').values({ id: p.id, account_id: p.accountId, name: p.name, description: p.description, document: JSON.stringify(p.document), created_at: toMs(p.createdAt), updated_at: toMs(p.updatedAt) }).execute();
    },
    async getPolicyByName(accountId, name) {
      const r = await db.selectFrom('policies').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return r ? policyFromRow(r) : null;
    },
    async listPolicies(accountId) {
      const rows = await db.selectFrom('policies').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
      return rows.map(policyFromRow);
    },
    async deletePolicy(accountId, id) {
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('id', 'in', db.selectFrom('user_policies').select('user_id').where('policy_id', '=', id)).execute();
      await db.deleteFrom('user_policies').where('policy_id', '=', id).execute();
      // Members of the groups it is attached to lose it too (as users it is attached to do).
      const mine = db.selectFrom('policies').select('id').where('account_id', '=', accountId).where('id', '=', id);
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('account_id', '=', accountId)
        .where('id', 'in', db.selectFrom('group_members').select('user_id').where('group_id', 'in', db.selectFrom('group_policies').select('group_id').where('policy_id', 'in', mine))).execute();
      await db.deleteFrom('group_policies').where('policy_id', 'in', mine).execute();
      await db.deleteFrom('policies').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async attachmentsOfPolicy(accountId, policyId) {
      const users = await db.selectFrom('users').innerJoin('user_policies', 'user_policies.user_id', 'users.id').select('users.name')
        .where('users.account_id', '=', accountId).where('user_policies.policy_id', '=', policyId).orderBy('users.name').execute();
      const groups = await db.selectFrom('groups').innerJoin('group_policies', 'group_policies.group_id', 'groups.id').select('groups.name')
        .where('groups.account_id', '=', accountId).where('group_policies.policy_id', '=', policyId).orderBy('groups.name').execute();
      return { users: users.map((u) => u.name), groups: groups.map((g) => g.name) };
    },
    async attachPolicy(userId, policyId) {
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('id', '=', userId).execute();
      await db.insertInto('user_policies').values({ user_id: userId, policy_id: policyId }).onConflict((oc) => oc.columns(['user_id', 'policy_id']).doNothing()).execute();
    },
    async detachPolicy(userId, policyId) {
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('id', '=', userId).execute();
      await db.deleteFrom('user_policies').where('user_id', '=', userId).where('policy_id', '=', policyId).execute();
    },
    async policiesOfUser(accountId, userId) {
      const rows = await db.selectFrom('policies').innerJoin('user_policies', 'user_policies.policy_id', 'policies.id')
        .selectAll('policies').where('policies.account_id', '=', accountId).where('user_policies.user_id', '=', userId).orderBy('policies.name').execute();
      return rows.map(policyFromRow);
    },
    async policiesInEffect(accountId, userId) {
      const viaGroups = db.selectFrom('group_policies').innerJoin('group_members', 'group_members.group_id', 'group_policies.group_id')
        .select('group_policies.policy_id').where('group_members.user_id', '=', userId);
      const rows = await db.selectFrom('policies').selectAll().where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('id', 'in', db.selectFrom('user_policies').select('policy_id').where('user_id', '=', userId)), eb('id', 'in', viaGroups)]))
        .orderBy('name').execute();
      return rows.map(policyFromRow);
    },
    async insertGroup(g) {
      await db.insertInto('groups').values({ id: g.id, account_id: g.accountId, name: g.name, description: g.description, created_at: toMs(g.createdAt) }).execute();
    },
    async getGroupByName(accountId, name) {
      const r = await db.selectFrom('groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return r ? groupFromRow(r) : null;
    },
    async listGroups(accountId) {
      const rows = await db.selectFrom('groups').selectAll('groups')
        .select((eb) => [
          eb.selectFrom('group_members').select((c) => c.fn.countAll<number>().as('n')).whereRef('group_members.group_id', '=', 'groups.id').as('member_count'),
          eb.selectFrom('group_policies').select((c) => c.fn.countAll<number>().as('n')).whereRef('group_policies.group_id', '=', 'groups.id').as('policy_count'),
        ])
        .where('account_id', '=', accountId).orderBy('name').execute();
      return rows.map((r) => ({ ...groupFromRow(r), memberCount: Number(r.member_count ?? 0), policyCount: Number(r.policy_count ?? 0) }));
    },
    async deleteGroup(accountId, id) {
      // Bumped first: the members are known only while the memberships exist (this runs in one transaction).
      await bumpMembers(accountId, id);
      await db.deleteFrom('group_members').where('group_id', 'in', groupOf(accountId, id)).execute();
      await db.deleteFrom('group_policies').where('group_id', 'in', groupOf(accountId, id)).execute();
      await db.deleteFrom('groups').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async addGroupMember(accountId, groupId, userId) {
      const user = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
      const group = await groupOf(accountId, groupId).executeTakeFirst();
      if (!user || !group) return;
      await db.insertInto('group_members').values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing()).execute();
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('account_id', '=', accountId).where('id', '=', userId).execute();
    },
    async removeGroupMember(accountId, groupId, userId) {
      await db.deleteFrom('group_members').where('group_id', 'in', groupOf(accountId, groupId)).where('user_id', '=', userId).execute();
      await db.updateTable('users').set({ policies_version: sql`policies_version + 1` }).where('account_id', '=', accountId).where('id', '=', userId).execute();
    },
    async membersOfGroup(accountId, groupId) {
      const rows = await db.selectFrom('users').innerJoin('group_members', 'group_members.user_id', 'users.id').selectAll('users')
        .where('users.account_id', '=', accountId).where('group_members.group_id', 'in', groupOf(accountId, groupId)).orderBy('users.name').execute();
      return rows.map(userFromRow);
    },
    async groupsOfUser(accountId, userId) {
      const rows = await db.selectFrom('groups').innerJoin('group_members', 'group_members.group_id', 'groups.id').selectAll('groups')
        .where('groups.account_id', '=', accountId).where('group_members.user_id', '=', userId).orderBy('groups.name').execute();
      return rows.map(groupFromRow);
    },
    async attachGroupPolicy(accountId, groupId, policyId) {
      const policy = await db.selectFrom('policies').select('id').where('account_id', '=', accountId).where('id', '=', policyId).executeTakeFirst();
      const group = await groupOf(accountId, groupId).executeTakeFirst();
      if (!policy || !group) return;
      await db.insertInto('group_policies').values({ group_id: groupId, policy_id: policyId }).onConflict((oc) => oc.columns(['group_id', 'policy_id']).doNothing()).execute();
      await bumpMembers(accountId, groupId);
    },
    async detachGroupPolicy(accountId, groupId, policyId) {
      await db.deleteFrom('group_policies').where('group_id', 'in', groupOf(accountId, groupId)).where('policy_id', '=', policyId).execute();
      await bumpMembers(accountId, groupId);
    },
    async policiesOfGroup(accountId, groupId) {
      const rows = await db.selectFrom('policies').innerJoin('group_policies', 'group_policies.policy_id', 'policies.id').selectAll('policies')
        .where('policies.account_id', '=', accountId).where('group_policies.group_id', 'in', groupOf(accountId, groupId)).orderBy('policies.name').execute();
      return rows.map(policyFromRow);
    },
  };
}
