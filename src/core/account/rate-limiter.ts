/**
 * Rate limits per access key (or per user session): a token bucket refilled at `perSecond` with room for `burst`.
 *
 * Two places for the buckets, one behaviour:
 * - in this process's memory, when it is the store's only writer (the embedded store): no store round trip per
 *   request. Memory is bounded: idle buckets are dropped once the map grows past `maxKeys`.
 * - in the store (`shared`), when several processes share a PostgreSQL: one atomic upsert per request refills and
 *   takes from the key's bucket row, so the limit holds for the sum of every process's requests (issue 17).
 */
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import type { RequestGuardRepo } from './request-guard.js';

export interface RateLimiter {
  /** Takes one token for `key`; throws (rejects with) Auth.Throttled, with the seconds to wait, when none is left. */
  take(key: string): Promise<void>;
}

export function createRateLimiter(opts: {
  perSecond: number;
  burst: number;
  clock: Clock;
  maxKeys?: number;
  /** The store's buckets, shared by every process; absent: buckets in this process's memory. */
  shared?: Pick<RequestGuardRepo, 'takeToken'>;
}): RateLimiter {
  const { perSecond, burst, clock, shared } = opts;
  if (perSecond <= 0) return { take: async () => undefined };
  const throttled = (tokens: number) =>
    new CoreError(
      'Auth.Throttled',
      `Request was denied due to request throttling: at most ${perSecond} requests per second for this access key.`,
      { retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perSecond)) },
    );
  if (shared) {
    return {
      async take(key) {
        const r = await shared.takeToken(key, clock.now(), perSecond, burst);
        if (!r.ok) throw throttled(r.tokens);
      },
    };
  }
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxKeys = opts.maxKeys ?? 100_000;
  return {
    async take(key) {
      const now = clock.now().getTime();
      const b = buckets.get(key) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
      if (b.tokens < 1) {
        buckets.set(key, b);
        throw throttled(b.tokens);
      }
      b.tokens -= 1;
      buckets.delete(key);
      buckets.set(key, b);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
    },
  };
}
