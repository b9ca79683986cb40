/**
 * The audit trail: one entry per mutating call and per denied call, on every face, with who, from where, through
 * which face, what on which resources, and how it ended. Entries never hold key material, passwords or secrets:
 * only identifiers. The API offers no way to change or delete them.
 */
import type { Face } from '../caller.js';

export type AuditResult = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  id: string;
  at: Date;
  accountId: string;
  userId: string;
  userName: string;
  accessKeyId: string | null;
  sessionId: string | null;
  face: Face;
  sourceIp: string;
  action: string;
  /** Resource names in RAM style: acs:ecs:{region}:{account}:{type}/{id}. */
  resources: string[];
  requestId: string;
  result: AuditResult;
  errorCode: string | null;
}

export interface AuditFilter {
  accountId: string;
  from?: Date;
  to?: Date;
  userName?: string;
  action?: string;
  /** Matches entries naming this resource (exact name, or a suffix such as `instance/i-…`). */
  resource?: string;
  result?: AuditResult;
  offset: number;
  limit: number;
}

export interface AuditRepo {
  append(entry: AuditEntry): Promise<void>;
  query(filter: AuditFilter): Promise<{ items: AuditEntry[]; total: number }>;
}
