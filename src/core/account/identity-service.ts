/**
 * Users, access keys and policies of an account (managed by its administrators), and accounts (managed by the
 * system administrator). Secrets are shown once: access-key secrets are returned at creation and kept sealed;
 * passwords are kept as hashes only.
 */
import { randomBytes } from 'node:crypto';
import { parsePolicyDocument } from '../authz/policy.js';
import type { Caller } from '../caller.js';
import { accessKeyContext } from './account.js';
import { insertTenant } from './tenant.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { PasswordHasher, SecretBox, Store } from '../ports.js';
import type { AccessKey, AccessKeyStatus, Account, Group, GroupSummary, Policy, User } from './account.js';
import {
  ACCOUNT_NAME,
  CONSOLE_PASSWORD_MAX,
  CONSOLE_PASSWORD_MIN,
  GROUP_NAME,
  POLICY_NAME,
  POLICY_NAME_RULE,
  USER_NAME,
  USER_NAME_RULE,
} from '../../common/names.js';

export interface IdentityServiceDeps {
  store: Store;
  secrets: SecretBox;
  passwords: PasswordHasher;
  clock: Clock;
  ids: IdGen;
}

export const MAX_ACCESS_KEYS_PER_USER = 5;

/**
 * RAM's own limits (Alibaba Cloud RAM, "Limits"): custom policies per account, and policies attached to one user or
 * one user group. Each is checked in the transaction that would pass it; attaching a policy already attached is
 * not a new attachment and is never refused for the limit.
 */
export const MAX_POLICIES_PER_ACCOUNT = 1500;
export const MAX_POLICIES_PER_USER = 25;
export const MAX_POLICIES_PER_GROUP = 25;

export function newAccessKeyId(): string {
  return 'LTAI' + randomBytes(10).toString('hex').toUpperCase();
}

function checkPassword(password: unknown): string {
  if (
    typeof password !== 'string' ||
    password.length < CONSOLE_PASSWORD_MIN ||
    password.length > CONSOLE_PASSWORD_MAX
  ) {
    throw new CoreError('User.PasswordWeak', 'A console password must be 8 to 128 characters long.');
  }
  if ([/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length < 3) {
    throw new CoreError(
      'User.PasswordWeak',
      'A console password must use at least three of: upper-case, lower-case, digits, symbols.',
    );
  }
  return password;
}

export function createIdentityService(deps: IdentityServiceDeps) {
  const { store, secrets, passwords, clock, ids } = deps;

  async function userByName(caller: Caller, name: string): Promise<User> {
    const u = typeof name === 'string' ? await store.accounts.getUserByName(caller.accountId, name) : null;
    if (!u)
      throw new CoreError('User.NotFound', `The user '${String(name).slice(0, 64)}' does not exist.`, {
        userName: String(name).slice(0, 64),
      });
    return u;
  }

  async function policyByName(caller: Caller, name: string): Promise<Policy> {
    const p = typeof name === 'string' ? await store.accounts.getPolicyByName(caller.accountId, name) : null;
    if (!p)
      throw new CoreError('Policy.NotFound', `The policy '${String(name).slice(0, 64)}' does not exist.`, {
        policyName: String(name).slice(0, 64),
      });
    return p;
  }

  async function groupByName(caller: Caller, name: string): Promise<Group> {
    const g = typeof name === 'string' ? await store.accounts.getGroupByName(caller.accountId, name) : null;
    if (!g)
      throw new CoreError('Group.NotFound', `The group '${String(name).slice(0, 64)}' does not exist.`, {
        groupName: String(name).slice(0, 64),
      });
    return g;
  }

  async function makeAccessKey(
    accountId: string,
    userId: string,
  ): Promise<{ accessKeyId: string; accessKeySecret: string }> {
    const id = newAccessKeyId();
    const secret = randomBytes(24).toString('base64url');
    await store.accounts.insertAccessKey({
      id,
      accountId,
      userId,
      sealedSecret: secrets.seal(secret, accessKeyContext({ id, accountId })),
      status: 'Active',
      createdAt: clock.now(),
    });
    return { accessKeyId: id, accessKeySecret: secret };
  }

  return {
    async listUsers(caller: Caller): Promise<User[]> {
      return store.accounts.listUsers(caller.accountId);
    },

    async createUser(
      caller: Caller,
      input: { name: string; password?: string; isAccountAdmin?: boolean },
    ): Promise<User> {
      if (typeof input.name !== 'string' || !USER_NAME.test(input.name)) {
        throw new CoreError(
          'User.NameMalformed',
          `The user name '${String(input.name).slice(0, 64)}' is not valid: ${USER_NAME_RULE}.`,
        );
      }
      if (await store.accounts.getUserByName(caller.accountId, input.name)) {
        throw new CoreError('User.AlreadyExists', `A user named '${input.name}' already exists.`, {
          userName: input.name,
        });
      }
      const user: User = {
        id: ids.next('u-', 16),
        accountId: caller.accountId,
        name: input.name,
        isAccountAdmin: input.isAccountAdmin === true,
        isSystemAdmin: false,
        passwordHash: input.password === undefined ? null : await passwords.hash(checkPassword(input.password)),
        createdAt: clock.now(),
        policiesVersion: 0,
      };
      await store.accounts.insertUser(user);
      return user;
    },

    async deleteUser(caller: Caller, name: string): Promise<void> {
      const user = await userByName(caller, name);
      if (user.id === caller.userId) throw new CoreError('Input.Invalid', 'You cannot delete yourself.');
      await store.transaction((tx) => tx.accounts.deleteUser(caller.accountId, user.id));
    },

    async setPassword(caller: Caller, name: string, password: string | null): Promise<void> {
      const user = await userByName(caller, name);
      const hash = password === null ? null : await passwords.hash(checkPassword(password));
      await store.accounts.updateUser({ ...user, passwordHash: hash });
      await store.accounts.deleteSessionsOfUser(caller.accountId, user.id);
    },

    async listAccessKeys(caller: Caller, userName: string): Promise<AccessKey[]> {
      const user = await userByName(caller, userName);
      return store.accounts.listAccessKeys(caller.accountId, user.id);
    },

    async createAccessKey(caller: Caller, userName: string): Promise<{ accessKeyId: string; accessKeySecret: string }> {
      const user = await userByName(caller, userName);
      if ((await store.accounts.listAccessKeys(caller.accountId, user.id)).length >= MAX_ACCESS_KEYS_PER_USER) {
        throw new CoreError(
          'AccessKey.LimitExceeded',
          `A user can have at most ${MAX_ACCESS_KEYS_PER_USER} access keys.`,
        );
      }
      return makeAccessKey(caller.accountId, user.id);
    },

    async setAccessKeyStatus(caller: Caller, accessKeyId: string, status: AccessKeyStatus): Promise<void> {
      if (status !== 'Active' && status !== 'Inactive')
        throw new CoreError('Input.Invalid', "The status must be 'Active' or 'Inactive'.");
      const key = await store.accounts.getAccessKey(accessKeyId);
      if (!key || key.accountId !== caller.accountId)
        throw new CoreError('AccessKey.NotFound', `The access key '${accessKeyId}' does not exist.`);
      // A disabled key's sessions end with it, at once (resolveToken also refuses them, for a sign-in in flight).
      await store.transaction(async (tx) => {
        await tx.accounts.updateAccessKey({ ...key, status });
        if (status !== 'Active') await tx.accounts.deleteSessionsOfAccessKey(caller.accountId, key.id);
      });
    },

    async deleteAccessKey(caller: Caller, accessKeyId: string): Promise<void> {
      const key = await store.accounts.getAccessKey(accessKeyId);
      if (!key || key.accountId !== caller.accountId)
        throw new CoreError('AccessKey.NotFound', `The access key '${accessKeyId}' does not exist.`);
      await store.transaction(async (tx) => {
        await tx.accounts.deleteSessionsOfAccessKey(caller.accountId, key.id);
        await tx.accounts.deleteAccessKey(caller.accountId, key.id);
      });
    },

    async listPolicies(caller: Caller): Promise<Policy[]> {
      return store.accounts.listPolicies(caller.accountId);
    },

    async createPolicy(
      caller: Caller,
      input: { name: string; document: unknown; description?: string },
    ): Promise<Policy> {
      if (typeof input.name !== 'string' || !POLICY_NAME.test(input.name)) {
        throw new CoreError(
          'Policy.Malformed',
          `The policy name '${String(input.name).slice(0, 64)}' is not valid: ${POLICY_NAME_RULE}.`,
        );
      }
      const document = parsePolicyDocument(input.document);
      if (await store.accounts.getPolicyByName(caller.accountId, input.name)) {
        throw new CoreError('Policy.AlreadyExists', `A policy named '${input.name}' already exists.`, {
          policyName: input.name,
        });
      }
      const now = clock.now();
      const policy: Policy = {
        id: ids.next('pol-', 16),
        accountId: caller.accountId,
        name: input.name,
        description: (input.description ?? '').slice(0, 1024),
        document,
        createdAt: now,
        updatedAt: now,
      };
      await store.transaction(async (tx) => {
        if ((await tx.accounts.listPolicies(caller.accountId)).length >= MAX_POLICIES_PER_ACCOUNT)
          throw new CoreError(
            'Policy.LimitExceeded',
            `An account can have at most ${MAX_POLICIES_PER_ACCOUNT} policies; delete one before creating '${input.name}'.`,
            { policyName: input.name, limit: MAX_POLICIES_PER_ACCOUNT },
          );
        await tx.accounts.insertPolicy(policy);
      });
      return policy;
    },

    /**
     * Like RAM's DeletePolicy, a policy still attached to users or groups is not deleted: who would lose what it
     * allows is named instead. `force` detaches it from all of them and deletes it in one transaction.
     */
    async deletePolicy(caller: Caller, name: string, opts: { force?: boolean } = {}): Promise<void> {
      const p = await policyByName(caller, name);
      await store.transaction(async (tx) => {
        if (!opts.force) {
          const { users, groups } = await tx.accounts.attachmentsOfPolicy(caller.accountId, p.id);
          if (users.length || groups.length) {
            const list = (kind: string, names: string[]) =>
              names.length
                ? `${names.length} ${kind}${names.length === 1 ? '' : 's'} (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})`
                : '';
            throw new CoreError(
              'Policy.InUse',
              `The policy '${name}' is attached to ${[list('user', users), list('group', groups)].filter(Boolean).join(' and ')}; detach it first, or delete it with force to detach it from all of them.`,
              { policyName: name, users: users.slice(0, 100), groups: groups.slice(0, 100) },
            );
          }
        }
        await tx.accounts.deletePolicy(caller.accountId, p.id);
      });
    },

    async attachPolicy(caller: Caller, userName: string, policyName: string): Promise<void> {
      const [user, policy] = [await userByName(caller, userName), await policyByName(caller, policyName)];
      await store.transaction(async (tx) => {
        const attached = await tx.accounts.policiesOfUser(caller.accountId, user.id);
        if (attached.length >= MAX_POLICIES_PER_USER && !attached.some((p) => p.id === policy.id))
          throw new CoreError(
            'User.PolicyLimitExceeded',
            `A user can have at most ${MAX_POLICIES_PER_USER} policies attached; '${user.name}' has ${attached.length}. Detach one first, or attach the policy to a group of the user.`,
            { userName: user.name, policyName: policy.name, limit: MAX_POLICIES_PER_USER },
          );
        await tx.accounts.attachPolicy(user.id, policy.id);
      });
    },

    async detachPolicy(caller: Caller, userName: string, policyName: string): Promise<void> {
      const [user, policy] = [await userByName(caller, userName), await policyByName(caller, policyName)];
      await store.accounts.detachPolicy(user.id, policy.id);
    },

    async policiesOfUser(caller: Caller, userName: string): Promise<Policy[]> {
      const user = await userByName(caller, userName);
      return store.accounts.policiesOfUser(caller.accountId, user.id);
    },

    async groupsOfUser(caller: Caller, userName: string): Promise<Group[]> {
      const user = await userByName(caller, userName);
      return store.accounts.groupsOfUser(caller.accountId, user.id);
    },

    // -- user groups: a member's policies in effect are its own and its groups'; every change below takes effect
    // on the member's next request (it bumps the member's policies_version in the same transaction).

    async listGroups(caller: Caller): Promise<GroupSummary[]> {
      return store.accounts.listGroups(caller.accountId);
    },

    async createGroup(caller: Caller, input: { name: string; description?: string }): Promise<Group> {
      if (typeof input.name !== 'string' || !GROUP_NAME.test(input.name)) {
        throw new CoreError(
          'Input.Invalid',
          `The group name '${String(input.name).slice(0, 64)}' is not valid: ${USER_NAME_RULE}.`,
          { groupName: String(input.name).slice(0, 64) },
        );
      }
      if (await store.accounts.getGroupByName(caller.accountId, input.name)) {
        throw new CoreError('Group.AlreadyExists', `A group named '${input.name}' already exists.`, {
          groupName: input.name,
        });
      }
      const group: Group = {
        id: ids.next('grp-', 16),
        accountId: caller.accountId,
        name: input.name,
        description: (input.description ?? '').slice(0, 1024),
        createdAt: clock.now(),
      };
      try {
        await store.accounts.insertGroup(group);
      } catch (err) {
        // Two administrators creating the same name at once: the unique key decides.
        if (await store.accounts.getGroupByName(caller.accountId, input.name))
          throw new CoreError('Group.AlreadyExists', `A group named '${input.name}' already exists.`, {
            groupName: input.name,
          });
        throw err;
      }
      return group;
    },

    /** Deletes the group with its memberships and policy attachments; its members lose its policies. */
    async deleteGroup(caller: Caller, name: string): Promise<void> {
      const g = await groupByName(caller, name);
      await store.transaction((tx) => tx.accounts.deleteGroup(caller.accountId, g.id));
    },

    async getGroup(caller: Caller, name: string): Promise<{ group: Group; members: User[]; policies: Policy[] }> {
      const group = await groupByName(caller, name);
      const [members, policies] = [
        await store.accounts.membersOfGroup(caller.accountId, group.id),
        await store.accounts.policiesOfGroup(caller.accountId, group.id),
      ];
      return { group, members, policies };
    },

    async addUserToGroup(caller: Caller, groupName: string, userName: string): Promise<void> {
      const [group, user] = [await groupByName(caller, groupName), await userByName(caller, userName)];
      await store.transaction((tx) => tx.accounts.addGroupMember(caller.accountId, group.id, user.id));
    },

    async removeUserFromGroup(caller: Caller, groupName: string, userName: string): Promise<void> {
      const [group, user] = [await groupByName(caller, groupName), await userByName(caller, userName)];
      await store.transaction((tx) => tx.accounts.removeGroupMember(caller.accountId, group.id, user.id));
    },

    async attachGroupPolicy(caller: Caller, groupName: string, policyName: string): Promise<void> {
      const [group, policy] = [await groupByName(caller, groupName), await policyByName(caller, policyName)];
      await store.transaction(async (tx) => {
        const attached = await tx.accounts.policiesOfGroup(caller.accountId, group.id);
        if (attached.length >= MAX_POLICIES_PER_GROUP && !attached.some((p) => p.id === policy.id))
          throw new CoreError(
            'Group.PolicyLimitExceeded',
            `A group can have at most ${MAX_POLICIES_PER_GROUP} policies attached; '${group.name}' has ${attached.length}. Detach one first.`,
            { groupName: group.name, policyName: policy.name, limit: MAX_POLICIES_PER_GROUP },
          );
        await tx.accounts.attachGroupPolicy(caller.accountId, group.id, policy.id);
      });
    },

    async detachGroupPolicy(caller: Caller, groupName: string, policyName: string): Promise<void> {
      const [group, policy] = [await groupByName(caller, groupName), await policyByName(caller, policyName)];
      await store.transaction((tx) => tx.accounts.detachGroupPolicy(caller.accountId, group.id, policy.id));
    },

    async listAccounts(_caller: Caller): Promise<Account[]> {
      return store.accounts.listAccounts();
    },

    /** A new tenant with its administrator and default resource group; the secrets are returned once. */
    async createAccount(_caller: Caller, input: { name: string; adminName?: string; adminPassword?: string }) {
      if (typeof input.name !== 'string' || !ACCOUNT_NAME.test(input.name)) {
        throw new CoreError(
          'Input.Invalid',
          `The account name '${String(input.name).slice(0, 64)}' is not valid: ${USER_NAME_RULE}.`,
        );
      }
      if (await store.accounts.getAccountByName(input.name))
        throw new CoreError('Account.AlreadyExists', `An account named '${input.name}' already exists.`);
      const adminPassword =
        input.adminPassword === undefined
          ? randomBytes(12).toString('base64url') + 'aA1!'
          : checkPassword(input.adminPassword);
      const id = newAccessKeyId();
      const secret = randomBytes(24).toString('base64url');
      const { account, admin } = await insertTenant(deps, {
        accountName: input.name,
        adminName: input.adminName ?? 'admin',
        adminPassword,
        isSystemAdmin: false,
        accessKeyId: id,
        accessKeySecret: secret,
      });
      return {
        account,
        admin,
        accessKeyId: id,
        accessKeySecret: secret,
        adminPassword: input.adminPassword === undefined ? adminPassword : null,
      };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
