/**
 * The fuzz runs' seeded randomness: one 32-bit seed decides every request of a run, so a failure is replayed by
 * running the same file with KEYFLEET_FUZZ_SEED set to the seed it printed.
 */

/**
 * The suite's seed: the same requests on every CI run, so a failure is a change in the product and not the luck of
 * a new seed. KEYFLEET_FUZZ_SEED=<n> replays a run; KEYFLEET_FUZZ_SEED=random explores with a fresh seed.
 */
const SUITE_SEED = 20261207;

/** The seed of this run (see SUITE_SEED), printed so that any run can be replayed. */
export function fuzzSeed(face: string): number {
  const given = process.env.KEYFLEET_FUZZ_SEED;
  const seed =
    given === 'random'
      ? (Math.random() * 2 ** 32) >>> 0
      : given !== undefined && given !== ''
        ? Number(given) >>> 0
        : SUITE_SEED;
  console.log(`# fuzz ${face}: seed ${seed} (replay with KEYFLEET_FUZZ_SEED=${seed})`);
  return seed;
}

/** How many mutated requests each face gets (KEYFLEET_FUZZ_REQUESTS, default 10,000). */
export function fuzzRequests(): number {
  const n = Number(process.env.KEYFLEET_FUZZ_REQUESTS ?? 10_000);
  return Number.isInteger(n) && n > 0 ? n : 10_000;
}

/** mulberry32: small, fast, good enough to pick mutations; the same seed gives the same sequence everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }
}
