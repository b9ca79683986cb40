/**
 * The canonical forms of the two Alibaba RPC signature schemes, shared by the verifier here and the test signer
 * (docs/api/alibaba-ecs.md, "Signatures"):
 *  - ACS3-HMAC-SHA256 (`Authorization` header; default of `@alicloud/ecs20140526` 4.x/7.x), and
 *  - HMAC-SHA1 "Signature" parameter, SignatureVersion 1.0 (`@alicloud/pop-core`; the new SDK with
 *    `signatureAlgorithm: 'v2'`).
 * Everything is computed from percent-DECODED values re-encoded with strict RFC 3986, never from raw text.
 */
import { createHmac } from 'node:crypto';
import { canonicalQuery, type QueryPair, rfc3986Encode, sha256Hex, utcDateTime } from '../../http/request-signing.js';

export type SignatureScheme = 'ACS3-HMAC-SHA256' | 'HMAC-SHA1';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const RPC_V1_SIGNATURE_METHOD = 'HMAC-SHA1';
export const RPC_V1_SIGNATURE_VERSION = '1.0';

/** `yyyy-MM-ddTHH:mm:ssZ` (optionally with fractional seconds), validated as a real UTC date-time. */
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;

export function parseTimestamp(value: string): Date | undefined {
  const m = TIMESTAMP_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return utcDateTime(y, mo, d, h, mi, s);
}

/** The wire form of a timestamp: `2026-11-24T17:28:10Z`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ACS3 canonical request. `headers` lower-case; `signedHeaders` lower-case and sorted. */
export function acs3CanonicalRequest(parts: {
  method: string;
  path: string;
  query: ReadonlyArray<QueryPair>;
  headers: ReadonlyMap<string, string>;
  signedHeaders: ReadonlyArray<string>;
  payloadHash: string;
}): string {
  let canonicalHeaders = '';
  for (const name of parts.signedHeaders) canonicalHeaders += `${name}:${(parts.headers.get(name) ?? '').trim()}\n`;
  return [
    parts.method.toUpperCase(),
    parts.path === '' ? '/' : parts.path,
    canonicalQuery(parts.query),
    canonicalHeaders,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function acs3Signature(stringToSign: string, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

/** HMAC-SHA1 string to sign: `METHOD&%2F&` + RFC3986(canonical params). `Signature` excluded. */
export function rpcV1StringToSign(method: string, params: ReadonlyArray<QueryPair> | Record<string, string>): string {
  const pairs = (Array.isArray(params) ? params : Object.entries(params)) as ReadonlyArray<QueryPair>;
  const canonical = canonicalQuery(pairs.filter(([k]) => k !== 'Signature'));
  return `${method.toUpperCase()}&${rfc3986Encode('/')}&${rfc3986Encode(canonical)}`;
}

export function rpcV1Signature(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}
