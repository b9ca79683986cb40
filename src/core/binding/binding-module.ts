/**
 * Bind and unbind: one key pair per instance, binding replaces the old key and turns password login off,
 * unbinding turns the password method back on. A request becomes a durable task with one item per instance
 * (bind-submit.ts); the module registers its two executors with the task runner:
 *   - on-restart: recorded now, applied by the machine at its next start or restart (on-restart-executor.ts);
 *   - live: applied now over SSH and proven by a fresh login; a Stopped machine takes it at its next start
 *     (live-executor.ts), with the credential held in custody for the task's lifetime (credential-custody.ts).
 */
import type { Authorizer } from '../authz/authorizer.js';
import { compilePermissions } from '../authz/policy.js';
import { type Caller, systemCaller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError, isCoreError } from '../errors.js';
import type { InstanceType } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import { notFound as keyPairNotFound } from '../keypair/keypair-service.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { LiveAccess, Logger, Repos, SecretBox, Store } from '../ports.js';
import type { Region } from '../region.js';
import type { ItemLease, TaskExecutor, TaskRunner } from '../task/task-runner.js';
import type { Task, TaskItem } from '../task/task.js';
import type { BindRequest } from './bind-request.js';
import { createBindSubmit } from './bind-submit.js';
import type { BootPreviewer } from './boot-preview.js';
import { createCredentialCustody } from './credential-custody.js';
import { createEscrowUseAudit } from './escrow-use-audit.js';
import { createItemRecorder, type ItemRun } from './item-record.js';
import { LeaseLost } from './live-change.js';
import { recordTaskOutcome } from './task-outcome-audit.js';
import { createLiveExecutor } from './live-executor.js';
import type { Metrics } from '../metrics.js';
import { createOnRestartExecutor } from './on-restart-executor.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export interface BindingModuleDeps {
  store: Store;
  runner: TaskRunner;
  live: LiveAccess;
  keys: KeyMaterial;
  /** Opens the sealed management keys of registered hosts. */
  secrets: SecretBox;
  authz: Authorizer;
  instanceTypes: () => readonly InstanceType[];
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  logger: Logger;
  liveTimeoutMs: number;
  /** Delays between asks of a machine that did not answer after an interrupted change (ADR 26). */
  reobserveDelaysMs?: readonly number[];
  /** Attempts after a host could not be reached, with exponential backoff (default: 2 more, from 500 ms). */
  retry?: RetryPolicy;
  /** The submitter of a task as it stands now, for a task resumed after a restart or in another process. */
  callerOfTask: (
    task: Pick<Task, 'accountId' | 'createdBy' | 'submitter' | 'face' | 'requestId'>,
  ) => Promise<Caller | null>;
  /** Live changes and proofs by result (default: none recorded). */
  metrics?: Metrics;
  /** The compute backend, read by on-restart dry runs for what a machine's next boot would write. */
  compute?: BootPreviewer;
}

/** The caller and key pair of a task, held while it runs. */
interface TaskContext {
  caller: Promise<Caller>;
  keyPair: Promise<KeyPair | null>;
}

export function createBindingModule(deps: BindingModuleDeps) {
  const { store, runner, clock, logger } = deps;
  const custody = createCredentialCustody(store, deps.secrets);
  const recorder = createItemRecorder(store, clock);
  const makeTask = createBindSubmit(deps);
  /** The submitter (per-item authorization uses it) and key pair of each task this process runs; memory only. */
  const contexts = new Map<string, TaskContext>();
  const contextOf = (task: Task): TaskContext => {
    let ctx = contexts.get(task.id);
    if (!ctx) {
      // After a restart, or in another process: the submitter as stored with the task, with its policies now. A
      // submitter that no longer exists authorizes nothing (each item is refused), rather than keyfleet itself.
      // keyfleet's own tasks (an expiry's unbind, expiry-sweeper.ts) run as keyfleet: no user submitted them.
      const caller = isSystemTask(task)
        ? Promise.resolve(systemCaller(task.accountId, task.requestId))
        : deps.callerOfTask(task).then((c) => c ?? goneSubmitter(task));
      caller.catch(() => contexts.delete(task.id));
      ctx = {
        caller,
        keyPair: task.keyPairId ? store.keyPairs.getById(task.accountId, task.keyPairId) : Promise.resolve(null),
      };
      contexts.set(task.id, ctx);
    }
    return ctx;
  };

  const recordForBoot = createOnRestartExecutor({
    store,
    clock,
    authz: deps.authz,
    instanceTypes: deps.instanceTypes,
    recorder,
    compute: deps.compute,
  });
  const applyLiveItem = createLiveExecutor({
    store,
    live: deps.live,
    keys: deps.keys,
    clock,
    random: deps.ids.random,
    authz: deps.authz,
    instanceTypes: deps.instanceTypes,
    recorder,
    custody,
    recordForBoot,
    retry: deps.retry ?? DEFAULT_RETRY,
    timeoutMs: deps.liveTimeoutMs,
    metrics: deps.metrics,
    reobserveAfterMs: deps.reobserveDelaysMs?.[0],
    escrowUsed: createEscrowUseAudit({ store, ids: deps.ids, clock }),
    onRetry: (item, attempt, code, delayMs) =>
      logger.warn('live change will be retried', {
        taskId: item.taskId,
        seq: item.seq,
        instanceId: item.instanceId,
        attempt,
        code,
        delayMs,
      }),
  });

  /** An executor around one way of applying an item: whatever escapes it fails that item, never the task. */
  const executor = (apply: (run: ItemRun, lease: ItemLease) => Promise<void>): TaskExecutor => ({
    async execute(task: Task, item: TaskItem, owner: string, lease: ItemLease): Promise<void> {
      try {
        const ctx = contextOf(task);
        const [caller, kp] = await Promise.all([ctx.caller, ctx.keyPair]);
        if (task.kind === 'bind' && !kp) throw keyPairNotFound(task.keyPairName ?? '?', task.regionId);
        await apply({ caller, task, item, keyPair: kp, owner }, lease);
      } catch (err) {
        // Another runner holds the item now and records its outcome; nothing is recorded here.
        if (err instanceof LeaseLost) {
          logger.warn('task item left to the runner that holds it now', { taskId: task.id, seq: item.seq });
          return;
        }
        if (!isCoreError(err))
          logger.error('task item failed unexpectedly', {
            taskId: task.id,
            seq: item.seq,
            error: err instanceof Error ? err.message : String(err),
          });
        await recorder.fail(
          item,
          isCoreError(err) ? err : new CoreError('Internal', 'An unexpected error stopped this change.'),
          owner,
        );
      }
    },
    finished(task: Task): void {
      contexts.delete(task.id);
      custody.release(task.id);
    },
    recordOutcome: (tx, task) => recordTaskOutcome(tx, task, { ids: deps.ids, clock }),
  });
  runner.register('on-restart', executor(recordForBoot));
  runner.register('live', executor(applyLiveItem));

  return {
    /**
     * Makes the task, holds its credential and submitter, and starts it. `within` runs in the transaction that
     * creates the task and may refuse it (a rotation's wave claim): then no task exists and nothing is held.
     */
    async submit(caller: Caller, req: BindRequest, within?: (tx: Repos, task: Task) => Promise<void>): Promise<Task> {
      let sealedFor: string | null = null;
      const task = await makeTask(
        caller,
        req,
        (taskId) => {
          sealedFor = taskId;
          return custody.seal(taskId, req.credential);
        },
        within,
      ).catch((err: unknown) => {
        if (sealedFor) custody.release(sealedFor);
        throw err;
      });
      // Set in the same turn as the task is returned from the store, with no read in between: a sweep that resumed
      // the task first would otherwise run its items as keyfleet itself, not as the submitter.
      contexts.set(task.id, {
        caller: Promise.resolve(caller),
        keyPair: task.keyPairId ? store.keyPairs.getById(task.accountId, task.keyPairId) : Promise.resolve(null),
      });
      runner.kick(task.id);
      return task;
    },
    /**
     * Whether a live credential (one sent with the task, or a host's unsealed management key) is still held in
     * memory for the task. For tests and diagnostics: it must be false once the task has ended, however it ended.
     */
    holdsCredential: (taskId: string): boolean => custody.holds(taskId),
  };
}

/** A task keyfleet made itself: no face but 'system' makes one, and no user has the id 'system'. */
export function isSystemTask(task: Pick<Task, 'face' | 'createdBy'>): boolean {
  return task.face === 'system' && task.createdBy === 'system';
}

/**
 * The caller of a task whose submitter no longer exists: the submitter's identity with no permissions, so every
 * item is refused by the same per-item authorization (an administrator that was deleted keeps no rights).
 */
function goneSubmitter(task: Task): Caller {
  return {
    accountId: task.accountId,
    userId: task.createdBy,
    userName: task.submitter?.userName ?? task.createdBy,
    isAccountAdmin: false,
    isSystemAdmin: false,
    accessKeyId: null,
    sessionId: null,
    face: task.face as Caller['face'],
    sourceIp: task.submitter?.sourceIp ?? '',
    requestId: task.requestId,
    permissions: compilePermissions([]),
  };
}

export type BindingModule = ReturnType<typeof createBindingModule>;
