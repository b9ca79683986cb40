/**
 * Request bodies exactly as received, because SDK-HMAC-SHA256 signs the hash of the raw bytes (SDK-TRAFFIC.md §4).
 * - Every content type is read as bytes and kept; JSON is parsed from those bytes (all KPS bodies are JSON, and the
 *   Node SDK labels even bodiless GETs `application/json`).
 * - GET bodies are read too: Fastify never reads one, but the SDK's project lookup sends `GET /v3/projects` with the
 *   body `{}` and signs its hash (capture 07).
 * - Malformed JSON is not refused while parsing: it is marked, and refused after authentication, so an anonymous
 *   caller learns nothing but "sign the request".
 */
import type { FastifyRequest } from 'fastify';
import { CoreError } from '../../core/errors.js';
import type { KpsApp } from './context.js';

const rawBodies = new WeakMap<FastifyRequest, Buffer>();
const EMPTY = Buffer.alloc(0);

/** Stands in for a body that is not valid JSON until the request is authenticated. */
const INVALID_JSON: unique symbol = Symbol('invalid JSON body');

export function installRawBodyParser(app: KpsApp): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    rawBodies.set(req, raw);
    done(null, raw.length === 0 ? undefined : parseJson(raw));
  });
}

function parseJson(raw: Buffer): unknown {
  try {
    // A "__proto__" key could poison objects the body is later merged into; no KPS field has that name.
    return JSON.parse(raw.toString('utf8'), (key, value: unknown) => {
      if (key === '__proto__') throw new SyntaxError('forbidden key');
      return value;
    });
  } catch {
    return INVALID_JSON;
  }
}

/** Reads the body of a GET (or any request Fastify left unread), bounded by the route's body limit. */
export async function readUnparsedBody(req: FastifyRequest): Promise<void> {
  if (rawBodies.has(req)) return;
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const bodiless = !chunked && (length === undefined || length === '0');
  if (bodiless || req.raw.readableEnded) {
    rawBodies.set(req, EMPTY);
    return;
  }
  const limit = req.routeOptions.bodyLimit ?? 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CoreError('Input.TooLarge', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  rawBodies.set(req, raw);
  if (raw.length > 0 && req.body === undefined) req.body = parseJson(raw);
}

export function rawBodyOf(req: FastifyRequest): Buffer {
  return rawBodies.get(req) ?? EMPTY;
}

/** Called once the caller is known: a body that was not JSON is a parameter error (KPS.0002). */
export function refuseInvalidJson(req: FastifyRequest): void {
  if (req.body === INVALID_JSON) throw new CoreError('Input.Invalid', 'The request body is not valid JSON.');
}
