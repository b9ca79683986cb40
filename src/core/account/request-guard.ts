/**
 * Request guards that hold across every keyfleet process sharing one store (issue 17): a signed request that may
 * be used once is refused everywhere once it was seen (ECS signature nonces; KPS mutating requests, whose AK/SK
 * scheme has no nonce), and rate limits count the requests of all processes.
 *
 * The state lives in the store, not in a process: a replay is refused by another process and after a restart.
 * Rows are kept only while the request could still be fresh, then swept.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';

/** The store's side (src/store/repos/request-guard-repo.ts). Every method is one atomic statement. */
export interface RequestGuardRepo {
  /**
   * Records `digest` until `expiresAt` unless it is recorded already and not expired at `now`: true if this call
   * recorded it (first use), false if it was there (a replay). Of two concurrent calls, exactly one gets true.
   */
  firstUse(digest: string, now: Date, expiresAt: Date): Promise<boolean>;
  /** Deletes the records that expired before `now`; returns how many. */
  sweepUses(now: Date): Promise<number>;
  /**
   * Takes one token from `bucket` (a token bucket refilled at `perSecond`, holding at most `burst`, created full):
   * `ok` false when none was left; `tokens` is what remains after the call.
   */
  takeToken(bucket: string, now: Date, perSecond: number, burst: number): Promise<{ ok: boolean; tokens: number }>;
  /** Deletes the buckets untouched since `idleBefore` (they would be full again anyway). */
  sweepBuckets(idleBefore: Date): Promise<number>;
}

/** What may be used once, and by whom. */
export type OnceKind = 'ecs-nonce' | 'kps-signature';

/** How often a process deletes expired rows. Any process may; the statement is idempotent. */
const SWEEP_MS = 60_000;

/** A use record outlives the freshness boundary by this much, so a request fresh at the boundary is still caught. */
const MARGIN_MS = 1_000;

/**
 * Buckets untouched this long are deleted: a bucket refills in burst/perSecond seconds (2 s with keyfleet's burst
 * of twice the rate), so one idle for minutes is recreated full, which is what refilling would have given.
 */
const IDLE_BUCKET_MS = 10 * 60_000;

export function createRequestGuard(deps: {
  repo: RequestGuardRepo;
  clock: Clock;
  /** ports.ts's Logger, narrowed: ports.ts imports this file's repository type. */
  logger: { warn(msg: string, fields?: Record<string, unknown>): void };
}) {
  const { repo, clock, logger } = deps;
  return {
    /**
     * True the first time (kind, accessKeyId, value) is presented, false on any later presentation, on any
     * process, until `staleAt`: the moment the request's own timestamp leaves the freshness window (after that
     * the freshness check refuses it anyway). The value is stored as a digest: bounded size, nothing secret kept.
     */
    async firstUse(kind: OnceKind, accessKeyId: string, value: string, staleAt: Date): Promise<boolean> {
      const digest = createHash('sha256')
        .update(`${kind}\n${accessKeyId.length}:${accessKeyId}\n${value}`)
        .digest('base64url');
      const now = clock.now();
      const expiresAt = new Date(Math.max(staleAt.getTime(), now.getTime()) + MARGIN_MS);
      return repo.firstUse(digest, now, expiresAt);
    },
    /** Starts the periodic sweep of expired use records and idle buckets; returns its stop function. */
    startSweeper(): () => void {
      return clock.every(SWEEP_MS, () => {
        const now = clock.now();
        void Promise.all([repo.sweepUses(now), repo.sweepBuckets(new Date(now.getTime() - IDLE_BUCKET_MS))]).catch(
          (err: unknown) => logger.warn('request guard sweep failed', { error: String(err) }),
        );
      });
    },
  };
}

export type RequestGuard = ReturnType<typeof createRequestGuard>;
