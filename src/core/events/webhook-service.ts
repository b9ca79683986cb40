/**
 * Webhook endpoints of an account: where its events are posted and which types each one wants. The signing
 * secret is generated here, shown once (at create and rotate) and stored sealed by the SecretBox.
 */
import { inNetwork, normalizeHostAddress, parseNetwork } from '../../common/address.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { SecretBox, Store } from '../ports.js';
import { EVENT_TYPES, type EventType, isEventType } from './event.js';
import { type Delivery, type DeliveryAttempt, secretContext, type WebhookEndpoint } from './outbox.js';

export const MAX_ENDPOINTS_PER_ACCOUNT = 20;
const MAX_URL = 2048;
const MAX_DESCRIPTION = 256;
const MAX_DELIVERIES_PAGE = 200;

export interface WebhookInput {
  url?: unknown;
  events?: unknown;
  enabled?: unknown;
  description?: unknown;
}

/** An endpoint as the faces show it: never its secret. */
export type WebhookView = Omit<WebhookEndpoint, 'sealedSecret'>;
export interface WebhookWithSecret {
  webhook: WebhookView;
  /** The signing secret, in plain text this once. */
  secret: string;
}

export interface WebhookServiceDeps {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  /** KEYFLEET_WEBHOOK_NETWORKS: where endpoints may point (CIDRs); absent or empty: anywhere. */
  networks?: readonly string[];
}

const invalid = (msg: string, details: Record<string, string> = {}) => new CoreError('Input.Invalid', msg, details);

export const viewOf = ({ sealedSecret: _s, ...rest }: WebhookEndpoint): WebhookView => rest;

export function createWebhookService(deps: WebhookServiceDeps) {
  const { store, secrets, clock, ids } = deps;
  const networks = (deps.networks ?? []).map((n) => parseNetwork(n)).filter((n) => n !== null);

  function url(raw: unknown): string {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL)
      throw invalid(`The webhook URL must be an http(s) URL of at most ${MAX_URL} characters.`);
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw invalid(`'${raw}' is not a URL.`, { url: raw });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('The webhook URL must use http or https.');
    if (u.username || u.password) throw invalid('The webhook URL must not carry a user name or password.');
    // An address literal outside the operator's networks is refused now; a name is checked when it is resolved,
    // at every delivery (the sender adapter), because what it resolves to can change.
    const host = normalizeHostAddress(u.hostname.replace(/^\[|\]$/g, ''));
    if (networks.length > 0 && host && host.kind !== 'hostname' && !networks.some((n) => inNetwork(host, n)))
      throw invalid(`Webhooks may not be sent to ${host.text}: it is outside the networks this keyfleet allows.`, {
        url: raw,
      });
    return u.toString();
  }

  function events(raw: unknown): EventType[] {
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every(isEventType))
      throw invalid(`The events must be a non-empty list of: ${EVENT_TYPES.join(', ')}.`);
    return [...new Set(raw)].sort();
  }

  function description(raw: unknown): string {
    if (raw === undefined || raw === null) return '';
    if (typeof raw !== 'string' || raw.length > MAX_DESCRIPTION)
      throw invalid(`The description must be text of at most ${MAX_DESCRIPTION} characters.`);
    return raw;
  }

  function enabled(raw: unknown): boolean {
    if (typeof raw !== 'boolean') throw invalid('enabled must be true or false.');
    return raw;
  }

  async function endpoint(caller: Caller, id: unknown): Promise<WebhookEndpoint> {
    const found = typeof id === 'string' ? await store.outbox.getEndpoint(caller.accountId, id) : null;
    if (!found)
      throw new CoreError('Webhook.NotFound', `No webhook endpoint '${String(id)}' in this account.`, {
        webhookId: String(id),
      });
    return found;
  }

  const newSecret = () => ids.next('whsec_', 40);

  return {
    async list(caller: Caller): Promise<WebhookView[]> {
      return (await store.outbox.listEndpoints(caller.accountId)).map(viewOf);
    },
    async get(caller: Caller, id: string): Promise<WebhookView> {
      return viewOf(await endpoint(caller, id));
    },
    async create(caller: Caller, input: WebhookInput): Promise<WebhookWithSecret> {
      const now = clock.now();
      const id = ids.next('wh-');
      const secret = newSecret();
      const e: WebhookEndpoint = {
        id,
        accountId: caller.accountId,
        url: url(input.url),
        events: events(input.events),
        enabled: input.enabled === undefined ? true : enabled(input.enabled),
        description: description(input.description),
        sealedSecret: secrets.seal(secret, secretContext(id)),
        createdAt: now,
        updatedAt: now,
      };
      await store.transaction(async (tx) => {
        if ((await tx.outbox.countEndpoints(caller.accountId)) >= MAX_ENDPOINTS_PER_ACCOUNT)
          throw new CoreError(
            'Webhook.LimitExceeded',
            `An account has at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints.`,
          );
        await tx.outbox.insertEndpoint(e);
      });
      return { webhook: viewOf(e), secret };
    },
    async update(caller: Caller, id: string, input: WebhookInput): Promise<WebhookView> {
      const e = await endpoint(caller, id);
      if (input.url !== undefined) e.url = url(input.url);
      if (input.events !== undefined) e.events = events(input.events);
      if (input.enabled !== undefined) e.enabled = enabled(input.enabled);
      if (input.description !== undefined) e.description = description(input.description);
      e.updatedAt = clock.now();
      await store.outbox.updateEndpoint(e);
      return viewOf(e);
    },
    async delete(caller: Caller, id: string): Promise<void> {
      const e = await endpoint(caller, id);
      await store.outbox.deleteEndpoint(caller.accountId, e.id);
    },
    /** A new secret replaces the old one at once: deliveries from now on are signed with it. */
    async rotateSecret(caller: Caller, id: string): Promise<WebhookWithSecret> {
      const e = await endpoint(caller, id);
      const secret = newSecret();
      e.sealedSecret = secrets.seal(secret, secretContext(e.id));
      e.updatedAt = clock.now();
      await store.outbox.updateEndpoint(e);
      return { webhook: viewOf(e), secret };
    },
    /** The endpoint's latest deliveries, newest first, each with its attempts. */
    async deliveries(
      caller: Caller,
      id: string,
      limit?: number,
    ): Promise<Array<Delivery & { attemptLog: DeliveryAttempt[] }>> {
      const e = await endpoint(caller, id);
      const n = Math.min(Math.max(1, limit ?? 50), MAX_DELIVERIES_PAGE);
      const rows = await store.outbox.deliveries(caller.accountId, e.id, n);
      return Promise.all(rows.map(async (d) => ({ ...d, attemptLog: await store.outbox.attempts(d.id) })));
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
