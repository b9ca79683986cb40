/** What the KPS face's routes share: the core, the per-request state set by the hooks, and route options. */
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../core/caller.js';
import { CoreError, type ErrorCode } from '../../core/errors.js';
import type { Core } from '../../core/index.js';
import type { TypeBoxApp } from '../http/typebox-app.js';
import type { Project } from './projects.js';

export type KpsApp = TypeBoxApp;

export interface KpsContext {
  core: Core;
}

/** Largest batch of the KPS calls: batch-associate, batch-import and batch-export take at most 10 (API.md §4.2, §5). */
export const KPS_MAX_BATCH = 10;

export interface KpsRouteConfig {
  /** Who may call: anyone (IAM token issuance), any signed-in caller of the account, or a caller of the path's project. */
  kpsAuth?: 'public' | 'account' | 'project';
  /** Route-specific wire codes where the operation's page documents one (e.g. API.md §4.5 KPS.0005). */
  kpsErrors?: Partial<Record<ErrorCode, { status: number; code: string }>>;
  /** The Nova routes answer with OpenStack's statuses (404, 409) instead of KPS's 400 for everything. */
  novaStatuses?: boolean;
}

export function routeConfig(req: FastifyRequest): KpsRouteConfig {
  return (req.routeOptions?.config ?? {}) as KpsRouteConfig;
}

/** Set by the authentication hook: who is calling, and through which credential. */
export interface Principal {
  caller: Caller;
  via: 'aksk' | 'token';
  /** The region a token is scoped to (null: an unscoped console session token). */
  tokenRegionId: string | null;
  /** `X-Project-Id`, when the signature covers it. */
  signedProjectId: string | null;
}

interface RequestState {
  principal?: Principal;
  project?: Project;
}

const states = new WeakMap<FastifyRequest, RequestState>();

function stateOf(req: FastifyRequest): RequestState {
  let s = states.get(req);
  if (!s) states.set(req, (s = {}));
  return s;
}

export function setPrincipal(req: FastifyRequest, principal: Principal): void {
  stateOf(req).principal = principal;
}

export function setProject(req: FastifyRequest, project: Project): void {
  stateOf(req).project = project;
}

export function principalOf(req: FastifyRequest): Principal {
  const p = states.get(req)?.principal;
  if (!p) throw new CoreError('Auth.Unauthenticated', 'Sign the request (SDK-HMAC-SHA256) or send X-Auth-Token.');
  return p;
}

export function callerOf(req: FastifyRequest): Caller {
  return principalOf(req).caller;
}

/** The project of the path (`/v3/{project_id}/…`), checked against the caller by the authentication hook. */
export function projectOf(req: FastifyRequest): Project {
  const p = states.get(req)?.project;
  if (!p) throw new CoreError('Internal', 'The project of this request was not resolved.');
  return p;
}
