import type { PolicyDocument } from '../authz/policy.js';

/** Account is a tenant. Every key pair, instance, task and audit entry belongs to exactly one. */
export interface Account {
  id: string;
  name: string;
  createdAt: Date;
}

export interface User {
  id: string;
  accountId: string;
  name: string;
  isAccountAdmin: boolean;
  isSystemAdmin: boolean;
  /** Password hash (never the password); null when console sign-in is off for this user. */
  passwordHash: string | null;
  createdAt: Date;
  /**
   * Changes whenever the user's policies in effect change: a policy attached to or detached from the user (or
   * deleted), the user added to or removed from a group, a policy attached to or detached from one of its groups,
   * one of its groups deleted.
   */
  policiesVersion: number;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

/** AccessKey signs API requests. The secret is needed to verify HMAC signatures, so it is kept sealed, not hashed. */
export interface AccessKey {
  id: string;
  accountId: string;
  userId: string;
  sealedSecret: string;
  status: AccessKeyStatus;
  createdAt: Date;
}

export interface Session {
  id: string;
  accountId: string;
  userId: string;
  tokenHash: string;
  /** The project the token is scoped to, for IAM-style tokens; null for console sessions. */
  regionId: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** The access key that opened the session (it ends with the key); null for a password sign-in. */
  accessKeyId?: string | null;
}

export interface ResourceGroup {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
}

/** A named policy document of an account, attachable to its users. */
export interface Policy {
  id: string;
  accountId: string;
  name: string;
  description: string;
  document: PolicyDocument;
  createdAt: Date;
  updatedAt: Date;
}

/** A user group of an account: its members get the policies attached to it, in addition to their own. */
export interface Group {
  id: string;
  accountId: string;
  name: string;
  description: string;
  createdAt: Date;
}

/** A group as listed: with how many members it has and how many policies are attached to it. */
export interface GroupSummary extends Group {
  memberCount: number;
  policyCount: number;
}

/** Binds a sealed access key secret to its key, so a sealed blob copied onto another key does not open. */
export function accessKeyContext(k: Pick<AccessKey, 'id' | 'accountId'>): string {
  return `accesskey:${k.accountId}:${k.id}`;
}
