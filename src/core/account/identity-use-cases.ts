/**
 * Users, access keys, policies, groups and accounts as faces call them. Managing identity is for account
 * administrators; a user may manage their own password and access keys and read their own policies and groups;
 * accounts belong to the system administrator.
 */
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { AccountService } from './account-service.js';
import type { IdentityService } from './identity-service.js';

export function identityUseCases(svc: IdentityService, accounts: AccountService, store: Store) {
  const user = (name: unknown) => ref.iam('user', name);
  const policy = (name: unknown) => ref.iam('policy', name);
  const group = (name: unknown) => ref.iam('group', name);
  /** The user a self-service call acts on, so the gate can tell "themself" from "someone else". */
  const subject = async (c: Caller, name: unknown) => ({
    refs: [user(name)],
    subjectUserId:
      typeof name === 'string' ? ((await store.accounts.getUserByName(c.accountId, name))?.id ?? null) : null,
  });
  const keyOwner = async (c: Caller, id: unknown) => {
    const key = typeof id === 'string' ? await store.accounts.getAccessKey(id) : null;
    return {
      refs: [ref.iam('accesskey', id)],
      subjectUserId: key && key.accountId === c.accountId ? key.userId : null,
    };
  };
  return {
    listUsers: useCase({
      action: 'iam:ListUsers',
      access: 'admin',
      mutates: false,
      run: svc.listUsers,
      names: () => [user('*')],
    }),
    createUser: useCase({
      action: 'iam:CreateUser',
      access: 'admin',
      mutates: true,
      run: svc.createUser,
      names: (_c, input) => [user(input.name)],
    }),
    deleteUser: useCase({
      action: 'iam:DeleteUser',
      access: 'admin',
      mutates: true,
      run: svc.deleteUser,
      names: (_c, name) => [user(name)],
    }),
    setPassword: useCase({
      action: 'iam:SetPassword',
      access: 'self-or-admin',
      mutates: true,
      run: svc.setPassword,
      names: (c, name) => subject(c, name),
    }),
    listAccessKeys: useCase({
      action: 'iam:ListAccessKeys',
      access: 'self-or-admin',
      mutates: false,
      run: svc.listAccessKeys,
      names: (c, name) => subject(c, name),
    }),
    createAccessKey: useCase({
      action: 'iam:CreateAccessKey',
      access: 'self-or-admin',
      mutates: true,
      run: svc.createAccessKey,
      names: (c, name) => subject(c, name),
    }),
    setAccessKeyStatus: useCase({
      action: 'iam:UpdateAccessKey',
      access: 'self-or-admin',
      mutates: true,
      run: svc.setAccessKeyStatus,
      names: (c, id) => keyOwner(c, id),
    }),
    deleteAccessKey: useCase({
      action: 'iam:DeleteAccessKey',
      access: 'self-or-admin',
      mutates: true,
      run: svc.deleteAccessKey,
      names: (c, id) => keyOwner(c, id),
    }),
    listPolicies: useCase({
      action: 'iam:ListPolicies',
      access: 'admin',
      mutates: false,
      run: svc.listPolicies,
      names: () => [policy('*')],
    }),
    createPolicy: useCase({
      action: 'iam:CreatePolicy',
      access: 'admin',
      mutates: true,
      run: svc.createPolicy,
      names: (_c, input) => [policy(input.name)],
    }),
    deletePolicy: useCase({
      action: 'iam:DeletePolicy',
      access: 'admin',
      mutates: true,
      run: svc.deletePolicy,
      names: (_c, name) => [policy(name)],
    }),
    attachPolicy: useCase({
      action: 'iam:AttachPolicy',
      access: 'admin',
      mutates: true,
      run: svc.attachPolicy,
      names: (_c, u, p) => [user(u), policy(p)],
    }),
    detachPolicy: useCase({
      action: 'iam:DetachPolicy',
      access: 'admin',
      mutates: true,
      run: svc.detachPolicy,
      names: (_c, u, p) => [user(u), policy(p)],
    }),
    policiesOfUser: useCase({
      action: 'iam:ListPolicies',
      access: 'self-or-admin',
      mutates: false,
      run: svc.policiesOfUser,
      names: (c, name) => subject(c, name),
    }),
    groupsOfUser: useCase({
      action: 'iam:ListGroupsForUser',
      access: 'self-or-admin',
      mutates: false,
      run: svc.groupsOfUser,
      names: (c, name) => subject(c, name),
    }),
    listGroups: useCase({
      action: 'iam:ListGroups',
      access: 'admin',
      mutates: false,
      run: svc.listGroups,
      names: () => [group('*')],
    }),
    createGroup: useCase({
      action: 'iam:CreateGroup',
      access: 'admin',
      mutates: true,
      run: svc.createGroup,
      names: (_c, input) => [group(input.name)],
    }),
    deleteGroup: useCase({
      action: 'iam:DeleteGroup',
      access: 'admin',
      mutates: true,
      run: svc.deleteGroup,
      names: (_c, name) => [group(name)],
    }),
    getGroup: useCase({
      action: 'iam:GetGroup',
      access: 'admin',
      mutates: false,
      run: svc.getGroup,
      names: (_c, name) => [group(name)],
    }),
    addUserToGroup: useCase({
      action: 'iam:AddUserToGroup',
      access: 'admin',
      mutates: true,
      run: svc.addUserToGroup,
      names: (_c, g, u) => [group(g), user(u)],
    }),
    removeUserFromGroup: useCase({
      action: 'iam:RemoveUserFromGroup',
      access: 'admin',
      mutates: true,
      run: svc.removeUserFromGroup,
      names: (_c, g, u) => [group(g), user(u)],
    }),
    attachGroupPolicy: useCase({
      action: 'iam:AttachPolicyToGroup',
      access: 'admin',
      mutates: true,
      run: svc.attachGroupPolicy,
      names: (_c, g, p) => [group(g), policy(p)],
    }),
    detachGroupPolicy: useCase({
      action: 'iam:DetachPolicyFromGroup',
      access: 'admin',
      mutates: true,
      run: svc.detachGroupPolicy,
      names: (_c, g, p) => [group(g), policy(p)],
    }),
    listAccounts: useCase({
      action: 'iam:ListAccounts',
      access: 'system-admin',
      mutates: false,
      run: svc.listAccounts,
      names: () => [ref.iam('account', '*')],
    }),
    createAccount: useCase({
      action: 'iam:CreateAccount',
      access: 'system-admin',
      mutates: true,
      run: svc.createAccount,
      names: (_c, input) => [ref.iam('account', input.name)],
    }),
    signOut: useCase({
      action: 'iam:SignOut',
      access: 'signed-in',
      mutates: true,
      run: accounts.signOut,
      names: () => [],
    }),
  };
}
