/**
 * Sign-in throttling (issue 18): failed sign-ins are counted per user name (whether or not that user exists, so the
 * answer tells nothing about existence), per access key id and per source address. Past a few free failures, each
 * further attempt must wait a delay that doubles with every failure, up to a cap; an attempt made sooner is refused
 * with Auth.Throttled (the face's 429 and Retry-After) before any password is checked, the right one included.
 *
 * An attempt counts as a failure from the moment it starts, and is given back when it succeeds: guesses sent side
 * by side cannot all slip in before the first one's failure is recorded. A success clears its user's (or key's)
 * count but only gives its one attempt back to its source address, so signing in to one's own account does not
 * reset the count of guesses made from that address against others.
 *
 * The per-user cap is short on purpose: anyone can make a user's sign-ins wait by guessing at its name, so the wait
 * such a stranger can impose stays small, while the source that guesses waits far longer. Time is the injected
 * clock's. Memory is bounded: the least recently touched entries go first once `maxKeys` is passed.
 */
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';

export interface ThrottleRule {
  /** Failures allowed before any waiting. */
  freeFailures: number;
  /** The wait after the first failure past the free ones; doubled for each further failure. */
  baseDelayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
}

export interface SignInThrottleOptions {
  /** Per user name (account and user) and per access key id. */
  perUser: ThrottleRule;
  /** Per source address (many users may share one address, so it allows more). */
  perSource: ThrottleRule;
  /** Failures older than this (since the last one) are forgotten. */
  forgetAfterMs: number;
  maxKeys?: number;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottleOptions = {
  perUser: { freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 },
  perSource: { freeFailures: 20, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000 },
  forgetAfterMs: 15 * 60_000,
};

/** Who is signing in, as the throttle keys it. */
export interface SignInSubject {
  /** `account/user` for a password sign-in, the key id for an access-key sign-in. */
  principal: string;
  sourceIp: string;
}

export interface SignInAttempt {
  /** The attempt succeeded: its principal's failures are forgotten and its source gets the attempt back. */
  succeeded(): void;
}

export interface SignInThrottle {
  /** Starts an attempt, counted as a failure until `succeeded`; throws Auth.Throttled when it must wait. */
  begin(subject: SignInSubject): SignInAttempt;
}

interface Entry {
  failures: number;
  lastAt: number;
}

export function createSignInThrottle(
  clock: Clock,
  opts: SignInThrottleOptions = DEFAULT_SIGN_IN_THROTTLE,
): SignInThrottle {
  const entries = new Map<string, Entry>();
  const maxKeys = opts.maxKeys ?? 100_000;

  function current(key: string, now: number): Entry | undefined {
    const e = entries.get(key);
    if (e && now - e.lastAt > opts.forgetAfterMs) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Milliseconds still to wait before the next attempt under `rule`; 0 when it may go. */
  function waitOf(e: Entry | undefined, rule: ThrottleRule, now: number): number {
    if (!e || e.failures < rule.freeFailures) return 0;
    const exponent = Math.min(30, e.failures - rule.freeFailures);
    const delay = Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** exponent);
    return Math.max(0, e.lastAt + delay - now);
  }

  function count(key: string, e: Entry | undefined, now: number): void {
    const next = { failures: (e?.failures ?? 0) + 1, lastAt: now };
    entries.delete(key);
    entries.set(key, next);
    if (entries.size > maxKeys) entries.delete(entries.keys().next().value!);
  }

  return {
    begin(subject) {
      const now = clock.now().getTime();
      // Bounded keys: a long name is cut rather than kept whole, and the source address is what the face saw.
      const userKey = `p:${subject.principal.slice(0, 300)}`;
      const sourceKey = `ip:${subject.sourceIp.slice(0, 64)}`;
      const user = current(userKey, now);
      const source = current(sourceKey, now);
      const wait = Math.max(waitOf(user, opts.perUser, now), waitOf(source, opts.perSource, now));
      if (wait > 0) {
        const seconds = Math.max(1, Math.ceil(wait / 1000));
        throw new CoreError(
          'Auth.Throttled',
          `Too many failed sign-ins; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
          { retryAfterSeconds: seconds },
        );
      }
      count(userKey, user, now);
      count(sourceKey, source, now);
      let settled = false;
      return {
        succeeded() {
          if (settled) return;
          settled = true;
          entries.delete(userKey);
          const s = entries.get(sourceKey);
          if (s) s.failures = Math.max(0, s.failures - 1);
        },
      };
    },
  };
}
