/**
 * Auditor: appends one entry per call to the audit trail. The gate (usecase/gate.ts) decides what is recorded:
 * mutating calls always (success, failure with the error code, or denied), read calls only when denied.
 */
import type { ResourceRef } from '../authz/actions.js';
import { resourceName } from '../authz/policy.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { Logger, Store } from '../ports.js';
import type { AuditEntry, AuditResult } from './audit.js';

/** At most this many resource names per entry; a batch of 10,000 instances is summarised. */
const MAX_RESOURCES = 100;

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
  ): Promise<void> {
    const names = refs.slice(0, MAX_RESOURCES).map((r) => resourceName(caller.accountId, r));
    if (refs.length > MAX_RESOURCES) names.push(`(+${refs.length - MAX_RESOURCES} more)`);
    const entry: AuditEntry = {
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
      resources: names,
      requestId: caller.requestId,
      result,
      errorCode,
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
