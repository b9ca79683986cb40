/**
 * Live changes (Huawei's way): applied now over SSH and proven by a fresh login (live-apply.ts); a Stopped
 * machine takes the change at its next start instead. The credential comes from custody: the request's, or a
 * registered host's management key (ADR 9).
 */
import type { Authorizer } from '../authz/authorizer.js';
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import type { InstanceType } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { LiveAccess, Store } from '../ports.js';
import type { Task, TaskItem } from '../task/task.js';
import type { CredentialCustody } from './credential-custody.js';
import { planLiveChange } from './host-profile.js';
import { itemRefusal } from './item-eligibility.js';
import { type ItemRecorder, type ItemRun, NOT_BOUND_NOTE, unbindsAnother } from './item-record.js';
import { applyLive } from './live-apply.js';
import type { RecordForBoot } from './on-restart-executor.js';
import { type RetryPolicy, withRetries } from './retry.js';

export interface LiveExecutorDeps {
  store: Store;
  live: LiveAccess;
  keys: KeyMaterial;
  clock: Clock;
  random: () => number;
  authz: Authorizer;
  instanceTypes: () => readonly InstanceType[];
  recorder: ItemRecorder;
  custody: CredentialCustody;
  recordForBoot: RecordForBoot;
  retry: RetryPolicy;
  timeoutMs: number;
  onRetry?: (item: TaskItem, attempt: number, code: string, delayMs: number) => void;
}

export function createLiveExecutor(deps: LiveExecutorDeps) {
  const { store, recorder, custody } = deps;

  return async function applyItem(run: ItemRun): Promise<void> {
    const { caller, task, item, keyPair: kp, owner } = run;
    const inst = await store.instances.get(task.accountId, item.instanceId);
    const refusal = itemRefusal(deps.authz, deps.instanceTypes(), caller, task, inst, item);
    if (refusal || !inst) return recorder.fail(item, refusal!, owner);
    if (inst.status === 'Stopped') return deps.recordForBoot(run);
    if (inst.status !== 'Running') {
      const why = `The instance '${inst.id}' is ${inst.status}; a live change needs it Running (or Stopped, to apply at its next start).`;
      return recorder.fail(
        item,
        new CoreError('Instance.IncorrectStatus', why, { instanceId: inst.id, status: inst.status }),
        owner,
      );
    }
    // A registered host's sealed management key is used when the request carries no credential (ADR 9).
    const management = custody.managementKey(task.id, inst);
    const credential = custody.given(task.id) ?? management;
    if (!credential) {
      // A credential lives in memory for its task only; after a keyfleet restart it is gone on purpose.
      const code = item.attempts > 1 ? 'Live.CredentialLost' : 'Live.CredentialRequired';
      const why =
        'A live change to a running instance needs a credential (the root password, or the private key of the key pair bound now); it is used for this task only and was not given or is no longer held.';
      return recorder.fail(item, new CoreError(code, why, { instanceId: inst.id }), owner);
    }
    if (unbindsAnother(task, inst)) {
      if (task.options.dryRun) return recorder.note(item, `dry run: ${NOT_BOUND_NOTE}`, owner);
      return recordApplied(task, item, inst.id, kp, NOT_BOUND_NOTE, owner);
    }
    const plan = planLiveChange({
      task,
      instance: inst,
      keyPair: kp,
      credential,
      management,
      keys: deps.keys,
      timeoutMs: deps.timeoutMs,
    });
    if (plan instanceof CoreError) return recorder.fail(item, plan, owner);
    const outcome = await withRetries(
      () =>
        applyLive(
          deps.live,
          plan.profile,
          credential,
          plan.desired,
          { verify: task.options.verify !== false, dryRun: task.options.dryRun === true },
          deps.clock,
        ),
      deps.retry,
      {
        clock: deps.clock,
        random: deps.random,
        onRetry: (attempt, code, delayMs) => deps.onRetry?.(item, attempt, code, delayMs),
      },
    );
    if (task.options.dryRun) return recorder.note(item, outcome.verified, owner);
    const note =
      task.options.verify === false
        ? `applied live: ${outcome.verified}`
        : `applied live and verified by login: ${outcome.verified}`;
    return recordApplied(task, item, inst.id, kp, note, owner);
  };

  async function recordApplied(
    task: Task,
    item: TaskItem,
    instanceId: string,
    kp: KeyPair | null,
    note: string,
    owner: string,
  ): Promise<void> {
    await store.transaction(async (tx) => {
      const cur = await tx.instances.get(task.accountId, instanceId);
      if (!cur) throw instanceNotFound(instanceId);
      if (!(await recorder.succeed(tx, task, item, cur, kp, true, note, owner)))
        throw new CoreError('Internal', 'The task item was taken over by another worker.');
    });
  }
}

export type ApplyLiveItem = ReturnType<typeof createLiveExecutor>;
