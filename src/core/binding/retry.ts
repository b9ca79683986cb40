/**
 * Retries of a live change whose host could not be reached. A change is idempotent (the plan is made again from
 * what the host has), so a second attempt after a dropped connection cannot apply anything twice. Backoff doubles
 * from `baseMs`, with jitter so a fleet that lost its network does not come back in lock-step.
 */
import type { Clock } from '../clock.js';
import { isCoreError } from '../errors.js';

/** Only these mean "nothing happened on the host, try again later"; every other failure is final for the item. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['Live.Unreachable', 'Live.Timeout']);

export interface RetryPolicy {
  /** Further attempts after the first (default 2). */
  retries: number;
  baseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseMs: 500 };

export interface RetryDeps {
  clock: Pick<Clock, 'sleep'>;
  /** A number in [0, 1) for the jitter. */
  random: () => number;
  onRetry?: (attempt: number, code: string, delayMs: number) => void;
}

export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, deps: RetryDeps): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= policy.retries || !isCoreError(err) || !TRANSIENT_CODES.has(err.code)) throw err;
      const delay = Math.round(policy.baseMs * 2 ** n * (0.75 + deps.random() * 0.5));
      deps.onRetry?.(n + 1, err.code, delay);
      await deps.clock.sleep(delay);
    }
  }
}
