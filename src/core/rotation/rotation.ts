/**
 * A rotation replaces key pair A by key pair B on the instances bound to A, in waves: a canary wave first, then waves
 * of a fixed size with a pause between them. Each wave is one ordinary bind task of B (the durable task path, ADR 3),
 * which replaces A on each instance (one key pair per instance) and, live, proves B accepted and A refused.
 *
 * The rotation is a durable object in the store, advanced by a driver (rotation-driver.ts) that any process may run:
 * a wave is started by claiming it in the store in the transaction that creates its task, so it starts once however
 * many processes drive, and a restart continues where the store says the rotation is.
 */
import type { TaskMode, TaskSubmitter } from '../task/task.js';

/**
 * running: waves start as they fall due; paused: by hand, no wave starts (a running one finishes); stopped: a wave's
 * failures exceeded the threshold (resume retries its failed machines); cancelled: by hand, no wave starts again;
 * completed: every wave ran.
 */
export type RotationStatus = 'running' | 'paused' | 'stopped' | 'cancelled' | 'completed';
export type WaveStatus = 'pending' | 'running' | 'done';
/** skipped: the rotation was cancelled before the machine's wave started. */
export type MachineStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface Rotation {
  id: string;
  accountId: string;
  regionId: string;
  fromKeyPairId: string;
  fromKeyPairName: string;
  toKeyPairId: string;
  toKeyPairName: string;
  mode: TaskMode;
  /** SSH port for live changes (absent: each instance's own). */
  port: number | null;
  canarySize: number;
  waveSize: number;
  pauseMs: number;
  /** A wave with more failed machines than this stops the rotation. */
  maxFailures: number;
  status: RotationStatus;
  /** Why it stopped, was paused or cancelled (for people). */
  reason: string | null;
  total: number;
  succeeded: number;
  failed: number;
  waveCount: number;
  /** When the next pending wave may start (null: none is scheduled). */
  nextWaveAt: Date | null;
  face: string;
  requestId: string;
  createdBy: string;
  submitter: TaskSubmitter | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** Bumped by every change of the row: a change made from a stale read is refused (see RotationRepo.update). */
  version: number;
}

export interface RotationWave {
  rotationId: string;
  /** 1 is the canary. */
  n: number;
  /** 1, then +1 each time a resume retries the wave's failed machines. */
  attempt: number;
  size: number;
  status: WaveStatus;
  /** The bind task of the current attempt (null until started). */
  taskId: string | null;
  succeeded: number;
  failed: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RotationMachine {
  rotationId: string;
  instanceId: string;
  /** Order in the rotation (0-based). */
  position: number;
  wave: number;
  status: MachineStatus;
  taskId: string | null;
  errorCode: string | null;
  /** The proof ('verified by login: key B accepted, removed key refused') or why it failed. */
  detail: string | null;
  finishedAt: Date | null;
}

export interface RotationFilter {
  accountId: string;
  regionId?: string;
  statuses?: RotationStatus[];
  offset: number;
  limit: number;
}

export interface MachineFilter {
  wave?: number;
  status?: MachineStatus;
  offset: number;
  limit: number;
}

export interface MachineResult {
  instanceId: string;
  status: MachineStatus;
  taskId: string | null;
  errorCode: string | null;
  detail: string | null;
  finishedAt: Date | null;
}

export interface RotationRepo {
  insert(
    r: Rotation,
    waves: RotationWave[],
    machines: RotationMachine[],
    sealedCredential: string | null,
  ): Promise<void>;
  get(accountId: string, id: string): Promise<Rotation | null>;
  list(filter: RotationFilter): Promise<Page<Rotation>>;
  waves(rotationId: string): Promise<RotationWave[]>;
  machines(rotationId: string, filter: MachineFilter): Promise<Page<RotationMachine>>;
  /** Rotations a driver must look at, across accounts: running ones, and any with a wave running. */
  active(): Promise<Rotation[]>;
  /**
   * Writes the rotation if its stored version is still `r.version` (and stores version + 1); false: someone else
   * changed it since it was read, nothing was written.
   */
  update(r: Rotation): Promise<boolean>;
  /** Marks the wave's attempt running with its task, only if it is still pending: true for exactly one caller. */
  claimWave(rotationId: string, n: number, attempt: number, taskId: string, now: Date): Promise<boolean>;
  /** Marks a running wave done with its counts, only if it is still running with this task: true for exactly one caller. */
  finishWave(
    rotationId: string,
    n: number,
    taskId: string,
    counts: { succeeded: number; failed: number },
    now: Date,
  ): Promise<boolean>;
  /** Puts a done wave back to pending as a new attempt of `size` machines (a resume retrying its failures). */
  retryWave(rotationId: string, n: number, size: number): Promise<void>;
  /** Sets the result of these machines. */
  setMachines(rotationId: string, results: readonly MachineResult[]): Promise<void>;
  /** Moves every machine of the rotation (of one wave, if given) in status `from` to `to`; returns how many. */
  moveMachines(rotationId: string, from: MachineStatus, to: MachineStatus, wave?: number): Promise<number>;
  /** The sealed live credential of the rotation (null: none, or wiped). */
  credential(rotationId: string): Promise<string | null>;
  wipeCredential(rotationId: string): Promise<void>;
}

/** Bounds on what a caller may ask (every one a tenant-controlled input). */
/** A page of a list (as ports.ts's Page; not imported from there, which imports this file). */
export interface Page<T> {
  items: T[];
  total: number;
}

export const ROTATION_LIMITS = {
  maxInstances: 10_000,
  maxWaveSize: 500,
  maxPauseMs: 24 * 3600_000,
  /** Rotations that may be running, paused or stopped at once in one account. */
  maxOpenPerAccount: 20,
} as const;

/** The machines of each wave, in order: the canary, then waves of `waveSize`. */
export function planWaves(count: number, canarySize: number, waveSize: number): number[] {
  const sizes: number[] = [];
  let left = count;
  const first = Math.min(canarySize, left);
  if (first > 0) sizes.push(first);
  left -= first;
  while (left > 0) {
    const n = Math.min(waveSize, left);
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

/** The canary's size: a count, or a percentage of the machines (rounded up, at least one). */
export function canarySizeOf(count: number, canary: { count?: number; percent?: number }): number {
  if (canary.percent !== undefined) return Math.max(1, Math.ceil((count * canary.percent) / 100));
  return canary.count ?? 1;
}

export const OPEN_STATUSES: readonly RotationStatus[] = ['running', 'paused', 'stopped'];

export function isOpen(r: Pick<Rotation, 'status'>): boolean {
  return OPEN_STATUSES.includes(r.status);
}
