/** What the faces share of their error handling: Fastify's own errors turned into CoreErrors with stable codes. */
import type { FastifyError } from 'fastify';
import { CoreError, isCoreError } from '../../core/errors.js';

/**
 * Framework errors (schema validation, bad JSON, oversized bodies) become CoreErrors with stable codes. A body of
 * another media type is answered with `unsupportedMediaType` (each face words it as the cloud it mimics does).
 */
export function frameworkCoreError(err: unknown, unsupportedMediaType: string): CoreError {
  if (isCoreError(err)) return err;
  const fe = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fe.validation)
    return new CoreError('Input.Invalid', `Invalid request ${fe.validationContext ?? 'input'}: ${fe.message}`);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new CoreError('Input.TooLarge', 'The request body is too large.');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new CoreError('Input.Invalid', unsupportedMediaType);
  if (
    fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    fe instanceof SyntaxError ||
    fe.statusCode === 400
  ) {
    return new CoreError('Input.Invalid', NOT_JSON);
  }
  return new CoreError('Internal', 'The request failed because of an internal error.');
}

export const NOT_JSON = 'The request body is not valid JSON.';
