import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Caller } from '../../core/caller.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/index.js';

export type NativeApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface NativeContext {
  core: Core;
  maxBatch: number;
}

const callers = new WeakMap<FastifyRequest, Caller>();

export function setCaller(req: FastifyRequest, caller: Caller): void {
  callers.set(req, caller);
}

/** The authenticated caller of a request; routes behind the auth hook always have one. */
export function callerOf(req: FastifyRequest): Caller {
  const c = callers.get(req);
  if (!c) throw new CoreError('Auth.Unauthenticated', 'Sign in first: send Authorization: Bearer <token>.');
  return c;
}
