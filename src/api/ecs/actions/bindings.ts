/**
 * AttachKeyPair and DetachKeyPair (API.md §3.5, §3.6): batches of up to 50 instances with partial success.
 *
 * Request-level errors (bad parameters, unknown key pair, more than 50 IDs) refuse the whole call with a non-200
 * status and change nothing. Instance-level errors (Windows, not I/O optimized, unknown instance) are HTTP 200,
 * one `Results.Result` per instance, counted in FailCount. Counters and per-item fields are strings in the SDK
 * model (SDK-TRAFFIC §5.1). The change is recorded at once (DescribeInstances shows it) and applied by the
 * machine at its next RebootInstance, or StartInstance if it is stopped: the core's on-restart mode.
 */
import type { TaskItem, TaskKind } from '../../../core/task/task.js';
import type { EcsActionName } from '../action-names.js';
import { ecsErrors, itemErrorOf } from '../errors.js';
import type { ActionHandler } from './context.js';

/** Alibaba's batch limit for AttachKeyPair/DetachKeyPair. */
export const MAX_KEY_PAIR_BATCH = 50;

function resultOf(item: TaskItem, action: EcsActionName) {
  if (item.status === 'succeeded')
    return { InstanceId: item.instanceId, Success: 'true', Code: '200', Message: 'successful' };
  const { code, message } = itemErrorOf(item.errorCode, action);
  return { InstanceId: item.instanceId, Success: 'false', Code: code, Message: message };
}

function keyPairBatch(action: EcsActionName, kind: TaskKind): ActionHandler {
  return async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const keyPairName = params.required('KeyPairName');
    // Parsed here (the wire's JSON array), judged by the core: empty, too long, duplicates, malformed IDs.
    const instanceIds = params.jsonArray('InstanceIds', ecsErrors.instanceIdsNotSupported);
    const { task, items } = await core.tasks.submitAndWait(caller, {
      regionId,
      kind,
      keyPairName,
      instanceIds,
      mode: 'on-restart',
      maxBatch: MAX_KEY_PAIR_BATCH,
    });
    return {
      KeyPairName: task.keyPairName ?? keyPairName,
      TotalCount: String(task.total),
      FailCount: String(task.failed),
      Results: { Result: [...items].sort((a, b) => a.seq - b.seq).map((i) => resultOf(i, action)) },
    };
  };
}

export const bindingActions = {
  AttachKeyPair: keyPairBatch('AttachKeyPair', 'bind'),
  DetachKeyPair: keyPairBatch('DetachKeyPair', 'unbind'),
} satisfies Record<string, ActionHandler>;
