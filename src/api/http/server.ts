/**
 * The root HTTP server: request ids, body limits, logging without secrets. No cloud semantics here; each
 * face (ECS, KPS, native API, console) is an encapsulated plugin with its own parser, auth and error envelope.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { CoreError } from '../../core/errors.js';

/**
 * Fastify's own request lines are left out: request-observation.ts writes one line per answered request with the
 * face, action and account. Every line of a request is labelled `requestId`, the name the faces' answers use. A
 * request for no route is logged by its path only (its query string could carry a password).
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error) super.requestCompleted(error, request, reply, metadata);
  }
  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method, path: request.url.split('?')[0] }, 'no such route');
  }
}

export interface HttpServerOptions {
  bodyLimitBytes: number;
  logLevel: string;
  /**
   * Answers what the router refuses before any face sees the request (a malformed percent-escape in the path, a
   * path segment over the router's length limit), in the envelope of the face that owns the path. Without it
   * Fastify answers in its own format, which no SDK of the face parses.
   */
  routerRefusal?: (req: FastifyRequest, reply: FastifyReply, err: CoreError) => unknown;
}

/** The router's own refusals, as coded errors every face maps to a 400 in its envelope. */
function routerError(err: FastifyError): CoreError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return new CoreError(
      'Input.Invalid',
      `A segment of the request path is longer than ${MAX_PATH_SEGMENT} characters.`,
    );
  if (err.code === 'FST_ERR_BAD_URL') return new CoreError('Input.Invalid', 'The request path is not a valid URL.');
  return new CoreError('Input.Invalid', 'The request could not be routed.');
}

/** Fastify's default router limit on one path parameter, kept: no identifier of any face is longer. */
const MAX_PATH_SEGMENT = 100;

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes,
    genReqId: () => randomUUID().toUpperCase(),
    requestIdHeader: false,
    logController: new OneLinePerRequest({ requestIdLogLabel: 'requestId' }),
    trustProxy: false,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    frameworkErrors: opts.routerRefusal
      ? (err, req, reply) => {
          opts.routerRefusal!(req, reply, routerError(err));
        }
      : undefined,
    // While closing, each face answers in its own envelope (a bare 503 without Code reads as success to pop-core).
    return503OnClosing: false,
    // Unknown fields are an error, not silently dropped, and a string is never wrapped into a list: bad input
    // must be refused, not reinterpreted. Scalars are still coerced so query strings (limit=10) validate.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    logger:
      opts.logLevel === 'silent'
        ? false
        : {
            level: opts.logLevel,
            // Requests are logged as method and path only: query strings and bodies can carry passwords
            // (ModifyInstanceAttribute over GET) and key material, and headers carry signatures and tokens.
            serializers: {
              req: (req: { method: string; url: string; id: string }) => ({
                id: req.id,
                method: req.method,
                path: req.url.split('?')[0],
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
  });
  // /healthz and /readyz are mounted by the composition root (src/app/readiness.ts): readiness needs the store.
  return app;
}
