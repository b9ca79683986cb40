/**
 * What a request is, for metrics and logs: the face it reached (from its path) and its action. Every value comes
 * from a bounded set, never from the request as given: an ECS Action is kept only if the face serves it, and the
 * other faces name the route pattern that matched (`GET /v3/{project_id}/keypairs`), not the path.
 */
import type { FastifyRequest } from 'fastify';

export type FaceLabel = 'ecs' | 'kps' | 'native' | 'console' | 'other';

export function faceOfPath(path: string): FaceLabel {
  if (path === '/') return 'ecs';
  if (path === '/api/v1' || path.startsWith('/api/v1/')) return 'native';
  if (/^\/(v3|v2\.1|v2)(\/|$)/.test(path)) return 'kps';
  if (path === '/console' || path.startsWith('/console/')) return 'console';
  return 'other';
}

/** The path without its query string (which may carry a password: ModifyInstanceAttribute over GET). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** An ECS action name in the query (RPC GET), the x-acs-action header (ACS3) or a form body (RPC POST). */
const ACTION_IN_FORM = /(?:^|&)Action=([A-Za-z]{1,64})(?:&|$)/;

export function ecsActionOf(req: FastifyRequest, known: ReadonlySet<string>): string {
  let name: string | undefined;
  const header = req.headers['x-acs-action'];
  if (typeof header === 'string') name = header;
  else {
    const q = req.url.indexOf('?');
    if (q !== -1) name = ACTION_IN_FORM.exec(req.url.slice(q + 1))?.[1];
    if (name === undefined && Buffer.isBuffer(req.body) && req.body.length <= 64 * 1024)
      name = ACTION_IN_FORM.exec(req.body.toString('latin1'))?.[1];
  }
  if (name === undefined) return 'none';
  return known.has(name) ? name : 'unknown';
}

/** `METHOD /route/{param}` as the route was declared; 'unmatched' when no route took the request (a 404). */
export function routeActionOf(req: FastifyRequest): string {
  const pattern = req.routeOptions?.url;
  if (!pattern || req.is404) return 'unmatched';
  return `${req.method} ${pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

export function actionOf(req: FastifyRequest, face: FaceLabel, ecsActions: ReadonlySet<string>): string {
  return face === 'ecs' ? ecsActionOf(req, ecsActions) : routeActionOf(req);
}
