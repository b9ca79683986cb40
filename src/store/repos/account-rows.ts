/** Rows of the account tables as core values. */
import type { AccessKey, AccessKeyStatus, Group, Policy, User } from '../../core/account/account.js';
import type { PolicyDocument } from '../../core/authz/policy.js';
import type { AccessKeysTable, GroupsTable, PoliciesTable, UsersTable } from '../schema.js';
import { bool, fromMs } from './common.js';

export const userFromRow = (r: UsersTable): User => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  isAccountAdmin: bool(r.is_account_admin),
  isSystemAdmin: bool(r.is_system_admin),
  passwordHash: r.password_hash,
  createdAt: fromMs(r.created_at),
  policiesVersion: Number(r.policies_version),
});

export const accessKeyFromRow = (r: AccessKeysTable): AccessKey => ({
  id: r.id,
  accountId: r.account_id,
  userId: r.user_id,
  sealedSecret: r.sealed_secret,
  status: r.status as AccessKeyStatus,
  createdAt: fromMs(r.created_at),
});

export const policyFromRow = (r: PoliciesTable): Policy => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  description: r.description,
  document: JSON.parse(r.document) as PolicyDocument,
  createdAt: fromMs(r.created_at),
  updatedAt: fromMs(r.updated_at),
});

export const groupFromRow = (r: GroupsTable): Group => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  description: r.description,
  createdAt: fromMs(r.created_at),
});
