/**
 * Bind and unbind: one key pair per instance, binding replaces the old key and turns password login off,
 * unbinding turns the password method back on. A request becomes a durable task with one item per instance;
 * each item succeeds or fails on its own (partial success). Two ways to take effect:
 *   - on-restart: recorded now, applied by the machine at its next start or restart (cloud-init style);
 *   - live: applied now over SSH and proven by a fresh login; a Stopped machine takes it at its next start.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError, isCoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import { isRestartPending } from '../instance/instance-state.js';
import { type Instance, type InstanceType, keyPairRefusal } from '../instance/instance.js';
import { notFound as keyPairNotFound } from '../keypair/keypair-service.js';
import type { KeyPair } from '../keypair/keypair.js';
import { managementKeyContext } from '../instance/host-service.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { HostKeyPolicy, LiveAccess, LiveCredential, Logger, Repos, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import type { Task, TaskItem, TaskKind, TaskMode, TaskOptions } from '../task/task.js';
import { applyLive } from './live-apply.js';

export interface BindingServiceDeps {
  store: Store;
  instanceTypes: () => readonly InstanceType[];
  live: LiveAccess;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  authz: Authorizer;
  logger: Logger;
  liveTimeoutMs: number;
  /** Opens the sealed management keys of registered hosts. */
  secrets: SecretBox;
  keys: KeyMaterial;
  /** Further attempts after a host could not be reached (default 2), with exponential backoff from `retryBaseMs`. */
  liveRetries?: number;
  retryBaseMs?: number;
}

/** Only these mean "nothing happened on the host, try again later"; every other failure is final for the item. */
const TRANSIENT: ReadonlySet<string> = new Set(['Live.Unreachable']);

export interface BindRequest {
  regionId: string;
  kind: TaskKind;
  /** Required to bind; optional to unbind (then whatever is bound is removed). */
  keyPairName?: string;
  instanceIds: unknown;
  mode: TaskMode;
  /** For live changes to running machines: kept in memory for this task only, never stored or logged. */
  credential?: LiveCredential;
  options?: TaskOptions;
  /** Largest batch the calling face allows (the clouds allow 50). */
  maxBatch: number;
  /**
   * Conditions checked when the task is made, for faces that refuse a server up front rather than in its task
   * (KPS batch-associate: Running servers without a key pair). The instance is authorized first, so a refusal
   * tells nothing about an instance the caller may not change.
   */
  require?: { running?: boolean; unbound?: boolean };
}

export const DEFAULT_MAX_BATCH = 50;
const INSTANCE_ID_MAX = 64;

/** Validates a batch of instance IDs: the request-level errors that change nothing. */
export function validateInstanceIds(raw: unknown, maxBatch: number): string[] {
  if (!Array.isArray(raw)) throw new CoreError('Batch.Malformed', 'InstanceIds must be a list of instance IDs.', { parameter: 'InstanceIds' });
  if (raw.length === 0) throw new CoreError('Batch.Empty', 'Give at least one instance ID.', { parameter: 'InstanceIds' });
  if (raw.length > maxBatch) {
    throw new CoreError('Batch.TooLarge', `At most ${maxBatch} instances can be changed in one call; ${raw.length} were given.`, { parameter: 'InstanceIds', limit: maxBatch });
  }
  for (const id of raw) {
    if (typeof id !== 'string' || id.trim() === '' || id.length > INSTANCE_ID_MAX || /\s/.test(id)) {
      throw new CoreError('Batch.Malformed', `'${String(id).slice(0, 80)}' is not a valid instance ID.`, { parameter: 'InstanceIds' });
    }
  }
  const ids = raw as string[];
  const dup = ids.find((id, n) => ids.indexOf(id) !== n);
  if (dup) throw new CoreError('Batch.DuplicateIds', `The instance ID '${dup}' is given more than once.`, { parameter: 'InstanceIds', instanceId: dup });
  return ids;
}

export function createBindingService(deps: BindingServiceDeps) {
  const { store, live, clock, ids, regions, authz, logger } = deps;
  /** Live credentials by task id: memory only, dropped when the task ends. */
  const credentials = new Map<string, LiveCredential>();
  const keyPairs = new Map<string, Promise<KeyPair | null>>();
  /**
   * Opened management keys by task, then by key text: every host of a task that shares a management key gets the
   * same credential object, so the SSH adapter decodes that key once per task, not once per host (it caches by
   * credential object). Dropped with the task's other credentials when it ends.
   */
  const managementKeys = new Map<string, Map<string, { kind: 'privateKey'; privateKey: string }>>();

  async function submit(caller: Caller, req: BindRequest): Promise<Task> {
    const region: Region = requireRegion(regions, req.regionId);
    if (req.kind !== 'bind' && req.kind !== 'unbind') throw new CoreError('Input.Invalid', `Unknown operation '${String(req.kind)}'.`);
    if (req.mode !== 'on-restart' && req.mode !== 'live') {
      throw new CoreError('Input.Invalid', `The mode '${String(req.mode)}' is not valid; use 'on-restart' or 'live'.`, { parameter: 'mode' });
    }
    const instanceIds = validateInstanceIds(req.instanceIds, req.maxBatch);
    let keyPair: KeyPair | null = null;
    if (req.kind === 'bind' && !req.keyPairName) throw new CoreError('Input.Missing', 'The key pair name is required to bind.', { parameter: 'KeyPairName' });
    if (req.keyPairName) {
      keyPair = await store.keyPairs.get(caller.accountId, region.id, req.keyPairName);
      if (!keyPair) throw keyPairNotFound(req.keyPairName, region.id);
    } else if (req.kind === 'unbind' && instanceIds.length === 1) {
      // "Unbind whatever this server has" (KPS disassociate): the task records that key pair, so the task lists can
      // name it and the caller needs the unbind permission on it as on the instance (both, as the seeds say).
      keyPair = await boundKeyPair(caller, region.id, instanceIds[0]!);
    }
    const action = req.kind === 'bind' ? 'keypair:Bind' : 'keypair:Unbind';
    if (keyPair) authz.check(caller, action, [{ type: 'keypair', regionId: region.id, id: keyPair.name, resourceGroupId: keyPair.resourceGroupId }]);
    if (req.require) for (const id of instanceIds) await checkRequired(caller, region.id, id, action, keyPair, req.require);
    if (req.options?.port !== undefined && (!Number.isInteger(req.options.port) || req.options.port < 1 || req.options.port > 65535)) {
      throw new CoreError('Input.Invalid', `The SSH port '${String(req.options.port)}' is not valid.`, { parameter: 'port' });
    }
    const now = clock.now();
    const task: Task = {
      id: ids.uuid(),
      accountId: caller.accountId,
      regionId: region.id,
      kind: req.kind,
      mode: req.mode,
      keyPairId: keyPair?.id ?? null,
      keyPairName: keyPair?.name ?? null,
      status: 'queued',
      total: instanceIds.length,
      succeeded: 0,
      failed: 0,
      face: caller.face,
      requestId: caller.requestId,
      createdBy: caller.userId,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      options: { ...req.options },
    };
    const items: TaskItem[] = instanceIds.map((instanceId, seq) => ({
      taskId: task.id,
      seq,
      instanceId,
      status: 'pending',
      attempts: 0,
      errorCode: null,
      errorMessage: null,
      note: null,
      startedAt: null,
      finishedAt: null,
    }));
    if (req.credential) credentials.set(task.id, req.credential);
    await store.transaction((tx) => tx.tasks.insert(task, items));
    return task;
  }

  async function boundKeyPair(caller: Caller, regionId: string, instanceId: string): Promise<KeyPair | null> {
    const inst = await store.instances.get(caller.accountId, instanceId);
    if (!inst || inst.regionId !== regionId || !inst.keyPairName) return null;
    return store.keyPairs.get(caller.accountId, regionId, inst.keyPairName);
  }

  async function checkRequired(caller: Caller, regionId: string, id: string, action: 'keypair:Bind' | 'keypair:Unbind', kp: KeyPair | null, require: NonNullable<BindRequest['require']>): Promise<void> {
    const inst = await store.instances.get(caller.accountId, id);
    if (!inst || inst.regionId !== regionId) throw instanceNotFound(id);
    const resources: ResourceRef[] = [{ type: 'instance', regionId, id: inst.id, resourceGroupId: inst.resourceGroupId }];
    if (kp) resources.push({ type: 'keypair', regionId, id: kp.name, resourceGroupId: kp.resourceGroupId });
    authz.check(caller, action, resources);
    if (require.running && inst.status !== 'Running') {
      throw new CoreError('Instance.IncorrectStatus', `The instance '${inst.id}' is ${inst.status}; this call changes Running instances only.`, { instanceId: inst.id, status: inst.status });
    }
    if (require.unbound && inst.keyPairName !== null) {
      throw new CoreError('Instance.AlreadyBound', `The instance '${inst.id}' already has key pair '${inst.keyPairName}'; this call binds instances without one (replace it with a single bind).`, { instanceId: inst.id });
    }
  }

  /** Checks that apply to one instance of a batch; a failure here fails that item only. */
  function refuse(caller: Caller, task: Task, inst: Instance | null, item: TaskItem): CoreError | null {
    if (!inst || inst.regionId !== task.regionId) return instanceNotFound(item.instanceId);
    const unsuitable = keyPairRefusal(inst, deps.instanceTypes());
    if (unsuitable) return unsuitable;
    if (inst.backend === 'host' && task.mode !== 'live') {
      return new CoreError('Instance.LiveOnly', `The instance '${inst.id}' is a registered host, which keyfleet never restarts: use mode 'live'.`, { instanceId: inst.id });
    }
    const action = task.kind === 'bind' ? 'keypair:Bind' : 'keypair:Unbind';
    const resources: ResourceRef[] = [{ type: 'instance', regionId: inst.regionId, id: inst.id, resourceGroupId: inst.resourceGroupId }];
    if (task.keyPairName) resources.push({ type: 'keypair', regionId: task.regionId, id: task.keyPairName });
    // An unbind removes what the instance has: the caller must be allowed that key pair too.
    if (task.kind === 'unbind' && inst.keyPairName && inst.keyPairName !== task.keyPairName) resources.push({ type: 'keypair', regionId: task.regionId, id: inst.keyPairName });
    if (!authz.allows(caller, action, resources)) {
      return new CoreError('Auth.Forbidden', `You are not allowed to change the key pair of instance '${inst.id}'.`, { instanceId: inst.id });
    }
    return null;
  }

  /** The management key of a registered host, opened from the SecretBox; one object per key and task. */
  function managementCredential(taskId: string, inst: Instance): { kind: 'privateKey'; privateKey: string } | undefined {
    const sealed = inst.host?.sealedManagementKey;
    if (!sealed) return undefined;
    const privateKey = deps.secrets.open(sealed, managementKeyContext(inst.id));
    let byKey = managementKeys.get(taskId);
    if (!byKey) managementKeys.set(taskId, (byKey = new Map()));
    let credential = byKey.get(privateKey);
    if (!credential) byKey.set(privateKey, (credential = { kind: 'privateKey', privateKey }));
    return credential;
  }

  /**
   * Retries an idempotent live change whose host could not be reached: the plan is made again from what the host
   * has, so a second attempt after a dropped connection cannot apply anything twice. Backoff doubles, with jitter
   * so a fleet that lost its network does not come back in lock-step.
   */
  async function withRetries<T>(attempt: () => Promise<T>, item: TaskItem): Promise<T> {
    const retries = deps.liveRetries ?? 2;
    const base = deps.retryBaseMs ?? 500;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (n >= retries || !isCoreError(err) || !TRANSIENT.has(err.code)) throw err;
        const delay = base * 2 ** n * (0.75 + Math.random() * 0.5);
        logger.warn('live change will be retried', { taskId: item.taskId, seq: item.seq, instanceId: item.instanceId, attempt: n + 1, code: err.code, delayMs: Math.round(delay) });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Records the desired key state of one instance and the item's success in one transaction. */
  async function recordDesired(tx: Repos, task: Task, item: TaskItem, inst: Instance, kp: KeyPair | null, applied: boolean, note: string, owner: string): Promise<boolean> {
    const unbindOther = task.kind === 'unbind' && task.keyPairId !== null && inst.keyPairId !== task.keyPairId;
    if (!unbindOther) {
      if (task.kind === 'bind' && kp) {
        inst.keyPairId = kp.id;
        inst.keyPairName = kp.name;
        inst.desiredPublicKey = kp.publicKey;
      } else {
        inst.keyPairId = null;
        inst.keyPairName = null;
        inst.desiredPublicKey = null;
      }
      if (applied) {
        inst.appliedPublicKey = inst.desiredPublicKey;
        inst.appliedPasswordLogin = inst.desiredPublicKey === null;
      }
      inst.pendingRestart = isRestartPending(inst);
      inst.updatedAt = clock.now();
      await tx.instances.update(inst);
    }
    const done: TaskItem = { ...item, status: 'succeeded', finishedAt: clock.now(), note: unbindOther ? 'not bound to this key pair; nothing changed' : note };
    if (!(await tx.tasks.finishItem(done, owner))) return false;
    if (!unbindOther) {
      await tx.events.insert({
        taskId: task.id,
        seq: item.seq,
        instanceId: inst.id,
        accountId: inst.accountId,
        action: task.kind,
        keyPairId: task.kind === 'bind' ? kp?.id ?? null : task.keyPairId,
        keyPairName: task.kind === 'bind' ? kp?.name ?? null : task.keyPairName,
        mode: applied ? 'live' : 'on-restart',
        at: clock.now(),
      });
    }
    return true;
  }

  async function fail(task: Task, item: TaskItem, err: CoreError, owner: string): Promise<void> {
    await store.transaction(async (tx) => {
      await tx.tasks.finishItem({ ...item, status: 'failed', errorCode: err.code, errorMessage: err.message, finishedAt: clock.now() }, owner);
    });
  }

  /** Runs one item. Called by the task runner with the item claimed (status running) by `owner`. */
  /** The task's key pair, read once per task rather than once per instance. */
  async function keyPairOf(task: Task): Promise<KeyPair | null> {
    if (!task.keyPairId) return null;
    let kp = keyPairs.get(task.id);
    if (!kp) {
      kp = store.keyPairs.getById(task.accountId, task.keyPairId);
      keyPairs.set(task.id, kp);
    }
    return kp;
  }

  /** Records a change for the next start or restart: one transaction decides, records and completes the item. */
  async function recordForBoot(caller: Caller, task: Task, item: TaskItem, kp: KeyPair | null, owner: string): Promise<void> {
    await store.transaction(async (tx) => {
      const inst = await tx.instances.get(task.accountId, item.instanceId);
      const refusal = refuse(caller, task, inst, item);
      if (refusal) {
        await tx.tasks.finishItem({ ...item, status: 'failed', errorCode: refusal.code, errorMessage: refusal.message, finishedAt: clock.now() }, owner);
        return;
      }
      const note = task.mode === 'live' ? 'instance is Stopped: takes effect at its next start' : inst!.status === 'Stopped' ? 'takes effect at the next start' : 'takes effect at the next restart';
      if (task.options.dryRun) {
        await tx.tasks.finishItem({ ...item, status: 'succeeded', finishedAt: clock.now(), note: `dry run: would ${task.kind} (${note}); nothing recorded` }, owner);
        return;
      }
      if (!(await recordDesired(tx, task, item, inst!, kp, false, note, owner))) throw new CoreError('Internal', 'The task item was taken over by another worker.');
    });
  }

  /** Runs one item. Called by the task runner with the item claimed (status running) by `owner`. */
  async function execute(caller: Caller, task: Task, item: TaskItem, owner: string): Promise<void> {
    try {
      const kp = await keyPairOf(task);
      if (task.kind === 'bind' && !kp) throw keyPairNotFound(task.keyPairName ?? '?', task.regionId);
      if (task.mode === 'on-restart') return await recordForBoot(caller, task, item, kp, owner);

      const inst = await store.instances.get(task.accountId, item.instanceId);
      const refusal = refuse(caller, task, inst, item);
      if (refusal) return fail(task, item, refusal, owner);
      const instance = inst!;
      if (instance.status === 'Stopped') return await recordForBoot(caller, task, item, kp, owner);
      if (instance.status !== 'Running') {
        return fail(task, item, new CoreError('Instance.IncorrectStatus', `The instance '${instance.id}' is ${instance.status}; a live change needs it Running (or Stopped, to apply at its next start).`, { instanceId: instance.id, status: instance.status }), owner);
      }

      // A registered host's sealed management key is used when the request carries no credential (ADR 9).
      const management = managementCredential(task.id, instance);
      const credential = credentials.get(task.id) ?? management;
      if (!credential) {
        // A credential lives in memory for its task only; after a keyfleet restart it is gone on purpose.
        const code = item.attempts > 1 ? 'Live.CredentialLost' : 'Live.CredentialRequired';
        return fail(task, item, new CoreError(code, 'A live change to a running instance needs a credential (the root password, or the private key of the key pair bound now); it is used for this task only and was not given or is no longer held.', { instanceId: instance.id }), owner);
      }
      const unbindOther = task.kind === 'unbind' && task.keyPairId !== null && instance.keyPairId !== task.keyPairId;
      let note = 'not bound to this key pair; nothing changed';
      if (!unbindOther) {
        const desiredKey = task.kind === 'bind' && kp ? { keyPairName: kp.name, publicKey: kp.publicKey } : null;
        const hostKey: HostKeyPolicy = instance.hostKeySha256 ? { kind: 'pinned', sha256: instance.hostKeySha256 } : { kind: 'trust-on-first-use' };
        const removed = instance.appliedPublicKey && instance.appliedPublicKey !== desiredKey?.publicKey ? instance.appliedPublicKey : null;
        const host = instance.host ?? null;
        const managesPassword = host?.passwordLogin !== 'unmanaged';
        if (host && managesPassword && credential.kind === 'password' && desiredKey !== null && !host.sealedManagementKey) {
          // Lock-out guard: password login off while keyfleet's only way in is a password.
          return fail(task, item, new CoreError('Live.LockoutRefused', `Binding would turn password login off on the registered host '${instance.id}', whose only management credential is a password; register a management key first. Nothing was changed.`, { instanceId: instance.id }), owner);
        }
        const outcome = await withRetries(() => applyLive(
          live,
          {
            target: { host: instance.address, port: task.options.port ?? instance.sshPort, username: host?.managementUser ?? instance.loginUser },
            loginUser: instance.loginUser,
            sudo: host?.sudo === true,
            hostKey,
            homeDir: host?.homeDir ?? (instance.loginUser === 'root' ? '/root' : `/home/${instance.loginUser}`),
            ...(host ? { dropInPath: host.dropInPath, reloadCommand: host.reloadCommand, validateCommand: host.validateCommand } : {}),
            // Lock-out guard: only when keyfleet logs in with its management key as the managed user itself.
            managementPublicKey: host && management && credential === management && host.managementUser === instance.loginUser ? deps.keys.publicKeyOf(management.privateKey) : null,
            removedPublicKey: removed,
            timeoutMs: deps.liveTimeoutMs,
          },
          credential,
          { key: desiredKey, passwordLogin: managesPassword ? desiredKey === null : null },
          { verify: task.options.verify !== false, dryRun: task.options.dryRun === true },
        ), item);
        if (task.options.dryRun) {
          await store.transaction((tx) => tx.tasks.finishItem({ ...item, status: 'succeeded', finishedAt: clock.now(), note: outcome.verified }, owner));
          return;
        }
        note = task.options.verify === false ? `applied live: ${outcome.verified}` : `applied live and verified by login: ${outcome.verified}`;
      } else if (task.options.dryRun) {
        await store.transaction((tx) => tx.tasks.finishItem({ ...item, status: 'succeeded', finishedAt: clock.now(), note: `dry run: ${note}` }, owner));
        return;
      }
      await store.transaction(async (tx) => {
        const cur = await tx.instances.get(task.accountId, instance.id);
        if (!cur) throw instanceNotFound(instance.id);
        if (!(await recordDesired(tx, task, item, cur, kp, true, note, owner))) throw new CoreError('Internal', 'The task item was taken over by another worker.');
      });
    } catch (err) {
      const coreErr = isCoreError(err) ? err : new CoreError('Internal', 'An unexpected error stopped this change.');
      if (!isCoreError(err)) logger.error('task item failed unexpectedly', { taskId: task.id, seq: item.seq, error: err instanceof Error ? err.message : String(err) });
      await fail(task, item, coreErr, owner);
    }
  }

  return {
    submit,
    execute,
    /** Called when a task ends: the credential is forgotten. */
    forget(taskId: string): void {
      credentials.delete(taskId);
      keyPairs.delete(taskId);
      managementKeys.delete(taskId);
    },
    holdsCredential(taskId: string): boolean {
      return credentials.has(taskId) || managementKeys.has(taskId);
    },
  };
}

export type BindingService = ReturnType<typeof createBindingService>;
