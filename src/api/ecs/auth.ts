/**
 * Who is calling: the request's signature (ACS3-HMAC-SHA256 or HMAC-SHA1, whichever the request carries;
 * SDK-TRAFFIC §2) checked against the access key's secret, then its freshness (15 minutes) and its nonce (once).
 *
 * Order matters for what a stranger can learn: an unknown AccessKeyId is said so (Alibaba does), but that a key
 * is disabled is only told to someone who signed correctly with it. The nonce is recorded only for requests that
 * verified and are fresh, so forged or stale requests cannot burn a legitimate client's nonces.
 *
 * Nonces are recorded in the store (core accounts.firstUse), so a nonce used once is refused by every keyfleet
 * process sharing it and after a restart, for as long as the request's timestamp is fresh (issue 17).
 */
import type { Caller } from '../../core/caller.js';
import type { Core } from '../../core/index.js';
import { EcsError, ecsErrors } from './errors.js';
import { checkFreshness, DEFAULT_SKEW_MS } from './signature/freshness.js';
import { type IncomingSignedRequest, parseSignedRequest, type SignedRequestInfo } from './signature/parse.js';
import { nonceUsedProblem, type SignatureProblem } from './signature/problems.js';
import { verifySignature } from './signature/verify.js';

export interface Authenticated {
  caller: Caller;
  info: SignedRequestInfo;
}

export interface AuthDeps {
  accounts: Pick<Core['accounts'], 'resolveAccessKey' | 'firstUse'>;
  now: () => Date;
}

/**
 * Parameters whose values must not be echoed back. SignatureDoesNotMatch quotes the server's string to sign
 * (API.md §1.4), which for HMAC-SHA1 holds every parameter: a ModifyInstanceAttribute password sent in the query
 * would come back in the error body, and from there reach client logs.
 */
const SECRET_PARAMETERS = ['Password'];

function redact(message: string): string {
  let out = message;
  for (const name of SECRET_PARAMETERS) {
    // In the string to sign a value is encoded twice: unreserved characters raw, everything else `%25XX`.
    out = out.replace(new RegExp(`(${name}%3D)(?:[A-Za-z0-9._~-]|%25[0-9A-F]{2})*`, 'g'), '$1***');
  }
  return out;
}

function refusal(p: SignatureProblem): EcsError {
  return new EcsError(p.httpStatus, p.code, redact(p.message));
}

export async function authenticate(
  deps: AuthDeps,
  req: IncomingSignedRequest,
  ctx: { sourceIp: string; requestId: string },
): Promise<Authenticated> {
  const parsed = parseSignedRequest(req);
  if (!parsed.ok) throw refusal(parsed.problem);
  const { info } = parsed;

  const key = await deps.accounts.resolveAccessKey(info.accessKeyId, {
    face: 'ecs',
    sourceIp: ctx.sourceIp,
    requestId: ctx.requestId,
  });
  if (!key) throw ecsErrors.accessKeyNotFound();
  const verified = verifySignature(req, info, key.secret);
  if (!verified.ok) throw refusal(verified.problem);
  if (!key.active) throw ecsErrors.accessKeyInactive();

  const now = deps.now();
  const fresh = checkFreshness(info, now);
  if (!fresh.ok) throw refusal(fresh.problem);
  // parseSignedRequest refuses a request without a nonce, so one is always there; checkFreshness one without a
  // timestamp. The nonce is remembered until the timestamp is no longer fresh: a later replay is refused as stale.
  const staleAt = new Date((info.timestamp?.getTime() ?? now.getTime()) + DEFAULT_SKEW_MS);
  if (!(await deps.accounts.firstUse('ecs-nonce', info.accessKeyId, info.nonce ?? '', staleAt))) {
    throw refusal(nonceUsedProblem());
  }
  return { caller: key.caller, info };
}
