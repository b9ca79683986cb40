/**
 * Task is a durable unit of work with one item per instance. Items move pending → running → succeeded|failed;
 * the task finishes when no item is pending or running. A crash leaves rows, not lost work: on start keyfleet
 * resumes every unfinished task, and each item's effect is committed together with its new state, so an item
 * is applied at most once.
 */
export type TaskKind = 'bind' | 'unbind';
export type TaskMode = 'on-restart' | 'live';
export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'partial';
export type TaskItemStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface Task {
  id: string;
  accountId: string;
  regionId: string;
  kind: TaskKind;
  mode: TaskMode;
  keyPairId: string | null;
  keyPairName: string | null;
  status: TaskStatus;
  total: number;
  succeeded: number;
  failed: number;
  face: string;
  requestId: string;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Options of a live change that are not secret (SSH port, whether to turn password login off). */
  options: TaskOptions;
}

export interface TaskOptions {
  port?: number;
  disablePassword?: boolean;
  /** Huawei's flavours: reset (no credential), replace (old private key), unbind. */
  flavour?: 'reset' | 'replace' | 'bind' | 'unbind';
  /** Live: prove each change with a fresh login (default true). */
  verify?: boolean;
  /** Read and plan per instance, change and record nothing; each item's note says what would change. */
  dryRun?: boolean;
}

export interface TaskItem {
  taskId: string;
  seq: number;
  instanceId: string;
  status: TaskItemStatus;
  attempts: number;
  errorCode: string | null;
  errorMessage: string | null;
  /** What happened, for people: 'bound, takes effect at next restart', 'verified by login', … */
  note: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export function taskStatusOf(t: Pick<Task, 'total' | 'succeeded' | 'failed'>): TaskStatus {
  if (t.succeeded + t.failed < t.total) return 'running';
  if (t.failed === 0) return 'succeeded';
  if (t.succeeded === 0) return 'failed';
  return 'partial';
}
