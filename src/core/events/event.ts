/**
 * Events keyfleet tells an account's webhook endpoints about. Each is written to the outbox (outbox.ts) in the
 * transaction of the state change that causes it, so an event exists exactly when its cause was committed; the
 * dispatcher (dispatcher.ts) delivers it afterwards, at least once.
 */
import type { Task } from '../task/task.js';

export const EVENT_TYPES = ['task.finished', 'verification.failed', 'drift.found'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

/** Flat JSON the receiver gets under `data`: identifiers, counts and texts only, never a secret. */
export type EventData = Readonly<Record<string, unknown>>;

/** An event about to be written to the outbox; the store gives it its id. */
export interface NewEvent {
  accountId: string;
  type: EventType;
  at: Date;
  data: EventData;
}

/** The body every endpoint receives (JSON): the event id is the receiver's key for deduplication. */
export interface EventEnvelope {
  id: string;
  type: EventType;
  createdAt: string;
  accountId: string;
  data: EventData;
}

/** A task ended: its final status with the per-item outcome counts. */
export function taskFinishedEvent(task: Task, at: Date): NewEvent {
  return {
    accountId: task.accountId,
    type: 'task.finished',
    at,
    data: {
      taskId: task.id,
      regionId: task.regionId,
      kind: task.kind,
      mode: task.mode,
      status: task.status,
      keyPairName: task.keyPairName,
      items: { total: task.total, succeeded: task.succeeded, failed: task.failed },
      dryRun: task.options?.dryRun === true,
      createdAt: task.createdAt.toISOString(),
      finishedAt: (task.finishedAt ?? at).toISOString(),
    },
  };
}

/** A fresh login did not prove the key state a machine should have after its boot. */
export function verificationFailedEvent(
  inst: { accountId: string; regionId: string; id: string; name: string; keyPairName: string | null },
  reason: string,
  at: Date,
): NewEvent {
  return {
    accountId: inst.accountId,
    type: 'verification.failed',
    at,
    data: {
      instanceId: inst.id,
      regionId: inst.regionId,
      name: inst.name,
      keyPairName: inst.keyPairName,
      reason,
    },
  };
}

/** At most this many drifted hosts are listed in one drift.found event (the count is always whole). */
export const DRIFT_EVENT_MAX_HOSTS = 100;

/** A drift scan found machines whose keys or login settings differ from what keyfleet recorded. */
export function driftFoundEvent(
  accountId: string,
  regionId: string,
  scanned: number,
  drifted: ReadonlyArray<{ instanceId: string; name: string; keyPairName: string | null; findings: number }>,
  at: Date,
): NewEvent {
  return {
    accountId,
    type: 'drift.found',
    at,
    data: {
      regionId,
      scanned,
      driftedCount: drifted.length,
      drifted: drifted.slice(0, DRIFT_EVENT_MAX_HOSTS),
      truncated: drifted.length > DRIFT_EVENT_MAX_HOSTS,
    },
  };
}
