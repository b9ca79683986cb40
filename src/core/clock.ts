/**
 * Time and identifiers are injected, so tests control them: the core never reads the system clock, sets a timer
 * or draws a random number itself. A fake clock (test/support/fake-clock.ts) lets a test move leases, backoff and
 * pacing forward without waiting.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms` of this clock's time, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called; never keeps the process alive by itself. */
  every(ms: number, fn: () => void): () => void;
}

export interface IdGen {
  /** A new identifier with the given prefix, e.g. `i-` + 20 lower-case characters. */
  next(prefix: string, length?: number): string;
  uuid(): string;
  /** A number in [0, 1): jitter for backoff. */
  random(): number;
}
