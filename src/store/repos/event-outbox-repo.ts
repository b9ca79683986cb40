/**
 * Webhook endpoints and the event outbox. `publish` fans an event out to the account's enabled endpoints that
 * want its type, as rows of the outbox, inside the caller's transaction. `claim` leases due rows: on PostgreSQL
 * with FOR UPDATE SKIP LOCKED, so processes sharing the store take different rows without waiting on each other.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { EventEnvelope, EventType } from '../../core/events/event.js';
import type {
  ClaimedDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  EventOutboxRepo,
  WebhookEndpoint,
} from '../../core/events/outbox.js';
import type { EventOutboxTable, WebhookAttemptsTable, WebhookEndpointsTable } from '../schema.js';
import { bool, fromMs, fromMsOrNull, int, type RepoContext, toMs } from './common.js';

const endpointFromRow = (r: WebhookEndpointsTable): WebhookEndpoint => ({
  id: r.id,
  accountId: r.account_id,
  url: r.url,
  events: JSON.parse(r.events) as EventType[],
  enabled: bool(r.enabled),
  description: r.description,
  sealedSecret: r.sealed_secret,
  createdAt: fromMs(r.created_at),
  updatedAt: fromMs(r.updated_at),
});

const endpointRow = (e: WebhookEndpoint): WebhookEndpointsTable => ({
  id: e.id,
  account_id: e.accountId,
  url: e.url,
  events: JSON.stringify(e.events),
  enabled: int(e.enabled),
  description: e.description,
  sealed_secret: e.sealedSecret,
  created_at: toMs(e.createdAt),
  updated_at: toMs(e.updatedAt),
});

const deliveryFromRow = (r: EventOutboxTable): Delivery => ({
  id: r.id,
  eventId: r.event_id,
  endpointId: r.endpoint_id,
  accountId: r.account_id,
  type: r.type as EventType,
  body: r.body,
  status: r.status as DeliveryStatus,
  attempts: Number(r.attempts),
  createdAt: fromMs(r.created_at),
  nextAttemptAt: fromMs(r.next_attempt_at),
  deliveredAt: fromMsOrNull(r.delivered_at),
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: r.last_error,
});

const attemptFromRow = (r: WebhookAttemptsTable): DeliveryAttempt => ({
  deliveryId: r.delivery_id,
  attempt: Number(r.attempt),
  at: fromMs(r.at),
  durationMs: Number(r.duration_ms),
  httpStatus: r.http_status === null ? null : Number(r.http_status),
  error: r.error,
});

export function createEventOutboxRepo({ db, dialect }: RepoContext): EventOutboxRepo {
  return {
    async insertEndpoint(e) {
      await db.insertInto('webhook_endpoints').values(endpointRow(e)).execute();
    },
    async getEndpoint(accountId, id) {
      const r = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? endpointFromRow(r) : null;
    },
    async listEndpoints(accountId) {
      const rows = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(endpointFromRow);
    },
    async countEndpoints(accountId) {
      const r = await db
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async updateEndpoint(e) {
      const { id: _id, account_id: _a, created_at: _c, ...rest } = endpointRow(e);
      await db
        .updateTable('webhook_endpoints')
        .set(rest)
        .where('account_id', '=', e.accountId)
        .where('id', '=', e.id)
        .execute();
    },
    async deleteEndpoint(accountId, id) {
      const owned = db.selectFrom('event_outbox').select('id').where('endpoint_id', '=', id);
      await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', owned).execute();
      await db.deleteFrom('event_outbox').where('endpoint_id', '=', id).execute();
      await db.deleteFrom('webhook_endpoints').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async publish(e) {
      const endpoints = await db
        .selectFrom('webhook_endpoints')
        .select(['id', 'events'])
        .where('account_id', '=', e.accountId)
        .where('enabled', '=', 1)
        .execute();
      const wanting = endpoints.filter((r) => (JSON.parse(r.events) as string[]).includes(e.type));
      if (wanting.length === 0) return null;
      const eventId = `evt_${randomUUID()}`;
      const envelope: EventEnvelope = {
        id: eventId,
        type: e.type,
        createdAt: e.at.toISOString(),
        accountId: e.accountId,
        data: e.data,
      };
      const body = JSON.stringify(envelope);
      await db
        .insertInto('event_outbox')
        .values(
          wanting.map((w) => ({
            id: `dlv_${randomUUID()}`,
            event_id: eventId,
            endpoint_id: w.id,
            account_id: e.accountId,
            type: e.type,
            body,
            status: 'pending',
            attempts: 0,
            created_at: toMs(e.at),
            next_attempt_at: toMs(e.at),
            lease_owner: null,
            lease_until: null,
            delivered_at: null,
            last_status: null,
            last_error: null,
          })),
        )
        .execute();
      return eventId;
    },
    async claim(owner, now, leaseUntil, limit) {
      const at = toMs(now);
      let ids: string[];
      if (dialect === 'postgres') {
        // A materialized pick, as in task-repo's claimItems: evaluated once, locked rows skipped.
        const r = await sql<{ id: string }>`
          with picked as materialized (
            select o.id from event_outbox o
            where o.status = 'pending' and o.next_attempt_at <= ${at}
              and (o.lease_until is null or o.lease_until < ${at})
              and o.endpoint_id in (select id from webhook_endpoints where enabled = 1)
            order by o.next_attempt_at, o.id limit ${limit} for update of o skip locked
          )
          update event_outbox t set lease_owner = ${owner}, lease_until = ${toMs(leaseUntil)}
          from picked where t.id = picked.id
          returning t.id`.execute(db);
        ids = r.rows.map((x) => x.id);
      } else {
        // SQLite: one writer at a time, so the plain subquery cannot race.
        const pick = db
          .selectFrom('event_outbox')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', at)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
          .where('endpoint_id', 'in', db.selectFrom('webhook_endpoints').select('id').where('enabled', '=', 1))
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(limit);
        const rows = await db
          .updateTable('event_outbox')
          .set({ lease_owner: owner, lease_until: toMs(leaseUntil) })
          .where('id', 'in', pick)
          .returning('id')
          .execute();
        ids = rows.map((x) => x.id);
      }
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('event_outbox as o')
        .innerJoin('webhook_endpoints as e', 'e.id', 'o.endpoint_id')
        .selectAll('o')
        .select(['e.url as url', 'e.sealed_secret as sealed_secret'])
        .where('o.id', 'in', ids)
        .where('o.lease_owner', '=', owner)
        .orderBy('o.next_attempt_at')
        .orderBy('o.id')
        .execute();
      return rows.map((r): ClaimedDelivery => ({ ...deliveryFromRow(r), url: r.url, sealedSecret: r.sealed_secret }));
    },
    async finishAttempt(owner, a, outcome) {
      const r = await db
        .updateTable('event_outbox')
        .set({
          attempts: a.attempt,
          status: outcome.kind === 'delivered' ? 'delivered' : outcome.kind === 'failed' ? 'failed' : 'pending',
          next_attempt_at: outcome.kind === 'retry' ? toMs(outcome.at) : toMs(a.at),
          delivered_at: outcome.kind === 'delivered' ? toMs(a.at) + a.durationMs : null,
          last_status: a.httpStatus,
          last_error: a.error,
          lease_owner: null,
          lease_until: null,
        })
        .where('id', '=', a.deliveryId)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await db
        .insertInto('webhook_attempts')
        .values({
          delivery_id: a.deliveryId,
          attempt: a.attempt,
          at: toMs(a.at),
          duration_ms: a.durationMs,
          http_status: a.httpStatus,
          error: a.error,
        })
        .execute();
      return true;
    },
    async releaseLeases(which) {
      let q = db
        .updateTable('event_outbox')
        .set({ lease_owner: null, lease_until: null })
        .where('lease_owner', 'is not', null);
      if (which !== 'all') q = q.where('lease_owner', '=', which.owner);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async deliveries(accountId, endpointId, limit) {
      const rows = await db
        .selectFrom('event_outbox')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('endpoint_id', '=', endpointId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(deliveryFromRow);
    },
    async attempts(deliveryId) {
      const rows = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', '=', deliveryId)
        .orderBy('attempt')
        .execute();
      return rows.map(attemptFromRow);
    },
    async prune(before) {
      const old = db
        .selectFrom('event_outbox')
        .select('id')
        .where('status', 'in', ['delivered', 'failed'])
        .where('created_at', '<', toMs(before));
      await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', old).execute();
      const r = await db
        .deleteFrom('event_outbox')
        .where('status', 'in', ['delivered', 'failed'])
        .where('created_at', '<', toMs(before))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
