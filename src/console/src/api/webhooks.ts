/** The webhook endpoints' calls (account administrators), in the shape the native API answers. */
import { API_BASE, ApiError, currentToken } from './client';

export const EVENT_TYPES = ['task.finished', 'verification.failed', 'drift.found'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface Webhook {
  id: string;
  url: string;
  events: EventType[];
  enabled: boolean;
  description: string;
  createdAt: string;
  updatedAt: string;
}

/** The answer of create and rotate: the only time the secret is shown. */
export interface WebhookWithSecret {
  webhook: Webhook;
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  type: EventType;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-keyfleet-client': 'console', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, null, 'keyfleet cannot be reached. Check that the server is running, then try again.');
  }
  if (!res.ok) {
    const parsed = await res.json().catch(() => null);
    throw new ApiError(res.status, parsed, `The server answered ${res.status} ${res.statusText || ''}`.trim());
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const enc = encodeURIComponent;

export const webhooksApi = {
  list: async () => (await call<{ webhooks: Webhook[] }>('GET', '/webhooks')).webhooks,
  create: (body: { url: string; events: EventType[]; description?: string }) =>
    call<WebhookWithSecret>('POST', '/webhooks', body),
  update: (id: string, body: Partial<Pick<Webhook, 'url' | 'events' | 'enabled' | 'description'>>) =>
    call<{ webhook: Webhook }>('PATCH', `/webhooks/${enc(id)}`, body),
  remove: (id: string) => call<void>('DELETE', `/webhooks/${enc(id)}`),
  rotateSecret: (id: string) => call<WebhookWithSecret>('POST', `/webhooks/${enc(id)}/rotate-secret`),
  deliveries: async (id: string, limit = 20) =>
    (await call<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/${enc(id)}/deliveries?limit=${limit}`)).deliveries,
};
