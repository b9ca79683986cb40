/**
 * An in-memory replay cache of nonces per AccessKeyId, for one process.
 *
 * The ECS face no longer uses it: step 4 of request verification records nonces in the store (auth.ts, core
 * accounts.firstUse), so that a replay is refused by every process sharing the store and after a restart
 * (issue 17). Kept as the baseline bench/request-guards.ts measures the store's replay records against.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SKEW_MS } from './freshness.js';

/** Nonces longer than this are stored as their SHA-256 so that memory stays bounded by entry count. */
const MAX_STORED_NONCE_CHARS = 96;

/**
 * A bounded replay cache of nonces per AccessKeyId.
 *
 * `seen()` is O(1) amortised: a Map for look-up plus a ring buffer in insertion order for eviction. Entries are
 * remembered for `windowMs` after they were recorded. The default is twice the freshness skew (30 min): a request
 * stamped up to 15 min in the future stays fresh until 15 min past its stamp, i.e. up to 30 min after it arrived,
 * so its nonce must be remembered that long.
 *
 * At `maxEntries` the oldest entry is dropped even if still inside its window (counted in `forcedEvictions`): memory
 * stays bounded, at the price that a dropped nonce could be replayed while its timestamp is still fresh. Size the
 * cap above (peak requests per second × window seconds).
 */
export class NonceCache {
  readonly windowMs: number;
  readonly maxEntries: number;
  /** key → expiry (ms). */
  private readonly live = new Map<string, number>();
  private ringKeys: (string | undefined)[] = [];
  private ringExp: number[] = [];
  private head = 0;
  private count = 0;
  private forced = 0;

  constructor(windowMs: number = 2 * DEFAULT_SKEW_MS, maxEntries = 1_000_000) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be > 0');
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be an integer >= 1');
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
  }

  /** Entries currently remembered. */
  get size(): number {
    return this.live.size;
  }

  /** How many still-valid nonces were dropped because the cache was full. */
  get forcedEvictions(): number {
    return this.forced;
  }

  /** True if this (accessKeyId, nonce) was already recorded within the window (a replay); otherwise records it. */
  seen(accessKeyId: string, nonce: string, now: number): boolean {
    this.evictExpired(now);
    const key = NonceCache.key(accessKeyId, nonce);
    const exp = this.live.get(key);
    if (exp !== undefined) {
      if (exp > now) return true;
      this.live.delete(key); // expired but not yet reached by the ring (clock went backwards)
    }
    if (this.count === this.ringKeys.length && !this.grow()) this.dropHead(now);
    const expiresAt = now + this.windowMs;
    const tail = (this.head + this.count) % this.ringKeys.length;
    this.ringKeys[tail] = key;
    this.ringExp[tail] = expiresAt;
    this.count++;
    this.live.set(key, expiresAt);
    return false;
  }

  private static key(accessKeyId: string, nonce: string): string {
    const n = nonce.length > MAX_STORED_NONCE_CHARS ? `#${createHash('sha256').update(nonce).digest('base64')}` : nonce;
    return `${accessKeyId.length}:${accessKeyId}:${n}`;
  }

  private evictExpired(now: number): void {
    while (this.count > 0 && this.ringExp[this.head]! <= now) this.dropHead(now);
  }

  private dropHead(now: number): void {
    const key = this.ringKeys[this.head]!;
    const exp = this.ringExp[this.head]!;
    // The map may hold a newer record of the same key (re-recorded after expiry): only drop our own.
    if (this.live.get(key) === exp) {
      this.live.delete(key);
      if (exp > now) this.forced++;
    }
    this.ringKeys[this.head] = undefined;
    this.head = (this.head + 1) % this.ringKeys.length;
    this.count--;
  }

  /** Doubles the ring (up to maxEntries), unwrapping it. False when already at the cap. */
  private grow(): boolean {
    const cap = this.ringKeys.length;
    if (cap >= this.maxEntries) return false;
    const next = Math.min(this.maxEntries, Math.max(1024, cap * 2));
    const keys: (string | undefined)[] = new Array<string | undefined>(next);
    const exps: number[] = new Array<number>(next).fill(0);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % cap;
      keys[i] = this.ringKeys[j];
      exps[i] = this.ringExp[j]!;
    }
    this.ringKeys = keys;
    this.ringExp = exps;
    this.head = 0;
    return true;
  }
}
