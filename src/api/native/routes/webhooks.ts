/**
 * Webhook endpoints (account administrators): where the account's events are posted, signed with a secret per
 * endpoint that is shown once, at create and at rotate. Deliveries list what was sent and each attempt.
 */
import { Type } from 'typebox';
import { EVENT_TYPES } from '../../../core/events/event.js';
import type { Delivery, DeliveryAttempt } from '../../../core/events/outbox.js';
import type { WebhookView, WebhookWithSecret } from '../../../core/events/webhook-service.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';

const WebhookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const EventList = Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), { minItems: 1, maxItems: 16 });
const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: EventList,
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    events: Type.Optional(EventList),
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, allOf: [{ type: 'integer' }] })),
});

export const webhookView = (w: WebhookView) => ({
  id: w.id,
  url: w.url,
  events: w.events,
  enabled: w.enabled,
  description: w.description,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

const withSecret = (r: WebhookWithSecret) => ({ webhook: webhookView(r.webhook), secret: r.secret });

const attemptView = (a: DeliveryAttempt) => ({
  attempt: a.attempt,
  at: a.at.toISOString(),
  durationMs: a.durationMs,
  httpStatus: a.httpStatus,
  error: a.error,
});

const deliveryView = (d: Delivery & { attemptLog: DeliveryAttempt[] }) => ({
  id: d.id,
  eventId: d.eventId,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  createdAt: d.createdAt.toISOString(),
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  event: JSON.parse(d.body) as unknown,
  attemptLog: d.attemptLog.map(attemptView),
});

export function webhookRoutes(app: NativeApp, { core }: NativeContext) {
  const wh = core.webhooks;
  const tags = ['webhooks'];
  app.get('/webhooks', { schema: { tags, summary: "The account's webhook endpoints." } }, async (req) => ({
    webhooks: (await wh.list(callerOf(req))).map(webhookView),
  }));
  app.post(
    '/webhooks',
    { schema: { body: CreateWebhookBody, tags, summary: 'Add an endpoint; the answer holds its secret, once.' } },
    async (req, reply) => reply.status(201).send(withSecret(await wh.create(callerOf(req), req.body))),
  );
  app.get('/webhooks/:id', { schema: { params: WebhookParams, tags } }, async (req) => ({
    webhook: webhookView(await wh.get(callerOf(req), req.params.id)),
  }));
  app.patch(
    '/webhooks/:id',
    { schema: { params: WebhookParams, body: UpdateWebhookBody, tags, summary: 'Change, enable or disable.' } },
    async (req) => ({ webhook: webhookView(await wh.update(callerOf(req), req.params.id, req.body)) }),
  );
  app.delete(
    '/webhooks/:id',
    { schema: { params: WebhookParams, tags, summary: 'Delete an endpoint with its pending deliveries.' } },
    async (req, reply) => {
      await wh.delete(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.post(
    '/webhooks/:id/rotate-secret',
    { schema: { params: WebhookParams, tags, summary: 'A new secret, at once; the answer holds it, once.' } },
    async (req) => withSecret(await wh.rotateSecret(callerOf(req), req.params.id)),
  );
  app.get(
    '/webhooks/:id/deliveries',
    { schema: { params: WebhookParams, querystring: DeliveriesQuery, tags, summary: 'Latest deliveries first.' } },
    async (req) => ({
      deliveries: (await wh.deliveries(callerOf(req), req.params.id, req.query.limit)).map(deliveryView),
    }),
  );
}
