/**
 * Why a KPS request's signature was refused, in API Gateway's terms (docs/api/huawei-kps.md, "Authentication
 * errors"): one problem shape for every gateway refusal, with a machine-readable reason for logs and tests.
 */

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
  | 'signature_replayed'
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

export type CheckResult = { ok: true } | { ok: false; problem: SignatureProblem };

const IAM_AUTH_PREFIX = 'Incorrect IAM authentication information: ';
const MAX_ECHO = 80;

export function problem(
  reason: SignatureProblemReason,
  detail: string,
  extra?: { canonicalRequest?: string },
): SignatureProblem {
  const p: SignatureProblem = { code: 'APIGW.0301', message: IAM_AUTH_PREFIX + detail, httpStatus: 401, reason };
  if (extra?.canonicalRequest !== undefined) p.canonicalRequest = extra.canonicalRequest;
  return p;
}

/** Untrusted input echoed in a message: bounded and single-line. */
export function echo(value: string): string {
  const flat = value.replace(/[\r\n\t]/g, ' ');
  return flat.length > MAX_ECHO ? `${flat.slice(0, MAX_ECHO)}…` : flat;
}

/** For the HTTP layer when the AK of a well-formed request is not known (APIG: "Get secretKey failed"). */
export function unknownAccessKeyProblem(accessKeyId: string): SignatureProblem {
  return problem('unknown_access_key', `Get secretKey failed,ak:${echo(accessKeyId)},err:ak not exist`);
}

/**
 * A mutating AK/SK request whose signature was already accepted while its X-Sdk-Date is still fresh (15 min).
 * The scheme has no nonce, so the signature is what makes a request unique; keyfleet refuses the replay on every
 * process sharing its store (docs/api/huawei-kps.md, "Deviations"). A client that repeats a change signs it again
 * with a later X-Sdk-Date (its resolution is one second).
 */
export function replayedSignatureProblem(): SignatureProblem {
  return problem(
    'signature_replayed',
    'the signature of this request was already used: a request that changes something is accepted once; sign it again with a new X-Sdk-Date to repeat it',
  );
}
