/**
 * Request signatures of the Alibaba Cloud RPC API (ECS 2014-05-26), both the verifying and the signing side.
 *
 * Two schemes, as the official SDKs put them on the wire (see specs/alibaba/SDK-TRAFFIC.md §2–§4):
 *  - ACS3-HMAC-SHA256 (`Authorization` header; default of `@alicloud/ecs20140526` 4.x/7.x), and
 *  - HMAC-SHA1 "Signature" parameter, SignatureVersion 1.0 (`@alicloud/pop-core`; new SDK with
 *    `signatureAlgorithm: 'v2'`).
 *
 * Pure and framework-free: only node:crypto and node:querystring. Verification is split in steps so that a caller
 * can (1) read who signed without the secret, look the secret up, (2) verify, then (3) check freshness and (4) the
 * nonce. Everything is computed from percent-DECODED values re-encoded with strict RFC 3986, never from raw text.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { unescape as qsUnescape } from 'node:querystring';

export interface IncomingSignedRequest {
  method: string;
  /** Path without the query string (`/` for the RPC API). */
  path: string;
  /** The raw query string as received, without the leading `?` (a leading `?` is tolerated). */
  rawQuery: string;
  /** Header names in lower case (as Node's `IncomingMessage.headers`). */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export type SignatureScheme = 'ACS3-HMAC-SHA256' | 'HMAC-SHA1';

export interface SignedRequestInfo {
  scheme: SignatureScheme;
  accessKeyId: string;
  /**
   * Merged, percent-decoded query + form body (form only when content-type is application/x-www-form-urlencoded),
   * without `Signature`. A null-prototype object: look-ups of absent names (`toString`, `__proto__`) give undefined.
   */
  params: Record<string, string>;
  /** V1: the signed `Action` param. ACS3: the (signed) `x-acs-action` header, else the `Action` param. */
  action: string | undefined;
  version: string | undefined;
  /** Always set when parsing succeeded (a missing nonce is rejected); typed optional for hand-built infos. */
  nonce: string | undefined;
  /** Always set when parsing succeeded (a missing/malformed timestamp is rejected). */
  timestamp: Date | undefined;
  securityToken?: string;
}

export type SignatureProblem = {
  code:
    | 'IncompleteSignature'
    | 'MissingParameter'
    | 'IllegalTimestamp'
    | 'InvalidTimeStamp.Expired'
    | 'SignatureDoesNotMatch'
    | 'SignatureNonceUsed'
    | 'UnsupportedSignatureMethod';
  message: string;
  httpStatus: number;
};

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const RPC_V1_SIGNATURE_METHOD = 'HMAC-SHA1';
export const RPC_V1_SIGNATURE_VERSION = '1.0';
/** Alibaba rejects timestamps more than 15 minutes away from its clock. */
export const DEFAULT_SKEW_MS = 15 * 60 * 1000;
/** hex(sha256('')): what `x-acs-content-sha256` carries for the body-less requests of the SDKs. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// ---------------------------------------------------------------------------------------------------------------
// Problems (texts and statuses from specs/alibaba/API.md §1.4)

const INCOMPLETE_SIGNATURE_MESSAGE = 'The request signature does not conform to Alibaba Cloud standards.';

function problem(code: SignatureProblem['code'], message: string, httpStatus = 400): SignatureProblem {
  return { code, message, httpStatus };
}

function incomplete(): SignatureProblem {
  return problem('IncompleteSignature', INCOMPLETE_SIGNATURE_MESSAGE);
}

function missing(name: string): SignatureProblem {
  return problem(
    'MissingParameter',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

function missingTimestamp(name: string): SignatureProblem {
  return problem(
    'IllegalTimestamp',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

function malformedTimestamp(name: string): SignatureProblem {
  return problem(
    'IllegalTimestamp',
    `The input parameter "${name}" is not well formatted; expected UTC yyyy-MM-ddTHH:mm:ssZ.`,
  );
}

function unsupported(message: string): SignatureProblem {
  return problem('UnsupportedSignatureMethod', message);
}

function mismatch(scheme: SignatureScheme, stringToSign: string): SignatureProblem {
  return problem(
    'SignatureDoesNotMatch',
    scheme === 'HMAC-SHA1'
      ? `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`
      : `Specified signature does not match our calculation. server StringToSign is [${stringToSign}]`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

const RFC3986_EXTRA = /[!'()*]/g;

/** Strict RFC 3986 percent-encoding (unreserved `A-Z a-z 0-9 - _ . ~` stay raw; space is `%20`; upper-case hex). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    RFC3986_EXTRA,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Percent-decoding for query strings and form bodies: `+` is a space (the SDKs always send `%2B` for a plus, so
 * this is safe); malformed escapes are kept as-is and invalid UTF-8 becomes U+FFFD (then the signature simply
 * does not match), never an exception.
 */
export function percentDecode(value: string): string {
  const s = value.includes('+') ? value.replace(/\+/g, ' ') : value;
  return s.includes('%') ? qsUnescape(s) : s;
}

type Pair = readonly [name: string, value: string];

/** Splits `a=1&b=2` into decoded pairs, keeping order and duplicates. `a` alone is `['a', '']`. */
function parseUrlEncoded(raw: string): Pair[] {
  const pairs: Pair[] = [];
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) pairs.push([percentDecode(part), '']);
    else pairs.push([percentDecode(part.slice(0, eq)), percentDecode(part.slice(eq + 1))]);
  }
  return pairs;
}

/** Code-unit order by name (what `Object.keys(...).sort()` in the SDKs does), then by value. */
function comparePairs(a: Pair, b: Pair): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** `name=value` pairs, sorted, both sides RFC 3986-encoded, joined by `&` (empty value → `name=`). */
export function canonicalQueryString(pairs: ReadonlyArray<Pair>): string {
  return [...pairs]
    .sort(comparePairs)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Constant-time string equality (the length of the expected value is public: 64 hex or 28 base64 chars). */
function safeEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  if (a.length !== b.length) {
    // Keep the work comparable, then fail.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** `yyyy-MM-ddTHH:mm:ssZ` (optionally with fractional seconds), validated as a real UTC date-time. */
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;

export function parseTimestamp(value: string): Date | undefined {
  const m = TIMESTAMP_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  if (
    Number.isNaN(ms) ||
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return date;
}

/** The wire form of a timestamp: `2026-11-24T17:28:10Z`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing (step 1)

function normalizeHeaders(headers: IncomingSignedRequest['headers']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    const key = name.toLowerCase();
    const prev = out.get(key);
    out.set(key, prev === undefined ? joined : `${prev},${joined}`);
  }
  return out;
}

function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/x-www-form-urlencoded';
}

interface ParsedAcs3 {
  scheme: 'ACS3-HMAC-SHA256';
  info: SignedRequestInfo;
  method: string;
  path: string;
  queryPairs: Pair[];
  headers: Map<string, string>;
  /** Lower-case, sorted, de-duplicated. */
  signedHeaders: string[];
  providedSignature: string;
  contentSha256: string | undefined;
}

interface ParsedRpcV1 {
  scheme: 'HMAC-SHA1';
  info: SignedRequestInfo;
  method: string;
  /** Query + form pairs except Signature. */
  signedPairs: Pair[];
  providedSignature: string;
}

type Parsed = ParsedAcs3 | ParsedRpcV1;
type ParseResult = { ok: true; parsed: Parsed } | { ok: false; problem: SignatureProblem };

function fail(p: SignatureProblem): { ok: false; problem: SignatureProblem } {
  return { ok: false, problem: p };
}

function parseInternal(req: IncomingSignedRequest): ParseResult {
  const method = req.method.toUpperCase();
  const rawQuery = req.rawQuery.startsWith('?') ? req.rawQuery.slice(1) : req.rawQuery;
  const headers = normalizeHeaders(req.headers);

  const queryPairs = parseUrlEncoded(rawQuery);
  const formParsed = isFormContentType(headers.get('content-type')) && req.rawBody.length > 0;
  const formPairs = formParsed ? parseUrlEncoded(req.rawBody.toString('utf8')) : [];

  // Merge. A name given twice (in the query, the body, or both) is ambiguous: refuse rather than pick one.
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let signature: string | undefined;
  const signedPairs: Pair[] = [];
  const seen = new Set<string>();
  for (const pair of queryPairs.concat(formPairs)) {
    const [name, value] = pair;
    if (seen.has(name)) return fail(incomplete());
    seen.add(name);
    if (name === 'Signature') {
      signature = value;
    } else {
      params[name] = value;
      signedPairs.push(pair);
    }
  }

  const authorization = headers.get('authorization')?.trim();
  const authScheme = authorization ? authorization.split(/\s+/, 1)[0]! : undefined;

  if (authScheme !== undefined && authScheme.toUpperCase().startsWith('ACS3-')) {
    if (authScheme !== ACS3_ALGORITHM) {
      return fail(unsupported(`Specified signature algorithm "${authScheme}" is not supported.`));
    }
    return parseAcs3(method, req.path, authorization!, headers, queryPairs, params, formParsed);
  }
  if (signature !== undefined) {
    return parseRpcV1(method, signature, params, signedPairs);
  }
  if (authScheme !== undefined) {
    return fail(unsupported(`Specified signature algorithm "${authScheme}" is not supported.`));
  }
  // Anonymous.
  if (params['AccessKeyId'] === undefined || params['AccessKeyId'] === '') return fail(missing('AccessKeyId'));
  return fail(incomplete());
}

function parseRpcV1(
  method: string,
  signature: string,
  params: Record<string, string>,
  signedPairs: Pair[],
): ParseResult {
  const accessKeyId = params['AccessKeyId'];
  if (accessKeyId === undefined || accessKeyId === '') return fail(missing('AccessKeyId'));
  if (signature === '') return fail(incomplete());

  const signatureMethod = params['SignatureMethod'];
  if (signatureMethod === undefined || signatureMethod === '') return fail(missing('SignatureMethod'));
  if (signatureMethod !== RPC_V1_SIGNATURE_METHOD) {
    return fail(unsupported(`Specified signature method "${signatureMethod}" is not supported.`));
  }
  const signatureVersion = params['SignatureVersion'];
  if (signatureVersion === undefined || signatureVersion === '') return fail(missing('SignatureVersion'));
  if (signatureVersion !== RPC_V1_SIGNATURE_VERSION) {
    return fail(unsupported(`Specified signature version "${signatureVersion}" is not supported.`));
  }

  const rawTimestamp = params['Timestamp'];
  if (rawTimestamp === undefined || rawTimestamp === '') return fail(missingTimestamp('Timestamp'));
  const timestamp = parseTimestamp(rawTimestamp);
  if (timestamp === undefined) return fail(malformedTimestamp('Timestamp'));

  const nonce = params['SignatureNonce'];
  if (nonce === undefined || nonce === '') return fail(missing('SignatureNonce'));

  const info: SignedRequestInfo = {
    scheme: 'HMAC-SHA1',
    accessKeyId,
    params,
    action: params['Action'],
    version: params['Version'],
    nonce,
    timestamp,
  };
  const securityToken = params['SecurityToken'];
  if (securityToken !== undefined) info.securityToken = securityToken;
  // A raw '+' in the Signature value decodes to a space; base64 never contains spaces, so restore it.
  const providedSignature = signature.includes(' ') ? signature.replace(/ /g, '+') : signature;
  return { ok: true, parsed: { scheme: 'HMAC-SHA1', info, method, signedPairs, providedSignature } };
}

function parseAcs3(
  method: string,
  path: string,
  authorization: string,
  headers: Map<string, string>,
  queryPairs: Pair[],
  params: Record<string, string>,
  formParsed: boolean,
): ParseResult {
  // ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<a;b;c>,Signature=<hex>
  const fields = new Map<string, string>();
  for (const item of authorization.slice(ACS3_ALGORITHM.length).split(',')) {
    const part = item.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return fail(incomplete());
    const key = part.slice(0, eq).trim();
    if (fields.has(key)) return fail(incomplete());
    fields.set(key, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersField = fields.get('SignedHeaders');
  const providedSignature = fields.get('Signature');
  if (credential === undefined || signedHeadersField === undefined || providedSignature === undefined) {
    return fail(incomplete());
  }
  if (credential === '') return fail(missing('AccessKeyId'));
  if (!/^[0-9a-fA-F]{64}$/.test(providedSignature)) return fail(incomplete());

  const signedHeaders = signedHeadersField.split(';').map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === '' || h === 'authorization')) return fail(incomplete());
  if (new Set(signedHeaders).size !== signedHeaders.length) return fail(incomplete());
  signedHeaders.sort();
  const signedSet = new Set(signedHeaders);
  // Everything the server acts on must be covered: host (incl. port) and every x-acs-* header present
  // (action, version, date, nonce, security token, content hash, ...); content-type when it made us parse the body.
  if (!signedSet.has('host')) return fail(incomplete());
  for (const name of headers.keys()) {
    if (name.startsWith('x-acs-') && !signedSet.has(name)) return fail(incomplete());
  }
  if (formParsed && !signedSet.has('content-type')) return fail(incomplete());

  const akHeader = headers.get('x-acs-accesskey-id');
  if (akHeader !== undefined && akHeader.trim() !== credential) return fail(incomplete());

  const rawDate = headers.get('x-acs-date')?.trim();
  if (rawDate === undefined || rawDate === '') return fail(missingTimestamp('x-acs-date'));
  const timestamp = parseTimestamp(rawDate);
  if (timestamp === undefined) return fail(malformedTimestamp('x-acs-date'));

  const nonce = headers.get('x-acs-signature-nonce')?.trim();
  if (nonce === undefined || nonce === '') return fail(missing('x-acs-signature-nonce'));

  const info: SignedRequestInfo = {
    scheme: 'ACS3-HMAC-SHA256',
    accessKeyId: credential,
    params,
    action: headers.get('x-acs-action')?.trim() ?? params['Action'],
    version: headers.get('x-acs-version')?.trim() ?? params['Version'],
    nonce,
    timestamp,
  };
  const securityToken = headers.get('x-acs-security-token')?.trim() ?? params['SecurityToken'];
  if (securityToken !== undefined) info.securityToken = securityToken;

  return {
    ok: true,
    parsed: {
      scheme: 'ACS3-HMAC-SHA256',
      info,
      method,
      path,
      queryPairs,
      headers,
      signedHeaders,
      providedSignature: providedSignature.toLowerCase(),
      contentSha256: headers.get('x-acs-content-sha256')?.trim().toLowerCase(),
    },
  };
}

/** Step 1: read who signed and what, without the secret. */
export function parseSignedRequest(
  req: IncomingSignedRequest,
): { ok: true; info: SignedRequestInfo } | { ok: false; problem: SignatureProblem } {
  const r = parseInternal(req);
  return r.ok ? { ok: true, info: r.parsed.info } : r;
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical forms (shared by verifying and signing)

/** ACS3 canonical request (SDK-TRAFFIC §3.1). `headers` lower-case; `signedHeaders` lower-case and sorted. */
export function acs3CanonicalRequest(parts: {
  method: string;
  path: string;
  query: ReadonlyArray<Pair>;
  headers: ReadonlyMap<string, string>;
  signedHeaders: ReadonlyArray<string>;
  payloadHash: string;
}): string {
  let canonicalHeaders = '';
  for (const name of parts.signedHeaders) canonicalHeaders += `${name}:${(parts.headers.get(name) ?? '').trim()}\n`;
  return [
    parts.method.toUpperCase(),
    parts.path === '' ? '/' : parts.path,
    canonicalQueryString(parts.query),
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

/** HMAC-SHA1 string to sign (SDK-TRAFFIC §4.1): `METHOD&%2F&` + RFC3986(canonical params). `Signature` excluded. */
export function rpcV1StringToSign(method: string, params: ReadonlyArray<Pair> | Record<string, string>): string {
  const pairs = (Array.isArray(params) ? params : Object.entries(params)) as ReadonlyArray<Pair>;
  const canonical = canonicalQueryString(pairs.filter(([k]) => k !== 'Signature'));
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function rpcV1Signature(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}

// ---------------------------------------------------------------------------------------------------------------
// Verification (step 2)

function sameInfo(a: SignedRequestInfo, b: SignedRequestInfo): boolean {
  if (
    a.scheme !== b.scheme ||
    a.accessKeyId !== b.accessKeyId ||
    a.action !== b.action ||
    a.version !== b.version ||
    a.nonce !== b.nonce ||
    a.securityToken !== b.securityToken ||
    a.timestamp?.getTime() !== b.timestamp?.getTime()
  ) {
    return false;
  }
  const ka = Object.keys(a.params);
  if (ka.length !== Object.keys(b.params).length) return false;
  for (const k of ka) if (!Object.hasOwn(b.params, k) || a.params[k] !== b.params[k]) return false;
  return true;
}

/**
 * The server-side canonical request (ACS3 only) and string to sign of a request, for diagnostics and tests.
 * No secret involved.
 */
export function describeSignature(
  req: IncomingSignedRequest,
):
  | { ok: true; scheme: SignatureScheme; canonicalRequest?: string; stringToSign: string }
  | { ok: false; problem: SignatureProblem } {
  const r = parseInternal(req);
  if (!r.ok) return r;
  const p = r.parsed;
  if (p.scheme === 'HMAC-SHA1') {
    return { ok: true, scheme: p.scheme, stringToSign: rpcV1StringToSign(p.method, p.signedPairs) };
  }
  const canonicalRequest = acs3Canonical(p, sha256Hex(req.rawBody));
  return { ok: true, scheme: p.scheme, canonicalRequest, stringToSign: acs3StringToSign(canonicalRequest) };
}

function acs3Canonical(p: ParsedAcs3, payloadHash: string): string {
  return acs3CanonicalRequest({
    method: p.method,
    path: p.path,
    query: p.queryPairs,
    headers: p.headers,
    signedHeaders: p.signedHeaders,
    payloadHash,
  });
}

/**
 * Step 2: verify against the secret (constant-time compare). `info` must be what parseSignedRequest returned for
 * this same request; the request is re-read (so a request changed after parsing cannot slip through) and must
 * still describe `info`. On mismatch the problem message carries the server's string to sign, like Alibaba.
 */
export function verifySignature(
  req: IncomingSignedRequest,
  info: SignedRequestInfo,
  secret: string,
): { ok: true } | { ok: false; problem: SignatureProblem } {
  const r = parseInternal(req);
  if (!r.ok) return r;
  const p = r.parsed;

  if (p.scheme === 'HMAC-SHA1') {
    const stringToSign = rpcV1StringToSign(p.method, p.signedPairs);
    const expected = rpcV1Signature(stringToSign, secret);
    const good = safeEqual(expected, p.providedSignature);
    if (!good || !sameInfo(info, p.info)) return fail(mismatch(p.scheme, stringToSign));
    return { ok: true };
  }

  const payloadHash = sha256Hex(req.rawBody);
  const stringToSign = acs3StringToSign(acs3Canonical(p, payloadHash));
  const expected = acs3Signature(stringToSign, secret);
  const good = safeEqual(expected, p.providedSignature);
  const bodyOk = p.contentSha256 === undefined || p.contentSha256 === payloadHash;
  if (!good || !bodyOk || !sameInfo(info, p.info)) return fail(mismatch(p.scheme, stringToSign));
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Freshness (step 3) and replay (step 4)

/** Freshness: timestamp within ±skewMs (default 15 min) of now; the boundary itself is accepted. */
export function checkFreshness(
  info: SignedRequestInfo,
  now: Date,
  skewMs: number = DEFAULT_SKEW_MS,
): { ok: true } | { ok: false; problem: SignatureProblem } {
  const ts = info.timestamp?.getTime();
  if (ts === undefined || Number.isNaN(ts)) {
    return fail(missingTimestamp(info.scheme === 'HMAC-SHA1' ? 'Timestamp' : 'x-acs-date'));
  }
  const diff = Math.abs(now.getTime() - ts);
  // Written as !(<=) so that an invalid `now` (NaN) fails closed.
  if (!(diff <= skewMs)) {
    return fail(problem('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'));
  }
  return { ok: true };
}

export function nonceUsedProblem(): SignatureProblem {
  return problem('SignatureNonceUsed', 'The request signature nonce has been used.');
}

/** Nonces longer than this are stored as their SHA-256 so that memory stays bounded by entry count. */
const MAX_STORED_NONCE_CHARS = 96;

/**
 * A bounded replay cache of nonces per AccessKeyId.
 *
 * `seen()` is O(1) amortised: a Map for look-up plus a ring buffer in insertion order for eviction. Entries are
 * remembered for `windowMs` after they were recorded. The default is twice the freshness skew (30 min): a request
 * stamped up to 15 min in the future stays fresh until 15 min past its stamp, i.e. up to 30 min after it arrived,
 * so its nonce must be remembered that long.
 *
 * At `maxEntries` the oldest entry is dropped even if still inside its window (counted in `forcedEvictions`): memory
 * stays bounded, at the price that a dropped nonce could be replayed while its timestamp is still fresh. Size the
 * cap above (peak requests per second × window seconds).
 */
export class NonceCache {
  readonly windowMs: number;
  readonly maxEntries: number;
  /** key → expiry (ms). */
  private readonly live = new Map<string, number>();
  private ringKeys: (string | undefined)[] = [];
  private ringExp: number[] = [];
  private head = 0;
  private count = 0;
  private forced = 0;

  constructor(windowMs: number = 2 * DEFAULT_SKEW_MS, maxEntries = 1_000_000) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be > 0');
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be an integer >= 1');
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
  }

  /** Entries currently remembered. */
  get size(): number {
    return this.live.size;
  }

  /** How many still-valid nonces were dropped because the cache was full. */
  get forcedEvictions(): number {
    return this.forced;
  }

  /** True if this (accessKeyId, nonce) was already recorded within the window (a replay); otherwise records it. */
  seen(accessKeyId: string, nonce: string, now: number): boolean {
    this.evictExpired(now);
    const key = NonceCache.key(accessKeyId, nonce);
    const exp = this.live.get(key);
    if (exp !== undefined) {
      if (exp > now) return true;
      this.live.delete(key); // expired but not yet reached by the ring (clock went backwards)
    }
    if (this.count === this.ringKeys.length && !this.grow()) this.dropHead(now);
    const expiresAt = now + this.windowMs;
    const tail = (this.head + this.count) % this.ringKeys.length;
    this.ringKeys[tail] = key;
    this.ringExp[tail] = expiresAt;
    this.count++;
    this.live.set(key, expiresAt);
    return false;
  }

  private static key(accessKeyId: string, nonce: string): string {
    const n = nonce.length > MAX_STORED_NONCE_CHARS ? `#${createHash('sha256').update(nonce).digest('base64')}` : nonce;
    return `${accessKeyId.length}:${accessKeyId}:${n}`;
  }

  private evictExpired(now: number): void {
    while (this.count > 0 && this.ringExp[this.head]! <= now) this.dropHead(now);
  }

  private dropHead(now: number): void {
    const key = this.ringKeys[this.head]!;
    const exp = this.ringExp[this.head]!;
    // The map may hold a newer record of the same key (re-recorded after expiry): only drop our own.
    if (this.live.get(key) === exp) {
      this.live.delete(key);
      if (exp > now) this.forced++;
    }
    this.ringKeys[this.head] = undefined;
    this.head = (this.head + 1) % this.ringKeys.length;
    this.count--;
  }

  /** Doubles the ring (up to maxEntries), unwrapping it. False when already at the cap. */
  private grow(): boolean {
    const cap = this.ringKeys.length;
    if (cap >= this.maxEntries) return false;
    const next = Math.min(this.maxEntries, Math.max(1024, cap * 2));
    const keys: (string | undefined)[] = new Array<string | undefined>(next);
    const exps: number[] = new Array<number>(next).fill(0);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % cap;
      keys[i] = this.ringKeys[j];
      exps[i] = this.ringExp[j]!;
    }
    this.ringKeys = keys;
    this.ringExp = exps;
    this.head = 0;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Signing side (tests, benchmarks, the CLI): produces raw requests exactly like the SDKs do.

export type ParamsInput = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface SignedRawRequest extends IncomingSignedRequest {
  headers: Record<string, string>;
  /** Path + `?` + rawQuery (or the bare path). */
  url: string;
  stringToSign: string;
  /** ACS3: lower-case hex; HMAC-SHA1: base64 (not percent-encoded). */
  signature: string;
  canonicalRequest?: string;
}

function timestampInput(t: Date | string | undefined): string {
  if (t === undefined) return formatTimestamp(new Date());
  return typeof t === 'string' ? t : formatTimestamp(t);
}

function toPairs(params: ParamsInput | undefined): Pair[] {
  if (params === undefined) return [];
  return (Array.isArray(params) ? [...params] : Object.entries(params)) as Pair[];
}

/**
 * Renders pairs as a query/form string. `strict` = RFC 3986 (pop-core); `querystring` = Node's
 * querystring.stringify, which the new SDK uses (leaves `* ( ) ! ' ~` raw; spaces `%20`).
 */
export function serializePairs(pairs: ReadonlyArray<Pair>, style: 'strict' | 'querystring' = 'strict'): string {
  const enc = style === 'strict' ? percentEncode : (s: string) => encodeURIComponent(s);
  return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

export interface SignAcs3Options {
  accessKeyId: string;
  secret: string;
  action: string;
  /** Default `2014-05-26`. */
  version?: string;
  /** Default POST. */
  method?: string;
  /** Host header including the port, e.g. `127.0.0.1:39989`. */
  host: string;
  /** Default `/`. */
  path?: string;
  query?: ParamsInput;
  /** Default `querystring` (what the new SDK sends). */
  queryStyle?: 'strict' | 'querystring';
  body?: Buffer | string;
  contentType?: string;
  /** Default now. */
  date?: Date | string;
  /** Default 64 random hex chars (like the new SDK). */
  nonce?: string;
  securityToken?: string;
  /** Extra headers: names starting with `x-acs-` (and host/content-type) are signed, others are not. */
  extraHeaders?: Record<string, string>;
  /** Send `x-acs-content-sha256` (default true, like the SDK). */
  contentSha256Header?: boolean;
}

/** Signs like `@alicloud/openapi-core` `doRequest` (ACS3-HMAC-SHA256). */
export function signAcs3(o: SignAcs3Options): SignedRawRequest {
  const method = (o.method ?? 'POST').toUpperCase();
  const path = o.path ?? '/';
  const body = o.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  const payloadHash = sha256Hex(body);
  const queryPairs = toPairs(o.query);

  const headers: Record<string, string> = { host: o.host };
  headers['x-acs-version'] = o.version ?? '2014-05-26';
  headers['x-acs-action'] = o.action;
  headers['x-acs-date'] = timestampInput(o.date);
  headers['x-acs-signature-nonce'] = o.nonce ?? randomBytes(32).toString('hex');
  headers['accept'] = 'application/json';
  if (o.contentSha256Header ?? true) headers['x-acs-content-sha256'] = payloadHash;
  if (o.securityToken !== undefined) {
    headers['x-acs-accesskey-id'] = o.accessKeyId;
    headers['x-acs-security-token'] = o.securityToken;
    headers['x-acs-credentials-provider'] = 'static_sts';
  } else {
    headers['x-acs-credentials-provider'] = 'static_ak';
  }
  if (o.contentType !== undefined) headers['content-type'] = o.contentType;
  for (const [k, v] of Object.entries(o.extraHeaders ?? {})) headers[k.toLowerCase()] = v;

  const headerMap = new Map(Object.entries(headers));
  const signedHeaders = [...headerMap.keys()]
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  const canonicalRequest = acs3CanonicalRequest({
    method,
    path,
    query: queryPairs,
    headers: headerMap,
    signedHeaders,
    payloadHash,
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  const signature = acs3Signature(stringToSign, o.secret);
  headers['authorization'] =
    `${ACS3_ALGORITHM} Credential=${o.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  headers['content-length'] = String(body.length);

  const rawQuery = serializePairs(queryPairs, o.queryStyle ?? 'querystring');
  return {
    method,
    path,
    rawQuery,
    url: rawQuery === '' ? path : `${path}?${rawQuery}`,
    headers,
    rawBody: body,
    canonicalRequest,
    stringToSign,
    signature,
  };
}

export interface SignRpcV1Options {
  accessKeyId: string;
  secret: string;
  action: string;
  /** Default `2014-05-26`. */
  version?: string;
  /** Default GET (pop-core). */
  method?: string;
  /** Business parameters (RegionId, KeyPairName, ...). */
  params?: ParamsInput;
  /** Where all parameters go: `query` (pop-core GET, new SDK v2) or a form `body` (pop-core POST). Default query. */
  paramsIn?: 'query' | 'body';
  /** Default `JSON`. */
  format?: string;
  /** Default now. */
  timestamp?: Date | string;
  /** Default 32 random hex chars (like pop-core). */
  nonce?: string;
  securityToken?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Override or drop (`undefined`) common parameters, e.g. to build malformed requests in tests. */
  overrides?: Record<string, string | undefined>;
}

/** Signs like `@alicloud/pop-core` RPCClient (HMAC-SHA1, SignatureVersion 1.0). */
export function signRpcV1(o: SignRpcV1Options): SignedRawRequest {
  const method = (o.method ?? 'GET').toUpperCase();
  const common: Record<string, string | undefined> = {
    AccessKeyId: o.accessKeyId,
    Action: o.action,
    Format: o.format ?? 'JSON',
    SignatureMethod: RPC_V1_SIGNATURE_METHOD,
    SignatureNonce: o.nonce ?? randomBytes(16).toString('hex'),
    SignatureVersion: RPC_V1_SIGNATURE_VERSION,
    Timestamp: timestampInput(o.timestamp),
    Version: o.version ?? '2014-05-26',
    ...(o.securityToken !== undefined ? { SecurityToken: o.securityToken } : {}),
    ...o.overrides,
  };
  const merged = new Map<string, string>();
  for (const [k, v] of Object.entries(common)) if (v !== undefined) merged.set(k, v);
  for (const [k, v] of toPairs(o.params)) merged.set(k, v);
  const pairs = [...merged.entries()].sort(comparePairs) as Pair[];

  const stringToSign = rpcV1StringToSign(method, pairs);
  const signature = rpcV1Signature(stringToSign, o.secret);
  const encoded = serializePairs([...pairs, ['Signature', signature]], 'strict');

  const headers: Record<string, string> = {
    host: o.host ?? '127.0.0.1',
    'x-acs-action': o.action,
    'x-acs-version': o.version ?? '2014-05-26',
  };
  const inBody = (o.paramsIn ?? 'query') === 'body';
  const rawBody = inBody ? Buffer.from(encoded, 'utf8') : Buffer.alloc(0);
  if (inBody) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (inBody || method === 'POST') headers['content-length'] = String(rawBody.length);
  const rawQuery = inBody ? '' : encoded;
  return {
    method,
    path: '/',
    rawQuery,
    url: rawQuery === '' ? '/' : `/?${rawQuery}`,
    headers,
    rawBody,
    stringToSign,
    signature,
  };
}
