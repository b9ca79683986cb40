/**
 * Huawei Cloud `SDK-HMAC-SHA256` canonical forms (AK/SK), shared by the verifier and the test signer
 * (docs/api/huawei-kps.md, "Signatures"):
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
 *   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(SK, StringToSign))
 *
 * - CanonicalURI: the raw (undecoded) path segments, strictly percent-encoded, trailing '/' forced. Fallbacks, tried
 *   only when the path contains characters on which the signers disagree: decoded-then-encoded segments (Python) and
 *   `encodeURIComponent` segments (what the Node SDK really does for `!'()*`).
 * - CanonicalQuery: the wire query decoded ('+' is a space, as Go sends it), sorted by key then value, re-encoded.
 * - Each signed header's value is trimmed.
 */
import { createHmac } from 'node:crypto';
import {
  canonicalQuery,
  compareCodeUnits,
  parseQueryPairs,
  rfc3986Encode,
  sha256Hex,
  utcDateTime,
} from '../../http/request-signing.js';

export const SDK_HMAC_SHA256 = 'SDK-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** Headers as node's IncomingMessage.headers gives them: lower-case names, repeated headers as arrays. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

function withTrailingSlash(p: string): string {
  return p.endsWith('/') ? p : p + '/';
}

export type CanonicalUriMode = 'raw' | 'decoded' | 'uri-component';

/**
 * Canonical URI of a raw path.
 * - `raw` (default, Node/Go): each raw '/'-segment strictly encoded — a literal `%` becomes `%25`.
 * - `decoded` (Python): each segment percent-decoded first, then strictly encoded. Returns undefined if undecodable.
 * - `uri-component` (the Node SDK's actual encoder): `encodeURIComponent`, which leaves `!'()*` alone.
 */
export function canonicalUri(rawPath: string, mode: CanonicalUriMode = 'raw'): string | undefined {
  const segments = (rawPath === '' ? '/' : rawPath).split('/');
  const out: string[] = [];
  for (const seg of segments) {
    if (mode === 'raw') out.push(rfc3986Encode(seg));
    else if (mode === 'uri-component') out.push(encodeURIComponent(seg));
    else {
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        return undefined;
      }
      out.push(rfc3986Encode(decoded));
    }
  }
  return withTrailingSlash(out.join('/'));
}

/** The distinct canonical-URI candidates worth trying for this path, primary first. */
export function canonicalUriCandidates(rawPath: string): string[] {
  const primary = canonicalUri(rawPath, 'raw') as string;
  const candidates = [primary];
  const add = (c: string | undefined): void => {
    if (c !== undefined && !candidates.includes(c)) candidates.push(c);
  };
  if (rawPath.includes('%')) add(canonicalUri(rawPath, 'decoded'));
  if (/[!'()*]/.test(rawPath)) add(canonicalUri(rawPath, 'uri-component'));
  return candidates;
}

/**
 * Canonical query string of a raw (wire) query: split on '&', each `key[=value]` decoded ('+' means space, malformed
 * escapes are kept literally), sorted by key then value, re-encoded strictly, joined with '&'.
 * A parameter without '=' canonicalises as `key=`.
 */
export function canonicalQueryString(rawQuery: string): string {
  return canonicalQuery(parseQueryPairs(rawQuery));
}

/** `name:trim(value)\n` per signed header, in the given order (repeated values: one line each, sorted, as Go does). */
export function canonicalHeaders(headers: RequestHeaders, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      for (const one of v.map((x) => x.trim()).sort(compareCodeUnits)) out += `${name}:${one}\n`;
    } else {
      out += `${name}:${v.trim()}\n`;
    }
  }
  return out;
}

export interface CanonicalParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function buildCanonicalRequest(p: CanonicalParts): string {
  return [
    p.method,
    p.canonicalUri,
    p.canonicalQuery,
    p.canonicalHeaders,
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}

export function buildStringToSign(canonicalRequest: string, sdkDate: string): string {
  return `${SDK_HMAC_SHA256}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`;
}

export function hmacSha256(secretKey: string, data: string): Buffer {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(data, 'utf8').digest();
}

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `YYYYMMDDTHHMMSSZ` (UTC). */
export function formatSdkDate(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Strict `YYYYMMDDTHHMMSSZ` parser; undefined for anything else (including impossible calendar dates). */
export function parseSdkDate(s: string): Date | undefined {
  const m = SDK_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return utcDateTime(y, mo, d, h, mi, se);
}
