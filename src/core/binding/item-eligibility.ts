/**
 * Whether one instance of a batch may be changed: it exists in the task's region, can take a key pair, suits the
 * task's mode, and the submitter may change it. A refusal fails that item only (partial success, as the clouds
 * answer a batch). This is the one place where authorization runs below the gate: a task's items are decided
 * when they run, one by one, long after the request was authorized as a whole.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Caller } from '../caller.js';
import { CoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import { type Instance, type InstanceType, keyPairRefusal } from '../instance/instance.js';
import type { Task, TaskItem } from '../task/task.js';

export function itemRefusal(
  authz: Authorizer,
  instanceTypes: readonly InstanceType[],
  caller: Caller,
  task: Task,
  inst: Instance | null,
  item: TaskItem,
): CoreError | null {
  if (!inst || inst.regionId !== task.regionId) return instanceNotFound(item.instanceId);
  const unsuitable = keyPairRefusal(inst, instanceTypes);
  if (unsuitable) return unsuitable;
  if (inst.backend === 'host' && task.mode !== 'live') {
    return new CoreError(
      'Instance.LiveOnly',
      `The instance '${inst.id}' is a registered host, which keyfleet never restarts: use mode 'live'.`,
      { instanceId: inst.id },
    );
  }
  const action = task.kind === 'bind' ? 'keypair:Bind' : 'keypair:Unbind';
  const resources: ResourceRef[] = [
    { type: 'instance', regionId: inst.regionId, id: inst.id, resourceGroupId: inst.resourceGroupId },
  ];
  if (task.keyPairName) resources.push({ type: 'keypair', regionId: task.regionId, id: task.keyPairName });
  // An unbind removes what the instance has: the caller must be allowed that key pair too.
  if (task.kind === 'unbind' && inst.keyPairName && inst.keyPairName !== task.keyPairName)
    resources.push({ type: 'keypair', regionId: task.regionId, id: inst.keyPairName });
  if (!authz.allows(caller, action, resources)) {
    return new CoreError('Auth.Forbidden', `You are not allowed to change the key pair of instance '${inst.id}'.`, {
      instanceId: inst.id,
    });
  }
  return null;
}
