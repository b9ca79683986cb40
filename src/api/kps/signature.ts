/**
 * Huawei Cloud `SDK-HMAC-SHA256` request signatures (AK/SK), server side and client side.
 *
 * Pure and framework-free: only node builtins, no I/O, no clock (callers pass `now`).
 * Spec: shared/specs/huawei/SDK-TRAFFIC.md §4, API.md §6/§8.
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
 *   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(SK, StringToSign))
 *
 * Server-side rules (so that the Node, Go and Python signers all pass):
 * - SignedHeaders come from the Authorization header, never from a fixed set (the Node SDK signs `host` and
 *   `content-type`, the Go SDK signs neither but signs `user-agent`); `x-sdk-date` must be among them.
 * - Each signed header's received value is trimmed.
 * - CanonicalURI: the raw (undecoded) path segments, strictly percent-encoded, trailing '/' forced. Fallbacks, tried
 *   only when the path contains characters on which the signers disagree: decoded-then-encoded segments (Python) and
 *   `encodeURIComponent` segments (what the Node SDK really does for `!'()*`).
 * - CanonicalQuery: the wire query decoded ('+' is a space, as Go sends it), sorted by key then value, re-encoded.
 * - PayloadHash: hex sha256 of the raw body bytes, or the `x-sdk-content-sha256` header value when present
 *   (`UNSIGNED-PAYLOAD`, or a hex hash which must then match the body).
 * - Signatures are compared in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { unescape as qsUnescape } from 'node:querystring';

export const SDK_HMAC_SHA256 = 'SDK-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** APIG rejects an `X-Sdk-Date` more than 15 minutes away from server time. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60_000;
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the HTTP layer hands over: everything exactly as received. */
export interface IncomingSignedRequest {
  method: string;
  /** The path as on the wire (no decoding), without the query string. */
  rawPath: string;
  /** The query string as on the wire, without the leading '?'; '' when there is none. */
  rawQuery: string;
  /** Lower-case header names (as node's IncomingMessage.headers). */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export interface SignedRequestInfo {
  accessKeyId: string;
  /** Lower-case names, in the order given by the Authorization header. */
  signedHeaders: string[];
  /** Lower-case hex, 64 characters. */
  signature: string;
  sdkDate: Date;
  /** `X-Project-Id`, only when it is one of the signed headers. */
  projectId?: string;
  /** `X-Domain-Id`, only when it is one of the signed headers. */
  domainId?: string;
  /** `X-Security-Token` (temporary AK/SK), only when it is one of the signed headers. */
  securityToken?: string;
}

/**
 * APIG error codes. This module emits only `APIGW.0301` (IAM authentication, HTTP 401): real KPS is IAM-authenticated,
 * and the field-observed expiry error is `APIGW.0301 … calc aksk signature fail:signature expired, …` (huaweicloud-sdk-java-v3
 * issue #44). `APIGW.0303` is the app-authentication flavour and `APIGW.0101` is "API not found"; they are part of the type
 * so that the HTTP layer can use one problem shape for every gateway error.
 */
export type SignatureProblemCode = 'APIGW.0301' | 'APIGW.0303' | 'APIGW.0101';

export type SignatureProblemReason =
  | 'missing_authorization'
  | 'unsupported_algorithm'
  | 'malformed_authorization'
  | 'missing_sdk_date'
  | 'malformed_sdk_date'
  | 'sdk_date_not_signed'
  | 'signed_header_missing'
  | 'malformed_content_sha256'
  | 'payload_hash_mismatch'
  | 'signature_mismatch'
  | 'signature_expired'
  | 'unknown_access_key';

export interface SignatureProblem {
  code: SignatureProblemCode;
  /** Becomes `error_msg` of the `{"error_code","error_msg","request_id"}` gateway body. */
  message: string;
  httpStatus: number;
  /** Machine-readable cause (for logs, metrics and tests; not part of the Huawei wire format). */
  reason: SignatureProblemReason;
  /** On `signature_mismatch`: the server's canonical request (security token redacted), for logs. */
  canonicalRequest?: string;
}

export type ParseResult = { ok: true; info: SignedRequestInfo } | { ok: false; problem: SignatureProblem };
export type CheckResult = { ok: true } | { ok: false; problem: SignatureProblem };
export type VerifyResult =
  | {
      ok: true;
      /** false when the client sent `x-sdk-content-sha256: UNSIGNED-PAYLOAD`: the body is not covered by the signature. */
      payloadSigned: boolean;
    }
  | { ok: false; problem: SignatureProblem };

const IAM_AUTH_PREFIX = 'Incorrect IAM authentication information: ';
const MAX_ECHO = 80;

function problem(reason: SignatureProblemReason, detail: string, extra?: { canonicalRequest?: string }): SignatureProblem {
  const p: SignatureProblem = { code: 'APIGW.0301', message: IAM_AUTH_PREFIX + detail, httpStatus: 401, reason };
  if (extra?.canonicalRequest !== undefined) p.canonicalRequest = extra.canonicalRequest;
  return p;
}

/** Untrusted input echoed in a message: bounded and single-line. */
function echo(value: string): string {
  const flat = value.replace(/[\r\n\t]/g, ' ');
  return flat.length > MAX_ECHO ? `${flat.slice(0, MAX_ECHO)}…` : flat;
}

/** For the HTTP layer when the AK of a well-formed request is not known (APIG: "Get secretKey failed"). */
export function unknownAccessKeyProblem(accessKeyId: string): SignatureProblem {
  return problem('unknown_access_key', `Get secretKey failed,ak:${echo(accessKeyId)},err:ak not exist`);
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------------------------

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
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

/** Percent-encode UTF-8 bytes, keeping only A–Z a–z 0–9 - _ . ~ (upper-case hex), as the Go/Node signers' `escape`. */
export function sdkEscape(s: string): string {
  if (UNRESERVED.test(s)) return s;
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (isUnreservedByte(b)) out += String.fromCharCode(b);
    else out += '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
  }
  return out;
}

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
    if (mode === 'raw') out.push(sdkEscape(seg));
    else if (mode === 'uri-component') out.push(encodeURIComponent(seg));
    else {
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        return undefined;
      }
      out.push(sdkEscape(decoded));
    }
  }
  return withTrailingSlash(out.join('/'));
}

/** The distinct canonical-URI candidates worth trying for this path, primary first. */
function canonicalUriCandidates(rawPath: string): string[] {
  const primary = canonicalUri(rawPath, 'raw') as string;
  const candidates = [primary];
  const add = (c: string | undefined): void => {
    if (c !== undefined && !candidates.includes(c)) candidates.push(c);
  };
  if (rawPath.includes('%')) add(canonicalUri(rawPath, 'decoded'));
  if (/[!'()*]/.test(rawPath)) add(canonicalUri(rawPath, 'uri-component'));
  return candidates;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Canonical query string of a raw (wire) query: split on '&', each `key[=value]` decoded ('+' means space, malformed
 * escapes are kept literally), sorted by key then value, re-encoded with {@link sdkEscape}, joined with '&'.
 * A parameter without '=' canonicalises as `key=`.
 */
export function canonicalQueryString(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawKey = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? '' : piece.slice(eq + 1);
    pairs.push([decodeQueryComponent(rawKey), decodeQueryComponent(rawValue)]);
  }
  pairs.sort((x, y) => compareCodeUnits(x[0], y[0]) || compareCodeUnits(x[1], y[1]));
  return pairs.map(([k, v]) => `${sdkEscape(k)}=${sdkEscape(v)}`).join('&');
}

function decodeQueryComponent(s: string): string {
  const spaced = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  return spaced.includes('%') ? qsUnescape(spaced) : spaced;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------------

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `YYYYMMDDTHHMMSSZ` (UTC). */
export function formatSdkDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Strict `YYYYMMDDTHHMMSSZ` parser; undefined for anything else (including impossible calendar dates). */
export function parseSdkDate(s: string): Date | undefined {
  const m = SDK_DATE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== se
  ) {
    return undefined;
  }
  return date;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing the Authorization header
// ---------------------------------------------------------------------------------------------------------------

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const ACCESS_KEY = /^[\x21-\x7e]+$/;
const SIGNATURE_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Parse `Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2…>, Signature=<hex>` and `X-Sdk-Date`.
 * Checks form only (no secret needed): the AK can then be looked up and passed to {@link verifySignature}.
 */
export function parseSignedRequest(req: IncomingSignedRequest): ParseResult {
  const auth = req.headers['authorization'];
  if (auth === undefined || auth === '') {
    return { ok: false, problem: problem('missing_authorization', 'Authorization header is missing') };
  }
  if (Array.isArray(auth)) {
    return { ok: false, problem: problem('malformed_authorization', 'more than one Authorization header') };
  }
  const trimmed = auth.trim();
  const sp = trimmed.search(/\s/);
  const algorithm = sp === -1 ? trimmed : trimmed.slice(0, sp);
  if (algorithm !== SDK_HMAC_SHA256) {
    return {
      ok: false,
      problem: problem('unsupported_algorithm', `unsupported authorization scheme '${echo(algorithm)}', expected ${SDK_HMAC_SHA256}`),
    };
  }
  const rest = sp === -1 ? '' : trimmed.slice(sp + 1);
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return malformed(`unexpected '${echo(item)}' (want Access=…, SignedHeaders=…, Signature=…)`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (key !== 'access' && key !== 'signedheaders' && key !== 'signature') {
      return malformed(`unknown field '${echo(item.slice(0, eq).trim())}'`);
    }
    if (fields.has(key)) return malformed(`duplicate field '${echo(item.slice(0, eq).trim())}'`);
    fields.set(key, value);
  }

  const accessKeyId = fields.get('access');
  if (accessKeyId === undefined || accessKeyId === '') return malformed('Access is missing');
  if (!ACCESS_KEY.test(accessKeyId)) return malformed('Access contains invalid characters');

  const signedHeadersRaw = fields.get('signedheaders');
  if (signedHeadersRaw === undefined || signedHeadersRaw === '') return malformed('SignedHeaders is missing');
  const signedHeaders = signedHeadersRaw.split(';').map((h) => h.trim().toLowerCase());
  const seen = new Set<string>();
  for (const h of signedHeaders) {
    if (!HEADER_NAME.test(h)) return malformed(`SignedHeaders contains an invalid header name '${echo(h)}'`);
    if (seen.has(h)) return malformed(`SignedHeaders lists '${echo(h)}' twice`);
    seen.add(h);
  }

  const signature = fields.get('signature');
  if (signature === undefined || signature === '') return malformed('Signature is missing');
  if (!SIGNATURE_HEX.test(signature)) return malformed('Signature must be 64 hexadecimal characters');

  const dateHeader = req.headers['x-sdk-date'];
  if (dateHeader === undefined || dateHeader === '') {
    return { ok: false, problem: problem('missing_sdk_date', 'x-sdk-date header is missing') };
  }
  if (Array.isArray(dateHeader)) {
    return { ok: false, problem: problem('malformed_sdk_date', 'more than one x-sdk-date header') };
  }
  const sdkDate = parseSdkDate(dateHeader.trim());
  if (sdkDate === undefined) {
    return {
      ok: false,
      problem: problem('malformed_sdk_date', `x-sdk-date '${echo(dateHeader)}' is not a valid YYYYMMDDTHHMMSSZ UTC time`),
    };
  }
  if (!seen.has('x-sdk-date')) {
    return { ok: false, problem: problem('sdk_date_not_signed', 'x-sdk-date must be one of the SignedHeaders') };
  }
  for (const h of signedHeaders) {
    if (req.headers[h] === undefined) {
      return { ok: false, problem: problem('signed_header_missing', `signed header '${echo(h)}' is not present in the request`) };
    }
  }

  const info: SignedRequestInfo = { accessKeyId, signedHeaders, signature: signature.toLowerCase(), sdkDate };
  const signedValue = (name: string): string | undefined => {
    if (!seen.has(name)) return undefined;
    const v = req.headers[name];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const projectId = signedValue('x-project-id');
  if (projectId !== undefined) info.projectId = projectId;
  const domainId = signedValue('x-domain-id');
  if (domainId !== undefined) info.domainId = domainId;
  const securityToken = signedValue('x-security-token');
  if (securityToken !== undefined) info.securityToken = securityToken;
  return { ok: true, info };
}

function malformed(detail: string): ParseResult {
  return { ok: false, problem: problem('malformed_authorization', `malformed Authorization header: ${detail}`) };
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical request
// ---------------------------------------------------------------------------------------------------------------

/** `name:trim(value)\n` per signed header, in the given order (repeated values: one line each, sorted, as Go does). */
export function canonicalHeaders(headers: IncomingSignedRequest['headers'], signedHeaders: readonly string[]): string {
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
  return [p.method, p.canonicalUri, p.canonicalQuery, p.canonicalHeaders, p.signedHeaders.join(';'), p.payloadHash].join('\n');
}

export function buildStringToSign(canonicalRequest: string, sdkDate: string): string {
  return `${SDK_HMAC_SHA256}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`;
}

function hmacSha256(secretKey: string, data: string): Buffer {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(data, 'utf8').digest();
}

type PayloadHash = { ok: true; hash: string; signed: boolean } | { ok: false; problem: SignatureProblem };

function payloadHashOf(req: IncomingSignedRequest): PayloadHash {
  const claimed = req.headers['x-sdk-content-sha256'];
  if (claimed === undefined) return { ok: true, hash: sha256Hex(req.rawBody), signed: true };
  if (Array.isArray(claimed)) {
    return { ok: false, problem: problem('malformed_content_sha256', 'more than one x-sdk-content-sha256 header') };
  }
  const value = claimed.trim();
  if (value === UNSIGNED_PAYLOAD) return { ok: true, hash: value, signed: false };
  if (SIGNATURE_HEX.test(value)) {
    // The signature covers the claimed hash, not the body: the body must match the claim or it could be swapped.
    const actual = sha256Hex(req.rawBody);
    if (!constantTimeHexEqual(actual, value.toLowerCase())) {
      return {
        ok: false,
        problem: problem('payload_hash_mismatch', 'verify aksk signature fail, x-sdk-content-sha256 does not match the request body'),
      };
    }
    return { ok: true, hash: value, signed: true };
  }
  return {
    ok: false,
    problem: problem('malformed_content_sha256', `x-sdk-content-sha256 must be ${UNSIGNED_PAYLOAD} or a hex SHA-256, got '${echo(value)}'`),
  };
}

function constantTimeHexEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/**
 * The canonical request as the server computes it for `signedHeaders` (by default with the primary canonical-URI
 * variant) — for diagnostics and the worked-example tests.
 */
export function computeCanonicalRequest(req: IncomingSignedRequest, signedHeaders: readonly string[], uriMode: CanonicalUriMode = 'raw'): string {
  const payload = payloadHashOf(req);
  return buildCanonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.rawPath, uriMode) ?? (canonicalUri(req.rawPath, 'raw') as string),
    canonicalQuery: canonicalQueryString(req.rawQuery),
    canonicalHeaders: canonicalHeaders(req.headers, signedHeaders),
    signedHeaders,
    payloadHash: payload.ok ? payload.hash : sha256Hex(req.rawBody),
  });
}

function redactForEcho(canonicalRequest: string): string {
  return canonicalRequest.replace(/^x-security-token:.*$/m, 'x-security-token:***');
}

/**
 * Recompute the signature with `secretKey` and compare it (constant time) with the one in `info`.
 * Does not look at the clock: call {@link checkFreshness} as well.
 */
export function verifySignature(req: IncomingSignedRequest, info: SignedRequestInfo, secretKey: string): VerifyResult {
  const payload = payloadHashOf(req);
  if (!payload.ok) return payload;
  if (!SIGNATURE_HEX.test(info.signature)) {
    return { ok: false, problem: problem('malformed_authorization', 'malformed Authorization header: Signature must be 64 hexadecimal characters') };
  }
  const provided = Buffer.from(info.signature, 'hex');
  const canonicalQuery = canonicalQueryString(req.rawQuery);
  const headersPart = canonicalHeaders(req.headers, info.signedHeaders);
  const sdkDate = formatSdkDate(info.sdkDate);

  let firstCanonical: string | undefined;
  let matched = false;
  for (const uri of canonicalUriCandidates(req.rawPath)) {
    const canonical = buildCanonicalRequest({
      method: req.method,
      canonicalUri: uri,
      canonicalQuery,
      canonicalHeaders: headersPart,
      signedHeaders: info.signedHeaders,
      payloadHash: payload.hash,
    });
    firstCanonical ??= canonical;
    const expected = hmacSha256(secretKey, buildStringToSign(canonical, sdkDate));
    // Every candidate is evaluated (no early exit) so timing depends only on the path's shape.
    if (timingSafeEqual(expected, provided)) matched = true;
  }
  if (matched) return { ok: true, payloadSigned: payload.signed };

  const shown = redactForEcho(firstCanonical ?? '');
  return {
    ok: false,
    problem: problem(
      'signature_mismatch',
      `verify aksk signature fail, ak:${echo(info.accessKeyId)}, canonicalRequest:${shown.replace(/\n/g, '|')}`,
      { canonicalRequest: shown },
    ),
  };
}

/** `X-Sdk-Date` must be within `skewMs` (inclusive) of `now`, in either direction. */
export function checkFreshness(info: SignedRequestInfo, now: Date, skewMs: number = DEFAULT_MAX_SKEW_MS): CheckResult {
  if (Math.abs(now.getTime() - info.sdkDate.getTime()) <= skewMs) return { ok: true };
  return {
    ok: false,
    problem: problem(
      'signature_expired',
      `calc aksk signature fail:signature expired, signature time:${formatSdkDate(info.sdkDate)},server time:${formatSdkDate(now)}`,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Client side (tests, benchmarks, smoke scripts)
// ---------------------------------------------------------------------------------------------------------------

export interface SigningInput {
  method: string;
  /** Wire path (already percent-encoded as it will be sent), without query. */
  rawPath: string;
  /** Wire query without '?', default ''. Sent as given; the signature uses its canonical form. */
  rawQuery?: string;
  /** Any case; emitted lower-case. Include `host` (and `content-type`) to sign them, as the Node SDK does. */
  headers?: Record<string, string>;
  body?: Buffer | string;
  accessKeyId: string;
  secretKey: string;
  /** Signing time (becomes `x-sdk-date`). Default: an `x-sdk-date` already in `headers`, else the current time. */
  date?: Date;
  /**
   * Which headers to sign. Default: every header in `headers` plus `x-sdk-date`, sorted (Node SDK behaviour).
   * The Go SDK style is e.g. `['user-agent', 'x-project-id', 'x-sdk-date']` (no host, no content-type).
   * Must contain `x-sdk-date`; every name must be in `headers`.
   */
  signedHeaders?: string[];
}

export interface SigningResult {
  /** Ready to verify or to send: lower-case headers including `x-sdk-date` and `authorization`. */
  request: IncomingSignedRequest & { headers: Record<string, string> };
  authorization: string;
  signature: string;
  sdkDate: string;
  canonicalRequest: string;
  stringToSign: string;
}

/** Sign a request the way the official SDKs do. Throws on misuse (it is a client/test helper, not a request path). */
export function signRequest(input: SigningInput): SigningResult {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  delete headers['authorization'];
  let sdkDate: string;
  if (input.date !== undefined) sdkDate = formatSdkDate(input.date);
  else if (headers['x-sdk-date'] !== undefined) {
    const parsed = parseSdkDate(headers['x-sdk-date'].trim());
    if (parsed === undefined) throw new Error(`signRequest: invalid x-sdk-date '${headers['x-sdk-date']}'`);
    sdkDate = formatSdkDate(parsed);
  } else sdkDate = formatSdkDate(new Date());
  headers['x-sdk-date'] = sdkDate;

  const signedHeaders = input.signedHeaders
    ? input.signedHeaders.map((h) => h.toLowerCase())
    : Object.keys(headers).sort(compareCodeUnits);
  if (!signedHeaders.includes('x-sdk-date')) throw new Error('signRequest: signedHeaders must include x-sdk-date');
  for (const h of signedHeaders) {
    if (headers[h] === undefined) throw new Error(`signRequest: signed header '${h}' is not in headers`);
  }

  const rawBody = input.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body, 'utf8');
  const claimed = headers['x-sdk-content-sha256'];
  const canonicalRequest = buildCanonicalRequest({
    method: input.method,
    canonicalUri: canonicalUri(input.rawPath, 'raw') as string,
    canonicalQuery: canonicalQueryString(input.rawQuery ?? ''),
    canonicalHeaders: canonicalHeaders(headers, signedHeaders),
    signedHeaders,
    payloadHash: claimed !== undefined ? claimed.trim() : sha256Hex(rawBody),
  });
  const stringToSign = buildStringToSign(canonicalRequest, sdkDate);
  const signature = hmacSha256(input.secretKey, stringToSign).toString('hex');
  const authorization = `${SDK_HMAC_SHA256} Access=${input.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  headers['authorization'] = authorization;
  return {
    request: { method: input.method, rawPath: input.rawPath, rawQuery: input.rawQuery ?? '', headers, rawBody },
    authorization,
    signature,
    sdkDate,
    canonicalRequest,
    stringToSign,
  };
}
