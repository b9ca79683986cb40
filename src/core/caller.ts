/**
 * Caller is who asks, through which face. Every core use case takes one: authorization, tenant scoping and the
 * audit trail all read it, so no face can forget to pass them.
 */
import type { PermissionSet } from './authz/policy.js';

export type Face = 'native' | 'ecs' | 'kps' | 'console' | 'cli' | 'system';

export interface Caller {
  accountId: string;
  userId: string;
  userName: string;
  isAccountAdmin: boolean;
  isSystemAdmin: boolean;
  accessKeyId: string | null;
  sessionId: string | null;
  face: Face;
  sourceIp: string;
  requestId: string;
  /** The compiled policies attached to the user (administrators need none). */
  permissions: PermissionSet | null;
}

/** The caller used by keyfleet itself (recovery after a restart, boot-time application of pending changes). */
export function systemCaller(accountId: string, requestId: string): Caller {
  return {
    accountId,
    userId: 'system',
    userName: 'keyfleet',
    isAccountAdmin: true,
    isSystemAdmin: true,
    accessKeyId: null,
    sessionId: null,
    face: 'system',
    sourceIp: '127.0.0.1',
    requestId,
    permissions: null,
  };
}
