/**
 * The client side of the ECS signatures, for tests and benchmarks: builds raw requests exactly as the official
 * SDKs put them on the wire (docs/api/alibaba-ecs.md, "What the SDKs send"), signed with the same canonical forms
 * the server verifies with.
 */
import { randomBytes } from 'node:crypto';
import { compareQueryPairs, type QueryPair, rfc3986Encode, sha256Hex } from '../../src/api/http/request-signing.js';
import {
  ACS3_ALGORITHM,
  acs3CanonicalRequest,
  acs3Signature,
  acs3StringToSign,
  formatTimestamp,
  RPC_V1_SIGNATURE_METHOD,
  RPC_V1_SIGNATURE_VERSION,
  rpcV1Signature,
  rpcV1StringToSign,
} from '../../src/api/ecs/signature/canonical.js';
import type { IncomingSignedRequest } from '../../src/api/ecs/signature/parse.js';

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

function toPairs(params: ParamsInput | undefined): QueryPair[] {
  if (params === undefined) return [];
  return (Array.isArray(params) ? [...params] : Object.entries(params)) as QueryPair[];
}

/**
 * Renders pairs as a query/form string. `strict` = RFC 3986 (pop-core); `querystring` = Node's
 * querystring.stringify, which the new SDK uses (leaves `* ( ) ! ' ~` raw; spaces `%20`).
 */
export function serializePairs(pairs: ReadonlyArray<QueryPair>, style: 'strict' | 'querystring' = 'strict'): string {
  const enc = style === 'strict' ? rfc3986Encode : (s: string) => encodeURIComponent(s);
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
  const pairs = [...merged.entries()].sort(compareQueryPairs) as QueryPair[];

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
