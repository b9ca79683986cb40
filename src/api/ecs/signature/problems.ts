/**
 * Why an ECS request's signature was refused: Alibaba's codes, texts and HTTP statuses for the gateway checks
 * (docs/api/alibaba-ecs.md, "Signature errors"). Every refusal of parse, verify, freshness and nonce is one of these.
 */
import type { SignatureScheme } from './canonical.js';

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

export type Refusal = { ok: false; problem: SignatureProblem };

export function refuse(p: SignatureProblem): Refusal {
  return { ok: false, problem: p };
}

const INCOMPLETE_SIGNATURE_MESSAGE = 'The request signature does not conform to Alibaba Cloud standards.';

function problem(code: SignatureProblem['code'], message: string, httpStatus = 400): SignatureProblem {
  return { code, message, httpStatus };
}

export function incomplete(): SignatureProblem {
  return problem('IncompleteSignature', INCOMPLETE_SIGNATURE_MESSAGE);
}

export function missing(name: string): SignatureProblem {
  return problem(
    'MissingParameter',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

export function missingTimestamp(name: string): SignatureProblem {
  return problem(
    'IllegalTimestamp',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

export function malformedTimestamp(name: string): SignatureProblem {
  return problem(
    'IllegalTimestamp',
    `The input parameter "${name}" is not well formatted; expected UTC yyyy-MM-ddTHH:mm:ssZ.`,
  );
}

export function expired(): SignatureProblem {
  return problem('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
}

export function unsupported(message: string): SignatureProblem {
  return problem('UnsupportedSignatureMethod', message);
}

/** Like Alibaba, the refusal shows the server's string to sign, so a client can see where it differs. */
export function mismatch(scheme: SignatureScheme, stringToSign: string): SignatureProblem {
  return problem(
    'SignatureDoesNotMatch',
    scheme === 'HMAC-SHA1'
      ? `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`
      : `Specified signature does not match our calculation. server StringToSign is [${stringToSign}]`,
  );
}

export function nonceUsedProblem(): SignatureProblem {
  return problem('SignatureNonceUsed', 'The request signature nonce has been used.');
}
