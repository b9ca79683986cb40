/** The native API's error envelope: `{ code, message, requestId, details }` with a status from the error's kind. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CoreError, type ErrorCode, type ErrorKind, isCoreError } from '../../core/errors.js';

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

/** Framework errors (schema validation, bad JSON, oversized bodies) become CoreErrors with stable codes. */
export function toCoreError(err: unknown): CoreError {
  if (isCoreError(err)) return err;
  const fe = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fe.validation)
    return new CoreError('Input.Invalid', `Invalid request ${fe.validationContext ?? 'input'}: ${fe.message}`);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new CoreError('Input.TooLarge', 'The request body is too large.');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new CoreError('Input.Invalid', 'Send the request body as application/json.');
  if (
    fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    fe instanceof SyntaxError ||
    fe.statusCode === 400
  ) {
    return new CoreError('Input.Invalid', 'The request body is not valid JSON.');
  }
  return new CoreError('Internal', 'The request failed because of an internal error.');
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
