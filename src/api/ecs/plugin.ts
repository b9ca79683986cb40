/**
 * The ECS-compatible RPC API (2014-05-26) at `/`: an encapsulated Fastify plugin with its own body parsers,
 * authentication, error envelope and answers for every method on `/`. Each operation calls the same core the
 * native API uses; this face adds only Alibaba's protocol: parameter shapes, names, codes and envelopes.
 *
 * Request flow: browser visit → 302 /console; other methods than GET/POST → UnsupportedHTTPMethod; signature,
 * access key, freshness, nonce (auth.ts); Action and Version; the operation (actions/); JSON answer with
 * RequestId. Requests are logged by the root server as method and path only: a GET ModifyInstanceAttribute
 * carries a password in its query string, and nothing here logs parameters.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import { ECS_API_VERSION, type EcsActionName } from './action-names.js';
import { findAction } from './actions/registry.js';
import { authenticate } from './auth.js';
import { errorEnvelope, ecsErrors, toEcsError } from './errors.js';
import { Params } from './params.js';
import { hostOf, isBrowserVisit, toSignedRequest } from './request.js';
import type { SignedRequestInfo } from './signature/parse.js';

export interface EcsContext {
  core: Core;
}

/** Alibaba answers JSON with this exact type (SDK-TRAFFIC §6). */
const JSON_TYPE = 'application/json;charset=utf-8';

export async function ecsApiPlugin(app: FastifyInstance, ctx: EcsContext): Promise<void> {
  // Bodies stay raw bytes: ACS3 signs their SHA-256 and HMAC-SHA1 signs the form fields read from them
  // (SDK-TRAFFIC §3.1, §4.1). signature/parse.ts parses the form itself; nothing here trusts a parsed copy.
  app.removeAllContentTypeParsers();
  const keepRaw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) =>
    done(null, body);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, keepRaw);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, keepRaw);

  // Errors before the handler runs (an oversized body) still get the ECS envelope.
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, undefined));

  app.all('/', async (req, reply) => {
    let action: EcsActionName | undefined;
    try {
      const signed = toSignedRequest(req);
      if (isBrowserVisit(req, signed)) return reply.redirect('/console', 302);
      if (req.method !== 'GET' && req.method !== 'POST') throw ecsErrors.unsupportedHttpMethod();
      const { caller, info } = await authenticate({ accounts: ctx.core.accounts, now: () => new Date() }, signed, {
        sourceIp: req.ip,
        requestId: req.id,
      });
      const found = resolveAction(info);
      action = found.name;
      const body = await found.handler({
        core: ctx.core,
        caller,
        params: new Params(info.params),
        endpoint: hostOf(req),
      });
      return reply
        .status(200)
        .headers(commonHeaders(req))
        .send({ RequestId: req.id, ...body });
    } catch (err) {
      return sendError(req, reply, err, action);
    }
  });
}

/** Action and Version come from the signed parameters (V1) or the signed x-acs-* headers (ACS3). */
function resolveAction(info: SignedRequestInfo) {
  if (!info.action) throw ecsErrors.missingParameter('Action');
  if (!info.version) throw ecsErrors.missingParameter('Version');
  if (info.version !== ECS_API_VERSION) throw ecsErrors.invalidVersion();
  const found = findAction(info.action);
  if (!found) throw ecsErrors.unknownAction();
  return found;
}

function commonHeaders(req: FastifyRequest) {
  // Responses can hold a private key (CreateKeyPair): no cache may keep any of them.
  return { 'content-type': JSON_TYPE, 'x-acs-request-id': req.id, 'cache-control': 'no-store' };
}

/** An error before any action is known (the router's own refusals too), in the ECS envelope. */
export function sendEcsError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  return sendError(req, reply, err, undefined);
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, action: EcsActionName | undefined) {
  const { error, unexpected } = toEcsError(err, action);
  if (unexpected) {
    req.log.error(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), action },
      'ECS request failed',
    );
  }
  return reply
    .status(error.status)
    .headers(commonHeaders(req))
    .send(errorEnvelope(error, req.id, hostOf(req)));
}
