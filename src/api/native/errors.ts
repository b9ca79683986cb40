/** The native API's error envelope: `{ code, message, requestId, details }` with a status from the error's kind. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CoreError, ErrorCode, ErrorKind } from '../../core/errors.js';
import { frameworkCoreError } from '../http/framework-errors.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  InvalidInput: 400,
  NotFound: 404,
  Conflict: 409,
  Forbidden: 403,
  Unauthenticated: 401,
  LimitExceeded: 400,
  IncorrectState: 409,
  Unavailable: 503,
  Internal: 500,
};

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  'KeyPair.QuotaExceeded': 403,
  'Instance.QuotaExceeded': 403,
  'Input.TooLarge': 413,
  'Live.CredentialRejected': 403,
  'Auth.Throttled': 429,
};

export function nativeStatus(err: CoreError): number {
  return STATUS_BY_CODE[err.code] ?? STATUS_BY_KIND[err.kind];
}

export function nativeErrorBody(err: CoreError, requestId: string) {
  return { code: err.code, message: err.message, requestId, details: err.details };
}

function toCoreError(err: unknown): CoreError {
  return frameworkCoreError(err, 'Send the request body as application/json.');
}

export function sendNativeError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  const core = toCoreError(err);
  if (core.code === 'Auth.Throttled') reply.header('retry-after', String(core.details.retryAfterSeconds ?? 1));
  if (core.kind === 'Internal')
    req.log.error(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) },
      'internal error',
    );
  return reply.status(nativeStatus(core)).send(nativeErrorBody(core, req.id));
}
