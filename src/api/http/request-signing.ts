/**
 * The primitives that the ECS (ACS3-HMAC-SHA256, HMAC-SHA1) and KPS (SDK-HMAC-SHA256) request signatures share:
 * hashing, strict RFC 3986 encoding, decoding of wire query strings, the sorted canonical query and strict UTC
 * date-times. The schemes differ in what they sign (docs/api/alibaba-ecs.md, docs/api/huawei-kps.md); these steps
 * are the same in both, and a difference here would be a verification bug in one face only.
 *
 * Pure: node:crypto and node:querystring only, no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { unescape as qsUnescape } from 'node:querystring';

/** hex(sha256('')): the payload hash of a body-less request. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const UNRESERVED_ONLY = /^[A-Za-z0-9\-_.~]*$/;
const HEX_UPPER = '0123456789ABCDEF';

function isUnreservedByte(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || // -
    b === 0x5f || // _
    b === 0x2e || // .
    b === 0x7e // ~
  );
}

/**
 * Strict RFC 3986 percent-encoding of the UTF-8 bytes: only `A-Z a-z 0-9 - _ . ~` stay raw, space is `%20`, hex is
 * upper case. Never throws (a lone surrogate is encoded as U+FFFD, as Buffer does).
 */
export function rfc3986Encode(value: string): string {
  if (UNRESERVED_ONLY.test(value)) return value;
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    if (isUnreservedByte(b)) out += String.fromCharCode(b);
    else out += '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
  }
  return out;
}

/**
 * Percent-decoding of one query-string or form component: `+` is a space (the SDKs send `%2B` for a plus, Go sends
 * `+` for a space); malformed escapes are kept literally and invalid UTF-8 becomes U+FFFD (then the signature simply
 * does not match), never an exception.
 */
export function decodeQueryComponent(value: string): string {
  const spaced = value.includes('+') ? value.replace(/\+/g, ' ') : value;
  return spaced.includes('%') ? qsUnescape(spaced) : spaced;
}

export type QueryPair = readonly [name: string, value: string];

/** Splits a wire `a=1&b=2` into decoded pairs, keeping order and duplicates. `a` alone is `['a', '']`. */
export function parseQueryPairs(raw: string): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) pairs.push([decodeQueryComponent(part), '']);
    else pairs.push([decodeQueryComponent(part.slice(0, eq)), decodeQueryComponent(part.slice(eq + 1))]);
  }
  return pairs;
}

/** Code-unit order (what `Object.keys(...).sort()` in the SDKs does). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By name, then by value, in code-unit order. */
export function compareQueryPairs(a: QueryPair, b: QueryPair): number {
  return compareCodeUnits(a[0], b[0]) || compareCodeUnits(a[1], b[1]);
}

/** `name=value` pairs sorted by name then value, both sides RFC 3986-encoded, joined by `&` (empty value: `name=`). */
export function canonicalQuery(pairs: ReadonlyArray<QueryPair>): string {
  return [...pairs]
    .sort(compareQueryPairs)
    .map(([k, v]) => `${rfc3986Encode(k)}=${rfc3986Encode(v)}`)
    .join('&');
}

/** The UTC instant of these calendar fields, or undefined when they name no real date-time (Feb 30, 24:00, ...). */
export function utcDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number): Date | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  const exact =
    !Number.isNaN(ms) &&
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return exact ? date : undefined;
}
