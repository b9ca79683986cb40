import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../core/caller.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/index.js';
import type { TypeBoxApp } from '../http/typebox-app.js';

export type NativeApp = TypeBoxApp;

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
