/** Step 3 of ECS request verification: the signed timestamp must be close to the server's clock. */
import type { SignedRequestInfo } from './parse.js';
import { expired, missingTimestamp, type Refusal, refuse } from './problems.js';

/** Alibaba rejects timestamps more than 15 minutes away from its clock. */
export const DEFAULT_SKEW_MS = 15 * 60 * 1000;

/** Freshness: timestamp within ±skewMs (default 15 min) of now; the boundary itself is accepted. */
export function checkFreshness(
  info: SignedRequestInfo,
  now: Date,
  skewMs: number = DEFAULT_SKEW_MS,
): { ok: true } | Refusal {
  const ts = info.timestamp?.getTime();
  if (ts === undefined || Number.isNaN(ts)) {
    return refuse(missingTimestamp(info.scheme === 'HMAC-SHA1' ? 'Timestamp' : 'x-acs-date'));
  }
  const diff = Math.abs(now.getTime() - ts);
  // Written as !(<=) so that an invalid `now` (NaN) fails closed.
  if (!(diff <= skewMs)) return refuse(expired());
  return { ok: true };
}
