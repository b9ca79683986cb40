/**
 * The store's side of events: an account's webhook endpoints and the durable outbox of deliveries (one row per
 * event and endpoint subscribed to its type). `publish` runs inside the transaction of the change that causes the
 * event; the dispatcher claims due rows under a lease, so several processes on one PostgreSQL do not send the same
 * row at once, and a process that dies mid-delivery leaves the row to be sent again once its lease runs out.
 */
import type { EventType, NewEvent } from './event.js';

export interface WebhookEndpoint {
  id: string;
  accountId: string;
  url: string;
  events: EventType[];
  enabled: boolean;
  description: string;
  /** The signing secret, sealed by the SecretBox (context: secretContext(id)); never stored in plain text. */
  sealedSecret: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The SecretBox context of an endpoint's secret: a sealed secret cannot be moved to another endpoint. */
export const secretContext = (endpointId: string) => `webhook-secret:${endpointId}`;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  eventId: string;
  endpointId: string;
  accountId: string;
  type: EventType;
  /** The JSON body sent, exactly as signed. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  /** The last attempt's HTTP status (null: no answer) and error text. */
  lastStatus: number | null;
  lastError: string | null;
}

/** A row claimed for delivery, with what is needed to send it. */
export interface ClaimedDelivery extends Delivery {
  url: string;
  sealedSecret: string;
}

export interface DeliveryAttempt {
  deliveryId: string;
  attempt: number;
  at: Date;
  durationMs: number;
  httpStatus: number | null;
  error: string | null;
}

/** What became of an attempt: delivered, to be tried again at a time, or given up. */
export type AttemptOutcome = { kind: 'delivered' } | { kind: 'retry'; at: Date } | { kind: 'failed' };

export interface EventOutboxRepo {
  insertEndpoint(e: WebhookEndpoint): Promise<void>;
  getEndpoint(accountId: string, id: string): Promise<WebhookEndpoint | null>;
  listEndpoints(accountId: string): Promise<WebhookEndpoint[]>;
  countEndpoints(accountId: string): Promise<number>;
  updateEndpoint(e: WebhookEndpoint): Promise<void>;
  /** Deletes the endpoint with its deliveries and their attempts. */
  deleteEndpoint(accountId: string, id: string): Promise<void>;
  /**
   * Writes the event for every enabled endpoint of its account subscribed to its type (none: nothing is written);
   * returns the event id, or null when no endpoint wants it. Meant to run inside the causing transaction.
   */
  publish(e: NewEvent): Promise<string | null>;
  /** Leases up to `limit` pending rows due by `now` (not leased, or their lease ran out) of enabled endpoints. */
  claim(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt and its outcome, only while `owner` holds the row; false: the lease was lost. */
  finishAttempt(owner: string, a: DeliveryAttempt, outcome: AttemptOutcome): Promise<boolean>;
  /** Lets go of leases: all of them (a single writer, at start) or `owner`'s (closing). */
  releaseLeases(which: 'all' | { owner: string }): Promise<number>;
  deliveries(accountId: string, endpointId: string, limit: number): Promise<Delivery[]>;
  attempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Removes delivered and given-up rows created before `before` (the outbox does not grow forever). */
  prune(before: Date): Promise<number>;
}

/** The HTTP client that posts a delivery; an adapter (src/backends/webhook). Throws on no answer (refused, timeout). */
export interface WebhookSender {
  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ status: number }>;
}
