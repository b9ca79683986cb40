/**
 * Live changes (Huawei's way): applied now over SSH and proven by a fresh login (live-apply.ts); a Stopped
 * machine takes the change at its next start instead. The credential comes from custody: the request's, or a
 * registered host's management key (ADR 9).
 */
import type { Authorizer } from '../authz/authorizer.js';
import type { Clock } from '../clock.js';
import { CoreError, isCoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import type { Instance, InstanceType } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { KeyPair } from '../keypair/keypair.js';
import { type Metrics, noMetrics } from '../metrics.js';
import type { LiveAccess, Store } from '../ports.js';
import type { ItemLease } from '../task/task-runner.js';
import type { ItemIntent, Task, TaskItem } from '../task/task.js';
import type { CredentialCustody } from './credential-custody.js';
import { planLiveChange } from './host-profile.js';
import { itemRefusal } from './item-eligibility.js';
import { type ItemProof, type ItemRecorder, type ItemRun, NOT_BOUND_NOTE, unbindsAnother } from './item-record.js';
import { applyLive } from './live-apply.js';
import { previewPayload } from './dry-run-preview.js';
import {
  LeaseLost,
  type LiveApplyHooks,
  type LiveHostProfile,
  type LiveKeyState,
  type LiveOutcome,
} from './live-change.js';
import { observeMachine } from './live-observe.js';
import { DEFAULT_REOBSERVE_DELAYS_MS, keyStateToken, type Reobservation } from './reobservation.js';
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
  /** Live changes and their proofs by result, with durations (default: none recorded). */
  metrics?: Metrics;
  /**
   * Records that an item logs in with the escrowed private key of the key pair bound now (the request gave no
   * credential): called before the login, so the trail says so whether or not the change then succeeds.
   */
  escrowUsed?: (run: ItemRun, inst: Instance, keyPair: KeyPair) => Promise<void>;
  /** How long after an unanswered observation the machine is first asked again (default 5 s; ADR 26). */
  reobserveAfterMs?: number;
}

export function createLiveExecutor(deps: LiveExecutorDeps) {
  const { store, recorder, custody } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const seconds = (since: number) => (deps.clock.now().getTime() - since) / 1000;

  return async function applyItem(run: ItemRun, lease?: ItemLease): Promise<void> {
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
    let credential = (await custody.given(task.id)) ?? management;
    // Failing those, the escrowed private key of the key pair bound now, as Huawei's KPS does (an unbind or a
    // replace without `auth`); recorded in the audit trail before it is used.
    let escrowedFrom: KeyPair | null = null;
    if (!credential && !unbindsAnother(task, inst)) {
      const escrowed = await custody.escrowedKey(inst);
      if (escrowed) {
        credential = escrowed.credential;
        escrowedFrom = escrowed.keyPair;
        await deps.escrowUsed?.(run, inst, escrowed.keyPair);
      }
    }
    if (!credential) {
      const code = item.attempts > 1 ? 'Live.CredentialLost' : 'Live.CredentialRequired';
      const why =
        'A live change to a running instance needs a credential (the root password, or the private key of the key pair bound now, given with the request or escrowed with that key pair); it is kept, sealed, for this task only and was not given or is no longer held.';
      return recorder.fail(item, new CoreError(code, why, { instanceId: inst.id }), owner);
    }
    const viaEscrow = escrowedFrom
      ? ` (logged in with the escrowed private key of key pair '${escrowedFrom.name}')`
      : '';
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
    const dryRun = task.options.dryRun === true;
    // Whether a write may have reached the machine: an earlier run of this item recorded its intent (it was
    // interrupted after that), or this one did.
    let mayHaveWritten = !dryRun && item.intent != null;
    let found = item.intent?.found ?? null;
    const hooks: LiveApplyHooks = {
      proved: (result, startedAt) => {
        metrics.inc('live_proofs_total', { result });
        metrics.observe('live_proof_duration_seconds', { result }, seconds(startedAt));
      },
      ...(lease
        ? {
            beforeWrite: async (state) => {
              const intent: ItemIntent = {
                at: deps.clock.now().toISOString(),
                desired: { publicKey: plan.desired.key?.publicKey ?? null, passwordLogin: plan.desired.passwordLogin },
                found: state,
              };
              const held = await lease.recordIntent(intent);
              if (held) {
                mayHaveWritten = true;
                found ??= state;
              }
              return held;
            },
            mayRestore: () => lease.holds(),
          }
        : {}),
    };
    let outcome: LiveOutcome;
    const changeStarted = deps.clock.now().getTime();
    const changed = (result: string) => {
      if (dryRun) return;
      metrics.inc('live_changes_total', { kind: task.kind, result });
      metrics.observe('live_change_duration_seconds', { kind: task.kind, result }, seconds(changeStarted));
    };
    try {
      outcome = await withRetries(
        () =>
          applyLive(
            deps.live,
            plan.profile,
            credential,
            plan.desired,
            { verify: task.options.verify !== false, dryRun, reloadAfterInterruption: mayHaveWritten },
            deps.clock,
            hooks,
          ),
        deps.retry,
        {
          clock: deps.clock,
          random: deps.random,
          onRetry: (attempt, code, delayMs) => deps.onRetry?.(item, attempt, code, delayMs),
        },
      );
    } catch (err) {
      changed(err instanceof LeaseLost ? 'LeaseLost' : isCoreError(err) ? err.code : 'Error');
      if (err instanceof LeaseLost || !isCoreError(err) || dryRun) throw err;
      // The machine may have changed although the change failed: this run or an earlier one recorded its intent
      // and then a write was interrupted, or the credential was refused because that earlier run's change already
      // took effect (password login off). Ask the machine. With no intent on record nothing was written: the error
      // stands as it is (a wrong credential on an untouched machine is Live.CredentialRejected).
      if (!mayHaveWritten) throw err;
      return recordObserved(run, inst, plan, found?.passwordLogin ?? null, err);
    }
    changed('applied');
    if (dryRun)
      return recorder.note(
        item,
        `${outcome.verified}${viaEscrow}`,
        owner,
        outcome.preview ? previewPayload(outcome.preview) : undefined,
      );
    const verified = task.options.verify !== false;
    const note = verified
      ? `applied live and verified by login: ${outcome.verified}${viaEscrow}`
      : `applied live: ${outcome.verified}${viaEscrow}`;
    return recordApplied(task, item, inst.id, kp, note, owner, {
      verified,
      text: outcome.verified,
      passwordLogin: plan.desired.passwordLogin,
    });
  };

  /** After a failed or interrupted change: what the machine does now, recorded exactly (ItemRun's instance as read). */
  async function recordObserved(
    run: ItemRun,
    inst: Instance,
    plan: { profile: LiveHostProfile; desired: LiveKeyState },
    passwordFound: boolean | null,
    err: CoreError,
  ): Promise<void> {
    const { task, item, keyPair: kp, owner } = run;
    const oldKey = inst.appliedPublicKey ?? inst.desiredPublicKey;
    const seen = await observeMachine({
      access: deps.live,
      profile: plan.profile,
      desired: plan.desired,
      oldPublicKey: oldKey,
      passwordBefore: passwordFound ?? (plan.desired.passwordLogin === null ? null : inst.appliedPasswordLogin),
      hostKey: plan.profile.hostKey,
    });
    const at = deps.clock.now().toISOString();
    if (seen.verdict === 'applied') {
      const note = `applied (${err.code} on the way; observed by probe at ${at}: ${seen.description})`;
      return recordApplied(task, item, inst.id, kp, note, owner, {
        verified: true,
        text: seen.description,
        passwordLogin: seen.passwordOn,
      });
    }
    const previous = inst.keyPairId
      ? { id: inst.keyPairId, name: inst.keyPairName ?? '', publicKey: oldKey ?? '' }
      : null;
    // The key pair whose key the machine accepts now: the wanted one, else the previous one unless it is refused.
    const keyPair = seen.keyAccepted === true && kp ? kp : seen.oldKeyAccepted === false ? null : previous;
    if (seen.verdict === 'unknown') {
      // Nothing is assumed: the record keeps what it said, marked unverified, and the item says it could not know;
      // keyfleet asks the machine again until it answers (the mark commits with the failure, ADR 26).
      const why = `The change was interrupted (${err.code}: ${err.message}) and ${seen.description}; the record may not match the machine until it is observed, which keyfleet keeps trying. Retry the change: it converges from whatever the machine has.`;
      const now = deps.clock.now();
      const reobserve = (recorded: Instance): Reobservation => ({
        accountId: recorded.accountId,
        instanceId: recorded.id,
        taskId: task.id,
        wanted: {
          kind: task.kind,
          mode: task.mode,
          keyPair: kp && task.kind === 'bind' ? { id: kp.id, name: kp.name, publicKey: kp.publicKey } : null,
          expiresAt: task.options.expiresAt ?? null,
          passwordLogin: plan.desired.passwordLogin,
          port: task.options.port ?? null,
        },
        oldPublicKey: oldKey,
        passwordBefore: passwordFound ?? (plan.desired.passwordLogin === null ? null : inst.appliedPasswordLogin),
        stateToken: keyStateToken(recorded),
        attempts: 0,
        dueAt: new Date(now.getTime() + (deps.reobserveAfterMs ?? DEFAULT_REOBSERVE_DELAYS_MS[0]!)),
        lastAskedAt: now,
        createdAt: now,
      });
      return recorder.failObserved(
        task,
        item,
        new CoreError('Live.StateUnknown', why, { instanceId: inst.id }),
        {
          keyPair: inst.keyPairId ? previous : null,
          passwordLogin: null,
          verified: false,
          verification: `interrupted at ${at} and the machine did not answer`,
        },
        owner,
        reobserve,
      );
    }
    const observed = {
      keyPair,
      passwordLogin: seen.passwordOn,
      verified: true,
      verification: `observed by probe after a failed change: ${seen.description}`,
    };
    if (seen.verdict === 'not-applied') {
      // Nothing took effect: the item fails with its own error (retryable where the fault is).
      return recorder.failObserved(task, item, err, observed, owner);
    }
    const why = `Part of the change took effect (${seen.description}) before it failed (${err.code}: ${err.message}). Run the ${task.kind} again to finish it.`;
    return recorder.failObserved(
      task,
      item,
      new CoreError('Live.PartlyApplied', why, { instanceId: inst.id }),
      observed,
      owner,
    );
  }

  async function recordApplied(
    task: Task,
    item: TaskItem,
    instanceId: string,
    kp: KeyPair | null,
    note: string,
    owner: string,
    proof?: ItemProof,
  ): Promise<void> {
    await store.transaction(async (tx) => {
      const cur = await tx.instances.get(task.accountId, instanceId);
      if (!cur) throw instanceNotFound(instanceId);
      if (!(await recorder.succeed(tx, task, item, cur, kp, true, note, owner, proof))) throw new LeaseLost();
    });
  }
}

export type ApplyLiveItem = ReturnType<typeof createLiveExecutor>;
