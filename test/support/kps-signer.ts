/**
 * The client side of the KPS signatures, for tests, benchmarks and smoke scripts: signs a request the way the
 * official Huawei SDKs do (docs/api/huawei-kps.md, "What the SDKs send"), with the canonical forms the server
 * verifies with.
 */
import { compareCodeUnits, sha256Hex } from '../../src/api/http/request-signing.js';
import {
  buildCanonicalRequest,
  buildStringToSign,
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  formatSdkDate,
  hmacSha256,
  parseSdkDate,
  SDK_HMAC_SHA256,
} from '../../src/api/kps/signature/canonical.js';
import type { IncomingSignedRequest } from '../../src/api/kps/signature/parse.js';

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

  const rawBody =
    input.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(input.body)
        ? input.body
        : Buffer.from(input.body, 'utf8');
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
