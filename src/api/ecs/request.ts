/** The raw request as the signature schemes see it, and the few facts the plugin reads before authenticating. */
import type { FastifyRequest } from 'fastify';
import type { IncomingSignedRequest } from './signature/parse.js';

const EMPTY = Buffer.alloc(0);

export function toSignedRequest(req: FastifyRequest): IncomingSignedRequest {
  const url = req.raw.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method,
    path: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    // The plugin's parsers keep every body as bytes (plugin.ts); a body-less request has none.
    rawBody: Buffer.isBuffer(req.body) ? req.body : EMPTY,
  };
}

/**
 * A person typing the address into a browser: GET, no Action, no signature, and HTML accepted. They are sent to
 * the web console; anything else on `/` is the API and gets API answers.
 */
export function isBrowserVisit(req: FastifyRequest, signed: IncomingSignedRequest): boolean {
  if (req.method !== 'GET') return false;
  const accept = req.headers.accept;
  if (typeof accept !== 'string' || !accept.includes('text/html')) return false;
  if (req.headers.authorization !== undefined || req.headers['x-acs-action'] !== undefined) return false;
  const query = new URLSearchParams(signed.rawQuery);
  return !query.has('Action') && !query.has('Signature');
}

/** HostId of the error envelope: the endpoint the client addressed, if it looks like a host name. */
export function hostOf(req: FastifyRequest): string {
  const host = req.headers.host;
  return typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : 'keyfleet';
}
