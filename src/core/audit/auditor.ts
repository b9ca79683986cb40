/**
 * Auditor: appends one entry per call to the audit trail. The gate (usecase/gate.ts) decides what is recorded:
 * mutating calls always (success, failure with the error code, or denied), read calls only when denied. A call
 * that submitted a task names it (`taskId`), so the task's outcome entries (binding/task-outcome-audit.ts) are
 * found with the request that asked for it.
 */
import type { ResourceRef } from '../authz/actions.js';
import { resourceName } from '../authz/policy.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { Logger, Store } from '../ports.js';
import type { AuditResult, NewAuditEntry } from './audit.js';

/** At most this many resource names per entry; a batch of 10,000 instances is summarised. */
export const MAX_RESOURCES = 100;

/** Resource names in RAM style, at most MAX_RESOURCES of them; the rest are counted as `(+N more)`. */
export function resourceNames(accountId: string, refs: readonly ResourceRef[]): string[] {
  const names = refs.slice(0, MAX_RESOURCES).map((r) => resourceName(accountId, r));
  if (refs.length > MAX_RESOURCES) names.push(`(+${refs.length - MAX_RESOURCES} more)`);
  return names;
}

/** What a request entry says beyond the call itself. */
export interface RequestLink {
  /** The task the call submitted. */
  taskId?: string | null;
}

export interface AuditorDeps {
  store: Store;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
}

export function createAuditor(deps: AuditorDeps) {
  const { store, clock, ids, logger } = deps;

  async function append(
    caller: Caller,
    action: string,
    refs: ResourceRef[],
    result: AuditResult,
    errorCode: string | null,
    link: RequestLink = {},
  ): Promise<void> {
    const entry: NewAuditEntry = {
      id: ids.next('ev-', 20),
      at: clock.now(),
      accountId: caller.accountId,
      userId: caller.userId,
      userName: caller.userName,
      accessKeyId: caller.accessKeyId,
      sessionId: caller.sessionId,
      face: caller.face,
      sourceIp: caller.sourceIp,
      action,
      resources: resourceNames(caller.accountId, refs),
      requestId: caller.requestId,
      result,
      errorCode,
      taskId: link.taskId ?? null,
      stage: 'request',
    };
    try {
      await store.audit.append(entry);
    } catch (err) {
      // An audit failure must be loud, but must not turn a completed change into a reported failure.
      logger.error('audit entry could not be written', {
        requestId: caller.requestId,
        action,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  return {
    append,
  };
}

export type Auditor = ReturnType<typeof createAuditor>;
