/**
 * Verifying an `SDK-HMAC-SHA256` request against the access key's secret, and its freshness. Pure: no I/O, no clock
 * (callers pass `now`). Rules, so that the Node, Go and Python signers all pass (docs/api/huawei-kps.md):
 * - PayloadHash: hex sha256 of the raw body bytes, or the `x-sdk-content-sha256` header value when present
 *   (`UNSIGNED-PAYLOAD`, or a hex hash which must then match the body).
 * - Every canonical-URI candidate of the path is tried, all of them (timing depends only on the path's shape).
 * - Signatures are compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../../http/request-signing.js';
import {
  buildCanonicalRequest,
  buildStringToSign,
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  type CanonicalUriMode,
  canonicalUriCandidates,
  formatSdkDate,
  hmacSha256,
  UNSIGNED_PAYLOAD,
} from './canonical.js';
import { type IncomingSignedRequest, SIGNATURE_HEX, type SignedRequestInfo } from './parse.js';
import { type CheckResult, echo, problem, type SignatureProblem } from './problems.js';

/** APIG rejects an `X-Sdk-Date` more than 15 minutes away from server time. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60_000;

export type VerifyResult =
  | {
      ok: true;
      /** false when the client sent `x-sdk-content-sha256: UNSIGNED-PAYLOAD`: the body is not covered by the signature. */
      payloadSigned: boolean;
    }
  | { ok: false; problem: SignatureProblem };

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
        problem: problem(
          'payload_hash_mismatch',
          'verify aksk signature fail, x-sdk-content-sha256 does not match the request body',
        ),
      };
    }
    return { ok: true, hash: value, signed: true };
  }
  return {
    ok: false,
    problem: problem(
      'malformed_content_sha256',
      `x-sdk-content-sha256 must be ${UNSIGNED_PAYLOAD} or a hex SHA-256, got '${echo(value)}'`,
    ),
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
export function computeCanonicalRequest(
  req: IncomingSignedRequest,
  signedHeaders: readonly string[],
  uriMode: CanonicalUriMode = 'raw',
): string {
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
    return {
      ok: false,
      problem: problem(
        'malformed_authorization',
        'malformed Authorization header: Signature must be 64 hexadecimal characters',
      ),
    };
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
