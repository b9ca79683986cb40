/**
 * Making a bind/unbind task: the request-level checks that change nothing when they fail, then one durable task
 * with one item per instance (each item later succeeds or fails on its own).
 */
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { isPort } from '../../common/names.js';
import { CoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import { notFound as keyPairNotFound } from '../keypair/keypair-service.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { Repos, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import { pendingItem, queuedTask, type Task } from '../task/task.js';
import { type BindRequest, validateInstanceIds } from './bind-request.js';
import { requestedExpiry } from './expiry.js';

export interface BindSubmitDeps {
  store: Store;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
}

/** The key pair a request names, or (unbind of one instance naming none) the one that instance has now. */
export async function keyPairOfRequest(
  store: Store,
  caller: Caller,
  req: Pick<BindRequest, 'regionId' | 'kind' | 'keyPairName' | 'instanceIds'>,
): Promise<KeyPair | null> {
  if (req.keyPairName) return store.keyPairs.get(caller.accountId, req.regionId, req.keyPairName);
  if (
    req.kind !== 'unbind' ||
    !Array.isArray(req.instanceIds) ||
    req.instanceIds.length !== 1 ||
    typeof req.instanceIds[0] !== 'string'
  )
    return null;
  // "Unbind whatever this server has" (KPS disassociate): the task records that key pair, so the task lists can
  // name it and the caller needs the unbind permission on it as on the instance (both, as the seeds say).
  const inst = await store.instances.get(caller.accountId, req.instanceIds[0]);
  if (!inst || inst.regionId !== req.regionId || !inst.keyPairName) return null;
  return store.keyPairs.get(caller.accountId, req.regionId, inst.keyPairName);
}

export function createBindSubmit({ store, clock, ids, regions }: BindSubmitDeps) {
  /** Refuses a server up front for faces that do (KPS batch-associate); the gate has authorized each one. */
  async function checkRequired(
    caller: Caller,
    regionId: string,
    id: string,
    require: NonNullable<BindRequest['require']>,
  ): Promise<void> {
    const inst = await store.instances.get(caller.accountId, id);
    if (!inst || inst.regionId !== regionId) throw instanceNotFound(id);
    if (require.running && inst.status !== 'Running') {
      throw new CoreError(
        'Instance.IncorrectStatus',
        `The instance '${inst.id}' is ${inst.status}; this call changes Running instances only.`,
        { instanceId: inst.id, status: inst.status },
      );
    }
    if (require.unbound && inst.keyPairName !== null) {
      throw new CoreError(
        'Instance.AlreadyBound',
        `The instance '${inst.id}' already has key pair '${inst.keyPairName}'; this call binds instances without one (replace it with a single bind).`,
        { instanceId: inst.id },
      );
    }
  }

  /**
   * An expiry belongs to a bind; on a registered host keyfleet must be able to log in without the caller when it
   * comes (its management key), or the expiry's unbind would fail there (the host would still refuse the key).
   */
  async function checkExpiryAllowed(caller: Caller, req: BindRequest, instanceIds: string[]): Promise<void> {
    if (req.kind !== 'bind')
      throw new CoreError('Input.Invalid', 'An expiry is given with a bind only; to end a binding now, unbind it.', {
        parameter: 'expiresAt',
      });
    for (const inst of await store.instances.getMany(caller.accountId, instanceIds)) {
      if (inst.backend === 'host' && !inst.host?.sealedManagementKey)
        throw new CoreError(
          'Binding.ExpiryNeedsManagementKey',
          `The registered host '${inst.id}' has no management key, so keyfleet could not unbind the key when it expires; register one first.`,
          { instanceId: inst.id },
        );
    }
  }

  /**
   * `seal` gives the sealed form of the request's credential for the new task id: it is stored in the transaction
   * that creates the task, so no process can start the task without it.
   */
  return async function makeTask(
    caller: Caller,
    req: BindRequest,
    seal?: (taskId: string) => string | undefined,
    /** Runs in the transaction that creates the task; if it throws, no task is made (a rotation claims its wave). */
    within?: (tx: Repos, task: Task) => Promise<void>,
  ): Promise<Task> {
    const region: Region = requireRegion(regions, req.regionId);
    if (req.kind !== 'bind' && req.kind !== 'unbind')
      throw new CoreError('Input.Invalid', `Unknown operation '${String(req.kind)}'.`);
    if (req.mode !== 'on-restart' && req.mode !== 'live') {
      throw new CoreError('Input.Invalid', `The mode '${String(req.mode)}' is not valid; use 'on-restart' or 'live'.`, {
        parameter: 'mode',
      });
    }
    const instanceIds = validateInstanceIds(req.instanceIds, req.maxBatch);
    if (req.kind === 'bind' && !req.keyPairName)
      throw new CoreError('Input.Missing', 'The key pair name is required to bind.', { parameter: 'KeyPairName' });
    const keyPair = await keyPairOfRequest(store, caller, { ...req, regionId: region.id, instanceIds });
    if (req.keyPairName && !keyPair) throw keyPairNotFound(req.keyPairName, region.id);
    if (req.require) for (const id of instanceIds) await checkRequired(caller, region.id, id, req.require);
    if (req.options?.port !== undefined && !isPort(req.options.port)) {
      throw new CoreError('Input.Invalid', `The SSH port '${String(req.options.port)}' is not valid.`, {
        parameter: 'port',
      });
    }
    const expiresAt = requestedExpiry(req, clock.now());
    if (expiresAt) await checkExpiryAllowed(caller, req, instanceIds);
    const what = {
      id: ids.uuid(),
      regionId: region.id,
      kind: req.kind,
      mode: req.mode,
      keyPairId: keyPair?.id ?? null,
      keyPairName: keyPair?.name ?? null,
      total: instanceIds.length,
      options: { ...req.options, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) },
    };
    const task = queuedTask(caller, what, clock.now());
    const items = instanceIds.map((instanceId, seq) => pendingItem(task.id, seq, instanceId));
    const sealed = seal?.(task.id);
    await store.transaction(async (tx) => {
      await tx.tasks.insert(task, items);
      if (sealed) await tx.tasks.putCredential(task.id, sealed, task.createdAt);
      await within?.(tx, task);
    });
    return task;
  };
}
