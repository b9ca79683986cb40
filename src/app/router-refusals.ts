/**
 * The router refuses some requests before any face sees them (a malformed percent-escape in the path, an overlong
 * path segment). Each is answered in the envelope of the face that owns the path, as that face answers any other
 * bad input, so an SDK reads a coded error rather than Fastify's own format (found by the fuzz suite).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendEcsError } from '../api/ecs/plugin.js';
import { sendKpsError } from '../api/kps/errors.js';
import { sendNativeError } from '../api/native/errors.js';
import type { CoreError } from '../core/errors.js';

/** The KPS face's prefixes: KPS v3 and IAM under /v3, Nova under /v2 and /v2.1. */
const KPS_PATH = /^\/v(3|2|2\.1)(\/|$)/;

export function answerRouterRefusal(req: FastifyRequest, reply: FastifyReply, err: CoreError): unknown {
  const path = req.raw.url ?? '/';
  if (path.startsWith('/api/v1/') || path === '/api/v1') return sendNativeError(req, reply, err);
  if (KPS_PATH.test(path)) return sendKpsError(req, reply, err);
  if (path.startsWith('/console')) return reply.status(400).type('text/plain; charset=utf-8').send(`${err.message}\n`);
  return sendEcsError(req, reply, err);
}
