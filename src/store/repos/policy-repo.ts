/** Policies, user groups and their attachments: the part of the account repository that decides permissions. */
import { sql } from 'kysely';
import type { AccountRepo } from '../../core/ports.js';
import { groupFromRow, policyFromRow, userFromRow } from './account-rows.js';
import { type RepoContext, toMs } from './common.js';

const BUMP = { policies_version: sql<number>`policies_version + 1` };

type PolicyMethods =
  | 'insertPolicy'
  | 'getPolicyByName'
  | 'listPolicies'
  | 'deletePolicy'
  | 'attachmentsOfPolicy'
  | 'attachPolicy'
  | 'detachPolicy'
  | 'policiesOfUser'
  | 'policiesInEffect'
  | 'insertGroup'
  | 'getGroupByName'
  | 'listGroups'
  | 'deleteGroup'
  | 'addGroupMember'
  | 'removeGroupMember'
  | 'membersOfGroup'
  | 'groupsOfUser'
  | 'attachGroupPolicy'
  | 'detachGroupPolicy'
  | 'policiesOfGroup';

export function createPolicyRepo({ db }: RepoContext): Pick<AccountRepo, PolicyMethods> {
  /** The group, if it belongs to the account (every group query is scoped through this or a join on it). */
  const groupOf = (accountId: string, groupId: string) =>
    db.selectFrom('groups').select('id').where('account_id', '=', accountId).where('id', '=', groupId);
  /** Bumps a user's policy version: the policies in effect changed, so the user's next request reads them again. */
  const bumpUser = (userId: string, accountId?: string) => {
    let q = db.updateTable('users').set(BUMP).where('id', '=', userId);
    if (accountId) q = q.where('account_id', '=', accountId);
    return q.execute();
  };
  /** Bumps the policy version of the group's members: their policies in effect changed. Run after the change. */
  const bumpMembers = (accountId: string, groupId: string) =>
    db
      .updateTable('users')
      .set(BUMP)
      .where('account_id', '=', accountId)
      .where(
        'id',
        'in',
        db.selectFrom('group_members').select('user_id').where('group_id', 'in', groupOf(accountId, groupId)),
      )
      .execute();
  return {
    async insertPolicy(p) {
      await db
        .insertInto('policies')
        .values({
          id: p.id,
          account_id: p.accountId,
          name: p.name,
          description: p.description,
          document: JSON.stringify(p.document),
          created_at: toMs(p.createdAt),
          updated_at: toMs(p.updatedAt),
        })
        .execute();
    },
    async getPolicyByName(accountId, name) {
      const r = await db
        .selectFrom('policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? policyFromRow(r) : null;
    },
    async listPolicies(accountId) {
      const rows = await db
        .selectFrom('policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('name')
        .execute();
      return rows.map(policyFromRow);
    },
    async deletePolicy(accountId, id) {
      await db
        .updateTable('users')
        .set(BUMP)
        .where('id', 'in', db.selectFrom('user_policies').select('user_id').where('policy_id', '=', id))
        .execute();
      await db.deleteFrom('user_policies').where('policy_id', '=', id).execute();
      // Members of the groups it is attached to lose it too (as users it is attached to do).
      const mine = db.selectFrom('policies').select('id').where('account_id', '=', accountId).where('id', '=', id);
      await db
        .updateTable('users')
        .set(BUMP)
        .where('account_id', '=', accountId)
        .where(
          'id',
          'in',
          db
            .selectFrom('group_members')
            .select('user_id')
            .where('group_id', 'in', db.selectFrom('group_policies').select('group_id').where('policy_id', 'in', mine)),
        )
        .execute();
      await db.deleteFrom('group_policies').where('policy_id', 'in', mine).execute();
      await db.deleteFrom('policies').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async attachmentsOfPolicy(accountId, policyId) {
      const users = await db
        .selectFrom('users')
        .innerJoin('user_policies', 'user_policies.user_id', 'users.id')
        .select('users.name')
        .where('users.account_id', '=', accountId)
        .where('user_policies.policy_id', '=', policyId)
        .orderBy('users.name')
        .execute();
      const groups = await db
        .selectFrom('groups')
        .innerJoin('group_policies', 'group_policies.group_id', 'groups.id')
        .select('groups.name')
        .where('groups.account_id', '=', accountId)
        .where('group_policies.policy_id', '=', policyId)
        .orderBy('groups.name')
        .execute();
      return { users: users.map((u) => u.name), groups: groups.map((g) => g.name) };
    },
    async attachPolicy(userId, policyId) {
      await bumpUser(userId);
      await db
        .insertInto('user_policies')
        .values({ user_id: userId, policy_id: policyId })
        .onConflict((oc) => oc.columns(['user_id', 'policy_id']).doNothing())
        .execute();
    },
    async detachPolicy(userId, policyId) {
      await bumpUser(userId);
      await db.deleteFrom('user_policies').where('user_id', '=', userId).where('policy_id', '=', policyId).execute();
    },
    async policiesOfUser(accountId, userId) {
      const rows = await db
        .selectFrom('policies')
        .innerJoin('user_policies', 'user_policies.policy_id', 'policies.id')
        .selectAll('policies')
        .where('policies.account_id', '=', accountId)
        .where('user_policies.user_id', '=', userId)
        .orderBy('policies.name')
        .execute();
      return rows.map(policyFromRow);
    },
    async policiesInEffect(accountId, userId) {
      const viaGroups = db
        .selectFrom('group_policies')
        .innerJoin('group_members', 'group_members.group_id', 'group_policies.group_id')
        .select('group_policies.policy_id')
        .where('group_members.user_id', '=', userId);
      const rows = await db
        .selectFrom('policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .where((eb) =>
          eb.or([
            eb('id', 'in', db.selectFrom('user_policies').select('policy_id').where('user_id', '=', userId)),
            eb('id', 'in', viaGroups),
          ]),
        )
        .orderBy('name')
        .execute();
      return rows.map(policyFromRow);
    },
    async insertGroup(g) {
      await db
        .insertInto('groups')
        .values({
          id: g.id,
          account_id: g.accountId,
          name: g.name,
          description: g.description,
          created_at: toMs(g.createdAt),
        })
        .execute();
    },
    async getGroupByName(accountId, name) {
      const r = await db
        .selectFrom('groups')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? groupFromRow(r) : null;
    },
    async listGroups(accountId) {
      const rows = await db
        .selectFrom('groups')
        .selectAll('groups')
        .select((eb) => [
          eb
            .selectFrom('group_members')
            .select((c) => c.fn.countAll<number>().as('n'))
            .whereRef('group_members.group_id', '=', 'groups.id')
            .as('member_count'),
          eb
            .selectFrom('group_policies')
            .select((c) => c.fn.countAll<number>().as('n'))
            .whereRef('group_policies.group_id', '=', 'groups.id')
            .as('policy_count'),
        ])
        .where('account_id', '=', accountId)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({
        ...groupFromRow(r),
        memberCount: Number(r.member_count ?? 0),
        policyCount: Number(r.policy_count ?? 0),
      }));
    },
    async deleteGroup(accountId, id) {
      // Bumped first: the members are known only while the memberships exist (this runs in one transaction).
      await bumpMembers(accountId, id);
      await db.deleteFrom('group_members').where('group_id', 'in', groupOf(accountId, id)).execute();
      await db.deleteFrom('group_policies').where('group_id', 'in', groupOf(accountId, id)).execute();
      await db.deleteFrom('groups').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async addGroupMember(accountId, groupId, userId) {
      const user = await db
        .selectFrom('users')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', userId)
        .executeTakeFirst();
      const group = await groupOf(accountId, groupId).executeTakeFirst();
      if (!user || !group) return;
      await db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId })
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .execute();
      await bumpUser(userId, accountId);
    },
    async removeGroupMember(accountId, groupId, userId) {
      await db
        .deleteFrom('group_members')
        .where('group_id', 'in', groupOf(accountId, groupId))
        .where('user_id', '=', userId)
        .execute();
      await bumpUser(userId, accountId);
    },
    async membersOfGroup(accountId, groupId) {
      const rows = await db
        .selectFrom('users')
        .innerJoin('group_members', 'group_members.user_id', 'users.id')
        .selectAll('users')
        .where('users.account_id', '=', accountId)
        .where('group_members.group_id', 'in', groupOf(accountId, groupId))
        .orderBy('users.name')
        .execute();
      return rows.map(userFromRow);
    },
    async groupsOfUser(accountId, userId) {
      const rows = await db
        .selectFrom('groups')
        .innerJoin('group_members', 'group_members.group_id', 'groups.id')
        .selectAll('groups')
        .where('groups.account_id', '=', accountId)
        .where('group_members.user_id', '=', userId)
        .orderBy('groups.name')
        .execute();
      return rows.map(groupFromRow);
    },
    async attachGroupPolicy(accountId, groupId, policyId) {
      const policy = await db
        .selectFrom('policies')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', policyId)
        .executeTakeFirst();
      const group = await groupOf(accountId, groupId).executeTakeFirst();
      if (!policy || !group) return;
      await db
        .insertInto('group_policies')
        .values({ group_id: groupId, policy_id: policyId })
        .onConflict((oc) => oc.columns(['group_id', 'policy_id']).doNothing())
        .execute();
      await bumpMembers(accountId, groupId);
    },
    async detachGroupPolicy(accountId, groupId, policyId) {
      await db
        .deleteFrom('group_policies')
        .where('group_id', 'in', groupOf(accountId, groupId))
        .where('policy_id', '=', policyId)
        .execute();
      await bumpMembers(accountId, groupId);
    },
    async policiesOfGroup(accountId, groupId) {
      const rows = await db
        .selectFrom('policies')
        .innerJoin('group_policies', 'group_policies.policy_id', 'policies.id')
        .selectAll('policies')
        .where('policies.account_id', '=', accountId)
        .where('group_policies.group_id', 'in', groupOf(accountId, groupId))
        .orderBy('policies.name')
        .execute();
      return rows.map(policyFromRow);
    },
  };
}
