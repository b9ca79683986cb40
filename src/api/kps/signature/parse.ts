/**
 * Reading an `SDK-HMAC-SHA256` request without the secret: `Authorization: SDK-HMAC-SHA256 Access=<AK>,
 * SignedHeaders=<h1;h2…>, Signature=<hex>` and `X-Sdk-Date`. SignedHeaders come from the request, never from a fixed
 * set (the Node SDK signs `host` and `content-type`, the Go SDK signs neither but signs `user-agent`); `x-sdk-date`
 * must be among them (docs/api/huawei-kps.md, "Signatures").
 */
import { parseSdkDate, type RequestHeaders, SDK_HMAC_SHA256 } from './canonical.js';
import { echo, problem, type SignatureProblem } from './problems.js';

/** What the HTTP layer hands over: everything exactly as received. */
export interface IncomingSignedRequest {
  method: string;
  /** The path as on the wire (no decoding), without the query string. */
  rawPath: string;
  /** The query string as on the wire, without the leading '?'; '' when there is none. */
  rawQuery: string;
  /** Lower-case header names (as node's IncomingMessage.headers). */
  headers: RequestHeaders;
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

export type ParseResult = { ok: true; info: SignedRequestInfo } | { ok: false; problem: SignatureProblem };

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const ACCESS_KEY = /^[\x21-\x7e]+$/;
export const SIGNATURE_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Parse `Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2…>, Signature=<hex>` and `X-Sdk-Date`.
 * Checks form only (no secret needed): the AK can then be looked up and passed to verifySignature (verify.ts).
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
      problem: problem(
        'unsupported_algorithm',
        `unsupported authorization scheme '${echo(algorithm)}', expected ${SDK_HMAC_SHA256}`,
      ),
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
      problem: problem(
        'malformed_sdk_date',
        `x-sdk-date '${echo(dateHeader)}' is not a valid YYYYMMDDTHHMMSSZ UTC time`,
      ),
    };
  }
  if (!seen.has('x-sdk-date')) {
    return { ok: false, problem: problem('sdk_date_not_signed', 'x-sdk-date must be one of the SignedHeaders') };
  }
  for (const h of signedHeaders) {
    if (req.headers[h] === undefined) {
      return {
        ok: false,
        problem: problem('signed_header_missing', `signed header '${echo(h)}' is not present in the request`),
      };
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
