/**
 * Rate limits per access key (or per user session): a token bucket refilled at `perSecond` with room for `burst`.
 * Memory is bounded: idle buckets are dropped once the map grows past `maxKeys`.
 */
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';

export interface RateLimiter {
  /** Takes one token for `key`; throws Auth.Throttled (with the seconds to wait) when none is left. */
  take(key: string): void;
}

export function createRateLimiter(opts: {
  perSecond: number;
  burst: number;
  clock: Clock;
  maxKeys?: number;
}): RateLimiter {
  if (opts.perSecond <= 0) return { take: () => undefined };
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxKeys = opts.maxKeys ?? 100_000;
  return {
    take(key) {
      const now = opts.clock.now().getTime();
      const b = buckets.get(key) ?? { tokens: opts.burst, at: now };
      b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond);
      b.at = now;
      if (b.tokens < 1) {
        buckets.set(key, b);
        const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / opts.perSecond));
        throw new CoreError(
          'Auth.Throttled',
          `Request was denied due to request throttling: at most ${opts.perSecond} requests per second for this access key.`,
          { retryAfterSeconds: retryAfter },
        );
      }
      b.tokens -= 1;
      buckets.delete(key);
      buckets.set(key, b);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
    },
  };
}
