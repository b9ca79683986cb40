/**
 * The dispatcher delivers the outbox at least once. Every `pollMs` it leases due rows (several processes on one
 * PostgreSQL never hold the same row), posts each one signed to its endpoint, and records the attempt with its
 * outcome under the lease: a 2xx answer delivers it; anything else (no answer, a timeout, another status) tries
 * it again after a doubling backoff with jitter, up to `maxAttempts`. A process that dies mid-delivery leaves its
 * rows leased; they are sent again once the lease runs out (at once after a restart of a single-writer keyfleet),
 * so a receiver may see an event twice and deduplicates by its id (Keyfleet-Event-Id).
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { Clock, IdGen } from '../clock.js';
import type { Logger, SecretBox, Store } from '../ports.js';
import { type AttemptOutcome, type ClaimedDelivery, secretContext, type WebhookSender } from './outbox.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface DispatcherSettings {
  /** Process identity for leases. */
  owner: string;
  /** The only process on the store: leases left by an earlier run are let go at start. */
  singleWriter: boolean;
  pollMs: number;
  /** One request's limit (connect to last byte). */
  timeoutMs: number;
  /** The first retry's delay; each further one doubles, up to backoffMaxMs. */
  backoffMs: number;
  backoffMaxMs: number;
  /** After this many attempts a delivery is given up (status failed). */
  maxAttempts: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Delivered and given-up rows older than this are removed. */
  retentionMs: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: Omit<DispatcherSettings, 'owner' | 'singleWriter'> = {
  pollMs: 1000,
  timeoutMs: 10_000,
  backoffMs: 1000,
  backoffMaxMs: 3_600_000,
  maxAttempts: 20,
  concurrency: 8,
  retentionMs: 7 * 24 * 3_600_000,
};

export interface DispatcherDeps {
  store: Store;
  secrets: SecretBox;
  sender: WebhookSender;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  settings: DispatcherSettings;
}

/** Rows leased per claim. */
const BATCH = 32;
/** How often, in polls, old rows are pruned. */
const PRUNE_EVERY = 600;

/** The delay before attempt `n + 1` after `n` failed attempts: doubling from `base`, capped, with equal jitter. */
export function backoffDelay(failedAttempts: number, base: number, max: number, random: number): number {
  const full = Math.min(max, base * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(full / 2 + (full / 2) * random);
}

export function createDispatcher(deps: DispatcherDeps) {
  const { store, secrets, sender, clock, ids, logger, settings } = deps;
  const slots = createSemaphore(settings.concurrency);
  // A lease outlives the request it covers (timeout) with room to record the outcome.
  const leaseMs = settings.timeoutMs * 2 + 5000;
  let busy: Promise<void> | null = null;
  let stop: (() => void) | null = null;
  let polls = 0;
  const closing = new AbortController();

  function outcomeOf(attempt: number, ok: boolean): AttemptOutcome {
    if (ok) return { kind: 'delivered' };
    if (attempt >= settings.maxAttempts) return { kind: 'failed' };
    const delay = backoffDelay(attempt, settings.backoffMs, settings.backoffMaxMs, ids.random());
    return { kind: 'retry', at: new Date(clock.now().getTime() + delay) };
  }

  async function deliver(d: ClaimedDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    const started = clock.now();
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const secret = secrets.open(d.sealedSecret, secretContext(d.endpointId));
      const t = Math.floor(started.getTime() / 1000);
      const res = await sender.post(
        d.url,
        {
          'content-type': 'application/json',
          'user-agent': 'keyfleet-webhooks/1',
          [SIGNATURE_HEADER]: signatureHeader(secret, t, d.body),
          [EVENT_ID_HEADER]: d.eventId,
          [EVENT_TYPE_HEADER]: d.type,
          [ATTEMPT_HEADER]: String(attempt),
        },
        d.body,
        { timeoutMs: settings.timeoutMs, signal: closing.signal },
      );
      httpStatus = res.status;
      if (res.status < 200 || res.status > 299) error = `the endpoint answered ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    // Closing mid-request: the row stays leased and is sent again (by the next start, or after the lease).
    if (closing.signal.aborted && httpStatus === null) return;
    const outcome = outcomeOf(attempt, error === null);
    const record = {
      deliveryId: d.id,
      attempt,
      at: started,
      durationMs: clock.now().getTime() - started.getTime(),
      httpStatus,
      error: error?.slice(0, 500) ?? null,
    };
    // The outcome and its attempt row commit together (and, on SQLite, share a COMMIT with the other deliveries').
    const kept = await store.transaction((tx) => tx.outbox.finishAttempt(settings.owner, record, outcome));
    if (!kept) logger.warn('webhook delivery lease lost; another process sends it', { deliveryId: d.id });
    else if (outcome.kind === 'failed')
      logger.warn('webhook delivery given up', { deliveryId: d.id, endpointId: d.endpointId, attempts: attempt });
  }

  async function drain(): Promise<void> {
    for (;;) {
      if (closing.signal.aborted) return;
      const now = clock.now();
      const rows = await store.outbox.claim(settings.owner, now, new Date(now.getTime() + leaseMs), BATCH);
      await Promise.all(rows.map((d) => slots.run(() => deliver(d))));
      if (rows.length < BATCH) return;
    }
  }

  /** Runs one round now unless one is running; resolves when that round is over. */
  function poll(): Promise<void> {
    if (!busy) {
      busy = (async () => {
        if (++polls % PRUNE_EVERY === 0)
          await store.outbox.prune(new Date(clock.now().getTime() - settings.retentionMs));
        await drain();
      })()
        .catch((err: unknown) =>
          logger.warn('webhook dispatch failed', { error: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => {
          busy = null;
        });
    }
    return busy;
  }

  return {
    async start(): Promise<void> {
      if (settings.singleWriter) await store.outbox.releaseLeases('all');
      stop = clock.every(settings.pollMs, () => void poll());
      void poll();
    },
    /** One round of deliveries (tests; a nudge after an event). */
    poll,
    async close(): Promise<void> {
      stop?.();
      closing.abort();
      await busy;
      await store.outbox.releaseLeases({ owner: settings.owner });
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
