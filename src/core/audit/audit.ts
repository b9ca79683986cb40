/**
 * The audit trail: one entry per mutating call and per denied call, on every face, with who, from where, through
 * which face, what on which resources, and how it ended. A call that submits a task is recorded twice over: the
 * request entry (stage 'request': the submission was accepted or refused) names the task, and when the task ends
 * its outcome is recorded as entries of their own (stage 'outcome': which instances failed and why), with the same
 * task and request id. So a failed live unbind is never recorded only as a success. Entries never hold key
 * material, passwords or secrets: only identifiers and error messages. The API offers no way to change or delete them.
 */
import type { Face } from '../caller.js';

export type AuditResult = 'success' | 'failure' | 'denied';
/** 'request': what a call asked and whether it was accepted; 'outcome': what a task it submitted came to. */
export type AuditStage = 'request' | 'outcome';

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
  /** The task the call submitted (request entry) or whose outcome this is (outcome entry); null for other calls. */
  taskId: string | null;
  stage: AuditStage;
  /** For people: why an instance failed, or what a task came to ('live unbind succeeded on 2 of 3 instances'). */
  detail: string | null;
}

/** An entry as written: a call that names no task leaves taskId, stage ('request') and detail out. */
export type NewAuditEntry = Omit<AuditEntry, 'taskId' | 'stage' | 'detail'> &
  Partial<Pick<AuditEntry, 'taskId' | 'stage' | 'detail'>>;

export interface AuditFilter {
  accountId: string;
  from?: Date;
  to?: Date;
  userName?: string;
  action?: string;
  /** Matches entries naming this resource (exact name, or a suffix such as `instance/i-…`). */
  resource?: string;
  result?: AuditResult;
  stage?: AuditStage;
  /** The entries of one task: its request entry and its outcome entries. */
  taskId?: string;
  /** The entries of one request (a KPS batch submits several tasks in one request). */
  requestId?: string;
  offset: number;
  limit: number;
}

export interface AuditRepo {
  append(entry: NewAuditEntry): Promise<void>;
  /** Appends several entries at once (a task's outcome, in the transaction that finishes the task). */
  appendMany(entries: readonly NewAuditEntry[]): Promise<void>;
  query(filter: AuditFilter): Promise<{ items: AuditEntry[]; total: number }>;
}
