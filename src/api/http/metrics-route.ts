/**
 * GET /metrics: the Prometheus text exposition. With a token configured (KEYFLEET_METRICS_TOKEN) a scrape must
 * send `Authorization: Bearer <token>` (Prometheus' `authorization` or `bearer_token_file` setting); the token is
 * compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface MetricsRouteOptions {
  /** Required bearer token; undefined: the endpoint is open (keyfleet listens on loopback unless told otherwise). */
  token: string | undefined;
  render(): Promise<{ contentType: string; text: string }>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function metricsRoute(app: FastifyInstance, opts: MetricsRouteOptions): void {
  // Hashes have one length, so the comparison takes the same time whatever the length of what was sent.
  const wanted = opts.token === undefined ? null : digest(opts.token);
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (wanted) {
      const header = req.headers.authorization;
      const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!timingSafeEqual(digest(given), wanted)) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="keyfleet metrics"')
          .header('cache-control', 'no-store')
          .send({ code: 'Auth.Unauthenticated', message: 'Send Authorization: Bearer <KEYFLEET_METRICS_TOKEN>.' });
      }
    }
    const { contentType, text } = await opts.render();
    return reply.status(200).header('content-type', contentType).header('cache-control', 'no-store').send(text);
  });
}
