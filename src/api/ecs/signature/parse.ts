/**
 * Step 1 of ECS request verification: read who signed what, under which scheme, without the secret (so the caller
 * can look the secret up, then verify). Rejects ambiguous or incomplete requests here: a name given twice, a
 * signature that does not cover the host and every `x-acs-*` header, a missing nonce or timestamp.
 */
import { parseQueryPairs, type QueryPair } from '../../http/request-signing.js';
import {
  ACS3_ALGORITHM,
  parseTimestamp,
  RPC_V1_SIGNATURE_METHOD,
  RPC_V1_SIGNATURE_VERSION,
  type SignatureScheme,
} from './canonical.js';
import {
  incomplete,
  malformedTimestamp,
  missing,
  missingTimestamp,
  type Refusal,
  refuse,
  unsupported,
} from './problems.js';

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

export interface ParsedAcs3 {
  scheme: 'ACS3-HMAC-SHA256';
  info: SignedRequestInfo;
  method: string;
  path: string;
  queryPairs: QueryPair[];
  headers: Map<string, string>;
  /** Lower-case, sorted, de-duplicated. */
  signedHeaders: string[];
  providedSignature: string;
  contentSha256: string | undefined;
}

export interface ParsedRpcV1 {
  scheme: 'HMAC-SHA1';
  info: SignedRequestInfo;
  method: string;
  /** Query + form pairs except Signature. */
  signedPairs: QueryPair[];
  providedSignature: string;
}

export type Parsed = ParsedAcs3 | ParsedRpcV1;
type ParseResult = { ok: true; parsed: Parsed } | Refusal;

/** Everything the verifier needs, re-read from the request itself (verify.ts never trusts an earlier parse). */
export function parseRequest(req: IncomingSignedRequest): ParseResult {
  const method = req.method.toUpperCase();
  const rawQuery = req.rawQuery.startsWith('?') ? req.rawQuery.slice(1) : req.rawQuery;
  const headers = normalizeHeaders(req.headers);

  const queryPairs = parseQueryPairs(rawQuery);
  const formParsed = isFormContentType(headers.get('content-type')) && req.rawBody.length > 0;
  const formPairs = formParsed ? parseQueryPairs(req.rawBody.toString('utf8')) : [];

  // Merge. A name given twice (in the query, the body, or both) is ambiguous: refuse rather than pick one.
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let signature: string | undefined;
  const signedPairs: QueryPair[] = [];
  const seen = new Set<string>();
  for (const pair of queryPairs.concat(formPairs)) {
    const [name, value] = pair;
    if (seen.has(name)) return refuse(incomplete());
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
      return refuse(unsupported(`Specified signature algorithm "${authScheme}" is not supported.`));
    }
    return parseAcs3(method, req.path, authorization!, headers, queryPairs, params, formParsed);
  }
  if (signature !== undefined) {
    return parseRpcV1(method, signature, params, signedPairs);
  }
  if (authScheme !== undefined) {
    return refuse(unsupported(`Specified signature algorithm "${authScheme}" is not supported.`));
  }
  // Anonymous.
  if (params['AccessKeyId'] === undefined || params['AccessKeyId'] === '') return refuse(missing('AccessKeyId'));
  return refuse(incomplete());
}

function parseRpcV1(
  method: string,
  signature: string,
  params: Record<string, string>,
  signedPairs: QueryPair[],
): ParseResult {
  const accessKeyId = params['AccessKeyId'];
  if (accessKeyId === undefined || accessKeyId === '') return refuse(missing('AccessKeyId'));
  if (signature === '') return refuse(incomplete());

  const signatureMethod = params['SignatureMethod'];
  if (signatureMethod === undefined || signatureMethod === '') return refuse(missing('SignatureMethod'));
  if (signatureMethod !== RPC_V1_SIGNATURE_METHOD) {
    return refuse(unsupported(`Specified signature method "${signatureMethod}" is not supported.`));
  }
  const signatureVersion = params['SignatureVersion'];
  if (signatureVersion === undefined || signatureVersion === '') return refuse(missing('SignatureVersion'));
  if (signatureVersion !== RPC_V1_SIGNATURE_VERSION) {
    return refuse(unsupported(`Specified signature version "${signatureVersion}" is not supported.`));
  }

  const rawTimestamp = params['Timestamp'];
  if (rawTimestamp === undefined || rawTimestamp === '') return refuse(missingTimestamp('Timestamp'));
  const timestamp = parseTimestamp(rawTimestamp);
  if (timestamp === undefined) return refuse(malformedTimestamp('Timestamp'));

  const nonce = params['SignatureNonce'];
  if (nonce === undefined || nonce === '') return refuse(missing('SignatureNonce'));

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
  queryPairs: QueryPair[],
  params: Record<string, string>,
  formParsed: boolean,
): ParseResult {
  // ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<a;b;c>,Signature=<hex>
  const fields = new Map<string, string>();
  for (const item of authorization.slice(ACS3_ALGORITHM.length).split(',')) {
    const part = item.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return refuse(incomplete());
    const key = part.slice(0, eq).trim();
    if (fields.has(key)) return refuse(incomplete());
    fields.set(key, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersField = fields.get('SignedHeaders');
  const providedSignature = fields.get('Signature');
  if (credential === undefined || signedHeadersField === undefined || providedSignature === undefined) {
    return refuse(incomplete());
  }
  if (credential === '') return refuse(missing('AccessKeyId'));
  if (!/^[0-9a-fA-F]{64}$/.test(providedSignature)) return refuse(incomplete());

  const signedHeaders = signedHeadersField.split(';').map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === '' || h === 'authorization')) return refuse(incomplete());
  if (new Set(signedHeaders).size !== signedHeaders.length) return refuse(incomplete());
  signedHeaders.sort();
  const signedSet = new Set(signedHeaders);
  // Everything the server acts on must be covered: host (incl. port) and every x-acs-* header present
  // (action, version, date, nonce, security token, content hash, ...); content-type when it made us parse the body.
  if (!signedSet.has('host')) return refuse(incomplete());
  for (const name of headers.keys()) {
    if (name.startsWith('x-acs-') && !signedSet.has(name)) return refuse(incomplete());
  }
  if (formParsed && !signedSet.has('content-type')) return refuse(incomplete());

  const akHeader = headers.get('x-acs-accesskey-id');
  if (akHeader !== undefined && akHeader.trim() !== credential) return refuse(incomplete());

  const rawDate = headers.get('x-acs-date')?.trim();
  if (rawDate === undefined || rawDate === '') return refuse(missingTimestamp('x-acs-date'));
  const timestamp = parseTimestamp(rawDate);
  if (timestamp === undefined) return refuse(malformedTimestamp('x-acs-date'));

  const nonce = headers.get('x-acs-signature-nonce')?.trim();
  if (nonce === undefined || nonce === '') return refuse(missing('x-acs-signature-nonce'));

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
export function parseSignedRequest(req: IncomingSignedRequest): { ok: true; info: SignedRequestInfo } | Refusal {
  const r = parseRequest(req);
  return r.ok ? { ok: true, info: r.parsed.info } : r;
}
