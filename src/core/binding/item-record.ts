/**
 * Recording an item's outcome. A success records the instance's new desired key state, the item and a binding
 * event in one transaction, and only while this runner still holds the item's lease: a late result never
 * overwrites another runner's.
 */
import type { Caller } from '../caller.js';
import type { Clock } from '../clock.js';
import type { CoreError } from '../errors.js';
import { isRestartPending } from '../instance/instance-state.js';
import type { Instance } from '../instance/instance.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { Repos, Store } from '../ports.js';
import type { ItemPayload, Task, TaskItem } from '../task/task.js';
import { LeaseLost } from './live-change.js';
import type { Reobservation } from './reobservation.js';

/** One item as an executor runs it: who submitted the task, the task, the item, its key pair and the lease owner. */
export interface ItemRun {
  caller: Caller;
  task: Task;
  item: TaskItem;
  keyPair: KeyPair | null;
  owner: string;
}

/** What a live change's proof (or an observation) showed, recorded on the instance with the change. */
export interface ItemProof {
  /** Proven by a fresh login or probe (false: written without a proof). */
  verified: boolean;
  text: string;
  /** Password login as the machine has it now (null/absent: as the product rule says). */
  passwordLogin?: boolean | null;
}

/** What an item found the machine doing when it could not finish: recorded so the record equals the machine. */
export interface ObservedState {
  /** The key pair whose key the machine accepts now (null: none), as far as the probes could tell. */
  keyPair: Pick<KeyPair, 'id' | 'name' | 'publicKey'> | null;
  passwordLogin: boolean | null;
  /** Whether the probes saw the state recorded here (false: the machine could not be asked). */
  verified: boolean;
  verification: string;
}

/**
 * An unbind of a key pair the instance does not have, or an expiry's unbind of a binding whose expiry changed since
 * (extended, or bound again): the item succeeds and changes nothing.
 */
export function unbindsAnother(task: Task, inst: Pick<Instance, 'keyPairId' | 'keyExpiresAt'>): boolean {
  if (task.kind !== 'unbind') return false;
  if (task.keyPairId !== null && inst.keyPairId !== task.keyPairId) return true;
  return task.options.endsExpiry !== undefined && inst.keyExpiresAt?.toISOString() !== task.options.endsExpiry;
}

/**
 * The instance with the key state the task's item asks for (not yet applied): what a success records, and what an
 * on-restart dry run previews the next boot with.
 */
export function withDesiredKey(inst: Instance, task: Task, kp: KeyPair | null): Instance {
  const key = task.kind === 'bind' && kp ? kp : null;
  return {
    ...inst,
    keyPairId: key?.id ?? null,
    keyPairName: key?.name ?? null,
    desiredPublicKey: key?.publicKey ?? null,
    keyExpiresAt: key && task.options.expiresAt ? new Date(task.options.expiresAt) : null,
    bindingMode: key ? task.mode : null,
  };
}

/** The change an observation is judged against: which key pair it wanted, in which mode, with which expiry. */
export interface ObservedChange {
  kind: Task['kind'];
  mode: Task['mode'];
  keyPairId: string | null;
  expiresAt: string | null;
}

export function observedChange(task: Task): ObservedChange {
  return {
    kind: task.kind,
    mode: task.mode,
    keyPairId: task.keyPairId,
    expiresAt: task.options.expiresAt ?? null,
  };
}

/** Builds the re-observation mark from the instance as just recorded (its key state token is taken from it). */
export type ReobserveLater = (recorded: Instance) => Reobservation;

/**
 * Writes on the instance what the machine was observed to do (or that it could not be asked): the key pair it
 * accepts, with the wanted bind's expiry and mode when it is the wanted one, password login, and the verification.
 */
export function recordObservedState(inst: Instance, change: ObservedChange, observed: ObservedState, now: Date): void {
  if (observed.keyPair?.id !== inst.keyPairId) {
    // The machine accepts another key than the record's (or none): what it has is the wanted bind's, with its
    // expiry, or the previous binding's (kept as recorded).
    const wanted = observed.keyPair !== null && change.kind === 'bind' && observed.keyPair.id === change.keyPairId;
    inst.keyExpiresAt = wanted && change.expiresAt ? new Date(change.expiresAt) : null;
    inst.bindingMode = observed.keyPair ? change.mode : null;
  }
  inst.keyPairId = observed.keyPair?.id ?? null;
  inst.keyPairName = observed.keyPair?.name ?? null;
  inst.desiredPublicKey = observed.keyPair?.publicKey ?? null;
  inst.appliedPublicKey = inst.desiredPublicKey;
  inst.appliedKeyExpiresAt = inst.keyExpiresAt ?? null;
  if (observed.passwordLogin !== null) inst.appliedPasswordLogin = observed.passwordLogin;
  inst.verifiedAt = observed.verified ? now : null;
  inst.verification = observed.verification;
  inst.pendingRestart = isRestartPending(inst);
  inst.updatedAt = now;
}

export const NOT_BOUND_NOTE = 'not bound to this key pair; nothing changed';

export function createItemRecorder(store: Store, clock: Clock) {
  /** Records the desired key state of one instance and the item's success; false when the lease was lost. */
  async function succeed(
    tx: Repos,
    task: Task,
    item: TaskItem,
    inst: Instance,
    kp: KeyPair | null,
    applied: boolean,
    note: string,
    owner: string,
    proof?: ItemProof,
  ): Promise<boolean> {
    const other = unbindsAnother(task, inst);
    if (!other) {
      Object.assign(inst, withDesiredKey(inst, task, kp));
      if (applied) {
        inst.appliedPublicKey = inst.desiredPublicKey;
        inst.appliedKeyExpiresAt = inst.keyExpiresAt;
        inst.appliedPasswordLogin = proof?.passwordLogin ?? inst.desiredPublicKey === null;
        inst.verifiedAt = proof?.verified ? clock.now() : null;
        inst.verification = proof?.verified ? proof.text : (proof?.text ?? 'written without a login proof');
      }
      inst.pendingRestart = isRestartPending(inst);
      inst.updatedAt = clock.now();
      await tx.instances.update(inst);
    }
    const done: TaskItem = {
      ...item,
      status: 'succeeded',
      finishedAt: clock.now(),
      note: other ? NOT_BOUND_NOTE : note,
    };
    if (!(await tx.tasks.finishItem(done, owner))) return false;
    if (!other) {
      await tx.events.insert({
        taskId: task.id,
        seq: item.seq,
        instanceId: inst.id,
        accountId: inst.accountId,
        action: task.kind === 'unbind' ? 'unbind' : 'bind',
        keyPairId: task.kind === 'bind' ? (kp?.id ?? null) : task.keyPairId,
        keyPairName: task.kind === 'bind' ? (kp?.name ?? null) : task.keyPairName,
        mode: applied ? 'live' : 'on-restart',
        at: clock.now(),
      });
    }
    return true;
  }

  const failedItem = (item: TaskItem, err: CoreError): TaskItem => ({
    ...item,
    status: 'failed',
    errorCode: err.code,
    errorMessage: err.message,
    finishedAt: clock.now(),
  });

  /**
   * Fails an item and records on its instance what the machine was observed to do (a change that took effect in
   * part, or not at all), in one transaction, only while this runner holds the item.
   */
  async function failObserved(
    task: Task,
    item: TaskItem,
    err: CoreError,
    observed: ObservedState,
    owner: string,
    reobserve?: ReobserveLater,
  ): Promise<void> {
    await store.transaction(async (tx) => {
      const inst = await tx.instances.get(task.accountId, item.instanceId);
      if (!(await tx.tasks.finishItem(failedItem(item, err), owner))) throw new LeaseLost();
      if (!inst) return;
      recordObservedState(inst, observedChange(task), observed, clock.now());
      await tx.instances.update(inst);
      // The machine did not answer: the mark to ask it again commits with the record that says so (ADR 26).
      if (reobserve) await tx.reobservations.put(reobserve(inst));
    });
  }

  return {
    succeed,
    failObserved,
    /** An item that succeeds without recording a change (dry run). */
    async note(item: TaskItem, note: string, owner: string, payload?: ItemPayload): Promise<void> {
      await store.transaction((tx) =>
        tx.tasks.finishItem(
          { ...item, status: 'succeeded', finishedAt: clock.now(), note, ...(payload ? { payload } : {}) },
          owner,
        ),
      );
    },
    async fail(item: TaskItem, err: CoreError, owner: string, tx?: Repos): Promise<void> {
      const failed = failedItem(item, err);
      if (tx) await tx.tasks.finishItem(failed, owner);
      else await store.transaction((t) => t.tasks.finishItem(failed, owner));
    },
  };
}

export type ItemRecorder = ReturnType<typeof createItemRecorder>;
