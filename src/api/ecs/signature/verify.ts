/**
 * Step 2 of ECS request verification: recompute the signature with the access key's secret and compare it in
 * constant time. The request is parsed again here, so a request changed after step 1 cannot slip through, and it
 * must still describe the `info` that step 1 returned. On mismatch the problem carries the server's string to
 * sign, as Alibaba's does.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../../http/request-signing.js';
import {
  acs3CanonicalRequest,
  acs3Signature,
  acs3StringToSign,
  rpcV1Signature,
  rpcV1StringToSign,
  type SignatureScheme,
} from './canonical.js';
import { type IncomingSignedRequest, type ParsedAcs3, parseRequest, type SignedRequestInfo } from './parse.js';
import { mismatch, type Refusal, refuse } from './problems.js';

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
/** The request as re-read describes the same signer, operation, nonce, time and parameters as step 1's `info`. */
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
): { ok: true; scheme: SignatureScheme; canonicalRequest?: string; stringToSign: string } | Refusal {
  const r = parseRequest(req);
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

/** Step 2. `info` must be what parseSignedRequest returned for this same request. */
export function verifySignature(
  req: IncomingSignedRequest,
  info: SignedRequestInfo,
  secret: string,
): { ok: true } | Refusal {
  const r = parseRequest(req);
  if (!r.ok) return r;
  const p = r.parsed;

  if (p.scheme === 'HMAC-SHA1') {
    const stringToSign = rpcV1StringToSign(p.method, p.signedPairs);
    const expected = rpcV1Signature(stringToSign, secret);
    const good = safeEqual(expected, p.providedSignature);
    if (!good || !sameInfo(info, p.info)) return refuse(mismatch(p.scheme, stringToSign));
    return { ok: true };
  }

  const payloadHash = sha256Hex(req.rawBody);
  const stringToSign = acs3StringToSign(acs3Canonical(p, payloadHash));
  const expected = acs3Signature(stringToSign, secret);
  const good = safeEqual(expected, p.providedSignature);
  const bodyOk = p.contentSha256 === undefined || p.contentSha256 === payloadHash;
  if (!good || !bodyOk || !sameInfo(info, p.info)) return refuse(mismatch(p.scheme, stringToSign));
  return { ok: true };
}
