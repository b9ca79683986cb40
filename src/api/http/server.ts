/**
 * The root HTTP server: request ids, body limits, logging without secrets, health. No cloud semantics here; each
 * face (ECS, KPS, native API, console) is an encapsulated plugin with its own parser, auth and error envelope.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

export interface HttpServerOptions {
  bodyLimitBytes: number;
  logLevel: string;
}

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes,
    genReqId: () => randomUUID().toUpperCase(),
    requestIdHeader: false,
    disableRequestLogging: true,
    trustProxy: false,
    logger: opts.logLevel === 'silent' ? false : {
      level: opts.logLevel,
      // Requests are logged as method and path only: query strings and bodies can carry passwords
      // (ModifyInstanceAttribute over GET) and key material, and headers carry signatures and tokens.
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
