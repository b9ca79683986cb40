/**
 * Task is a durable unit of work with one item per instance (an import: one item per host to register). Items
 * move pending → running → succeeded|failed; the task finishes when no item is pending or running. A crash leaves rows, not lost work: on start keyfleet
 * resumes every unfinished task, and each item's effect is committed together with its new state, so an item
 * is applied at most once.
 */
import type { Caller } from '../caller.js';

/** bind and unbind change key pairs (binding/); import registers hosts from an inventory (instance/inventory-import.ts). */
export type TaskKind = 'bind' | 'unbind' | 'import';
export type TaskMode = 'on-restart' | 'live';

/** The kind of an inventory import's task (with mode 'live': every host is contacted now). */
export const IMPORT_KIND = 'import' satisfies TaskKind;

/** Which executor runs a task's items: bind and unbind by their mode (each applies a key its own way), an import by its kind. */
export type ExecutorKey = TaskMode | 'import';

export function executorKey(task: Pick<Task, 'kind' | 'mode'>): ExecutorKey {
  return task.kind === IMPORT_KIND ? 'import' : task.mode;
}

/** Flat JSON data an item carries when its instance id is not enough to say what it is about (see TaskItem.payload). */
export type ItemPayload = Readonly<Record<string, string | number | boolean | null>>;
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
  /**
   * How the submitter reached keyfleet (with createdBy, face and requestId): kept so a task resumed after a
   * restart, or by another process, is authorized per item as its submitter and audited in the submitter's name.
   */
  submitter?: TaskSubmitter | null;
}

/** Who submitted a task, beyond its user id: identifiers and the source address only, never a secret. */
export interface TaskSubmitter {
  userName: string;
  accessKeyId: string | null;
  sessionId: string | null;
  sourceIp: string;
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
  /** A bind: when the binding ends (ISO, whole seconds); written as OpenSSH's expiry-time (issue 19). */
  expiresAt?: string;
  /**
   * An unbind made by the expiry sweeper: the expiry it ends (ISO). An instance whose binding no longer has that
   * expiry (extended, or bound again since) is left as it is.
   */
  endsExpiry?: string;
  /** An expiry unbind that retries an earlier one which failed: that task's id. */
  retryOf?: string;
}

export interface TaskItem {
  taskId: string;
  seq: number;
  /** The instance the item changes; for an import item, empty until the host is registered, then its new id. */
  instanceId: string;
  status: TaskItemStatus;
  attempts: number;
  errorCode: string | null;
  errorMessage: string | null;
  /** What happened, for people: 'bound, takes effect at next restart', 'verified by login', … */
  note: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /**
   * What the item is about when there is no instance yet, stored with it so a resumed task has it: for an import,
   * the inventory row and the settings to register it with, and once registered the host key pinned. Never a
   * secret (an import's management key is kept sealed with the task, apart from the items: ADR 3). For a live dry run,
   * the diffs and risks it found (binding/dry-run-preview.ts); absent or null for other binds and unbinds.
   */
  payload?: ItemPayload | null;
  /**
   * What a running item was about to do to its machine, recorded durably before the first remote write (and kept
   * until the item finishes): an item taken up again with an intent was interrupted after it may have written, so
   * the machine is observed, not assumed.
   */
  intent?: ItemIntent | null;
}

/** The key state an item wanted and the state it found on the machine just before writing. Never a secret. */
export interface ItemIntent {
  at: string;
  /** Public key line wanted in keyfleet's block (null: none) and password login wanted (null: sshd left alone). */
  desired: { publicKey: string | null; passwordLogin: boolean | null };
  /** What the machine had: the key lines in keyfleet's block, and password login per keyfleet's drop-in (null: unknown/none). */
  found: { publicKeys: string[]; passwordLogin: boolean | null };
}

/** A new task as submitted: queued, nothing done yet, recorded with who submitted it through which face. */
export function queuedTask(
  caller: Pick<
    Caller,
    'accountId' | 'face' | 'requestId' | 'userId' | 'userName' | 'accessKeyId' | 'sessionId' | 'sourceIp'
  >,
  what: Pick<Task, 'id' | 'regionId' | 'kind' | 'mode' | 'keyPairId' | 'keyPairName' | 'total' | 'options'>,
  now: Date,
): Task {
  return {
    ...what,
    accountId: caller.accountId,
    status: 'queued',
    succeeded: 0,
    failed: 0,
    face: caller.face,
    requestId: caller.requestId,
    createdBy: caller.userId,
    submitter: {
      userName: caller.userName,
      accessKeyId: caller.accessKeyId,
      sessionId: caller.sessionId,
      sourceIp: caller.sourceIp,
    },
    createdAt: now,
    startedAt: null,
    finishedAt: null,
  };
}

/** An item not started yet. */
export function pendingItem(taskId: string, seq: number, instanceId: string, payload?: ItemPayload): TaskItem {
  return {
    taskId,
    seq,
    instanceId,
    status: 'pending',
    attempts: 0,
    errorCode: null,
    errorMessage: null,
    note: null,
    startedAt: null,
    finishedAt: null,
    ...(payload ? { payload } : {}),
  };
}

export function taskStatusOf(t: Pick<Task, 'total' | 'succeeded' | 'failed'>): TaskStatus {
  if (t.succeeded + t.failed < t.total) return 'running';
  if (t.failed === 0) return 'succeeded';
  if (t.succeeded === 0) return 'failed';
  return 'partial';
}
