/**
 * A re-observation (ADR 26): after a live change was interrupted and the machine did not answer when keyfleet asked
 * what it does now, the item fails Live.StateUnknown and the instance is recorded unverified. The mark below is
 * written in that same transaction, so keyfleet keeps asking (reobserve-sweeper.ts) until the machine answers or a
 * newer change to the instance's key state makes the question moot. It holds what judging an answer needs (the
 * key state the change wanted and the key it replaced), never a credential: the probes need none.
 */
import { createHash } from 'node:crypto';
import type { Instance } from '../instance/instance.js';
import type { TaskKind, TaskMode } from '../task/task.js';

/** The key state the interrupted change wanted (bind: the key pair; unbind: none). */
export interface WantedKeyState {
  kind: TaskKind;
  mode: TaskMode;
  keyPair: { id: string; name: string; publicKey: string } | null;
  /** The bind's expiry (ISO), which the key pair's line carries. */
  expiresAt: string | null;
  /** Password login as the change wanted it (null: sshd's password login is not managed there). */
  passwordLogin: boolean | null;
  /** The SSH port the change used, when the task named one. */
  port: number | null;
}

export interface Reobservation {
  accountId: string;
  instanceId: string;
  /** The task whose item could not be observed. */
  taskId: string;
  wanted: WantedKeyState;
  /** The key the change replaced or removed (null: none). */
  oldPublicKey: string | null;
  /** Password login before the change, as far as known (null: unknown). */
  passwordBefore: boolean | null;
  /** The instance's key state when the mark was written (keyStateToken): anything else there supersedes the mark. */
  stateToken: string;
  /** Times the machine was asked (claims); the compare-and-set of a claim. */
  attempts: number;
  /** When it is asked next (while claimed: when the claim lapses). */
  dueAt: Date;
  lastAskedAt: Date | null;
  createdAt: Date;
}

export interface ReobservationRepo {
  /** Writes the mark of an instance, replacing an older one (the latest interrupted change is the one to judge). */
  put(mark: Reobservation): Promise<void>;
  get(instanceId: string): Promise<Reobservation | null>;
  /** Marks due at or before `now`, the earliest first. */
  due(now: Date, limit: number): Promise<Reobservation[]>;
  /**
   * Claims a due mark until `until` (its dueAt moves there, attempts + 1), only if it is still as read (same task,
   * attempts and due time): of several processes reading the same mark, one claims it.
   */
  claim(mark: Reobservation, until: Date): Promise<boolean>;
  /**
   * After an unanswered ask by the claim holder: next due time, last asked time and the instance's new key state
   * token. False when the mark is no longer that claim (replaced by a newer interrupted change, or taken over).
   */
  reschedule(
    claimed: Pick<Reobservation, 'instanceId' | 'taskId' | 'attempts'>,
    next: { dueAt: Date; lastAskedAt: Date; stateToken: string },
  ): Promise<boolean>;
  /** Deletes the mark if it is still that claim; false when it is not. */
  remove(claimed: Pick<Reobservation, 'instanceId' | 'taskId' | 'attempts'>): Promise<boolean>;
  /**
   * Holds the instance's row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite has one writer), so the
   * key state read next is the latest and no other change is recorded between the check and the write.
   */
  lockInstance(accountId: string, instanceId: string): Promise<void>;
}

/**
 * The instance's key state as recorded, in a short value: the key pair, the keys wanted and applied, password
 * login, expiry, mode and what verified it. A bind, unbind, boot or proof recorded since the mark changes it.
 */
export function keyStateToken(inst: Instance): string {
  const state = [
    inst.keyPairId,
    inst.desiredPublicKey,
    inst.appliedPublicKey,
    inst.appliedPasswordLogin,
    inst.keyExpiresAt?.getTime() ?? null,
    inst.appliedKeyExpiresAt?.getTime() ?? null,
    inst.bindingMode ?? null,
    inst.pendingRestart,
    inst.verifiedAt?.getTime() ?? null,
    inst.verification ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

/** Default delays between asks: 5 s, 30 s, then every 5 minutes (KEYFLEET_REOBSERVE_MS). */
export const DEFAULT_REOBSERVE_DELAYS_MS: readonly number[] = [5_000, 30_000, 300_000];

/** The delay before ask number `attempts + 1`: the schedule's step, its last step repeating. */
export function reobserveDelay(delays: readonly number[], attempts: number): number {
  return delays[Math.min(attempts, delays.length - 1)] ?? DEFAULT_REOBSERVE_DELAYS_MS[0]!;
}
