/**
 * What the shared request guards of issue 17 cost: DescribeKeyPairs (raw signed ACS3, each request with its own
 * nonce) per second, on the embedded store and on PostgreSQL, in the same run:
 *   - before: nonces in this process's memory (the replay cache keyfleet had), rate limit off;
 *   - after: nonces recorded in the store (one insert-if-absent per request; batched per event-loop turn on the
 *     embedded store), rate limit off;
 *   - after + shared rate limit (PostgreSQL only): a second process on the same database with KEYFLEET_RATE_LIMIT
 *     high enough never to refuse, so each request also takes a token from its key's bucket row. (The embedded
 *     store has one process, whose buckets stay in memory as before.)
 * "before" is the same keyfleet with the face's firstUse replaced by the old per-process cache, so only the guard
 * differs. The variants run in interleaved rounds and the median is reported, so that a busy machine slows each
 * alike. Then the store calls alone, µs per call.
 *
 *   node --import tsx bench/request-guards.ts
 *   KEYFLEET_TEST_PG_URL=postgres://… node --import tsx bench/request-guards.ts   # adds PostgreSQL rows
 *   BENCH_SECONDS=5 BENCH_ROUNDS=5 node --import tsx bench/request-guards.ts      # longer, steadier
 *
 * keyfleet runs in this process (log level silent) on loopback; the load comes from a worker thread
 * (bench/ecs-load.ts). Every run is bounded in time and request count.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Worker } from 'node:worker_threads';
import { NonceCache } from '../src/api/ecs/signature/nonce-cache.js';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { freshPostgres } from '../test/support/fresh-postgres.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, testEnv } from '../test/support/keyfleet.js';
import type { OpenedStore } from '../src/store/open-store.js';
import type { LoadJob, LoadResult } from './ecs-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCIES = [1, 16];
const REGION = 'cn-hangzhou';

function runJob(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const entry = new URL('./ecs-load.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
    const w = new Worker(boot, { eval: true, workerData: job });
    w.once('message', (m: LoadResult | { error: string }) => {
      void w.terminate();
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

/** The store's side alone: sequential firstUse and takeToken calls, µs per call. */
async function perCall(storeLabel: string, store: OpenedStore): Promise<void> {
  const calls = 3000;
  let t = performance.now();
  const now = new Date();
  const later = new Date(now.getTime() + 60_000);
  for (let i = 0; i < calls; i++) await store.guards.firstUse(`bench-${randomBytes(8).toString('hex')}`, now, later);
  const firstUse = ((performance.now() - t) * 1000) / calls;
  // 16 callers at once, as concurrent requests are (the embedded store batches the calls of one turn).
  t = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = 0; i < calls / 16; i++)
        await store.guards.firstUse(`bench-${randomBytes(8).toString('hex')}`, now, later);
    }),
  );
  const firstUse16 = ((performance.now() - t) * 1000) / calls;
  // For comparison: the same record as one statement per call, 16 callers (what the embedded store does not batch).
  t = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = 0; i < calls / 16; i++)
        await sql`insert into request_replays (digest, expires_at) values (${`bench-${randomBytes(8).toString('hex')}`}, ${later.getTime()})
          on conflict (digest) do update set expires_at = excluded.expires_at where request_replays.expires_at <= ${now.getTime()}
          returning digest`.execute(store.db);
    }),
  );
  const single16 = ((performance.now() - t) * 1000) / calls;
  t = performance.now();
  for (let i = 0; i < calls; i++) await store.guards.takeToken('bench-bucket', new Date(), 1_000_000, 2_000_000);
  const takeToken = ((performance.now() - t) * 1000) / calls;
  perCallRows.push(
    `| ${storeLabel} | ${firstUse.toFixed(0)} | ${firstUse16.toFixed(0)} | ${single16.toFixed(0)} | ${takeToken.toFixed(0)} |`,
  );
}
const perCallRows: string[] = [];

/** Rounds of every variant, interleaved, so that a busy machine slows them alike; the median is reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function start(databaseUrl: string | undefined, masterKey: string, rateLimit: number) {
  const env = await testEnv({
    bootMs: 0,
    ...(databaseUrl ? { databaseUrl } : {}),
    extra: {
      KEYFLEET_LOG_LEVEL: 'silent',
      KEYFLEET_PORT: '0',
      KEYFLEET_RATE_LIMIT: String(rateLimit),
      KEYFLEET_MASTER_KEY: masterKey,
      KEYFLEET_SIM_SERVE: '0',
    },
  });
  return startKeyfleet(loadConfig(env));
}

async function measure(storeLabel: string, databaseUrl: string | undefined): Promise<void> {
  // One master key for every start on one PostgreSQL database (the first start seals the access key with it).
  const masterKey = randomBytes(32).toString('base64');
  const kf = await start(databaseUrl, masterKey, 0);
  // The embedded store admits one process: its rate limit is in memory either way (as before), so only
  // PostgreSQL gets a second process with the limit on, sharing the database.
  const limited = databaseUrl ? await start(databaseUrl, masterKey, 1_000_000) : null;
  try {
    await perCall(storeLabel, kf.store);
    const storeFirstUse = kf.core.accounts.firstUse;
    const cache = new NonceCache();
    const memoryFirstUse: typeof storeFirstUse = async (_kind, accessKeyId, value) =>
      !cache.seen(accessKeyId, value, Date.now());
    const accounts = kf.core.accounts as { firstUse: typeof storeFirstUse };
    const variants = [
      { label: 'before: nonces in memory', url: kf.url, use: memoryFirstUse },
      { label: 'after: nonces in the store', url: kf.url, use: storeFirstUse },
      ...(limited ? [{ label: 'after + shared rate limit', url: limited.url, use: storeFirstUse }] : []),
    ];
    const rps = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        accounts.firstUse = v.use;
        for (const concurrency of CONCURRENCIES) {
          const r = await runJob({
            label: v.label,
            baseUrl: v.url,
            mode: 'raw',
            action: 'DescribeKeyPairs',
            params: { RegionId: REGION },
            concurrency,
            durationMs: SECONDS * 1000,
            maxRequests: 40_000,
            warmupRequests: 300,
            accessKeyId: ACCESS_KEY_ID,
            accessKeySecret: ACCESS_KEY_SECRET,
          });
          if (r.errors > 0) throw new Error(`${v.label}: ${r.errors} errors, first: ${r.firstError}`);
          const key = `${v.label}|${concurrency}`;
          rps.set(key, [...(rps.get(key) ?? []), r.rps]);
        }
      }
    }
    for (const concurrency of CONCURRENCIES) {
      const before = median(rps.get(`${variants[0]!.label}|${concurrency}`)!);
      for (const v of variants) {
        const m = median(rps.get(`${v.label}|${concurrency}`)!);
        const change = v === variants[0] ? '' : `${((100 * (m - before)) / before).toFixed(1)}%`;
        console.log(`| ${storeLabel} | ${v.label} | ${concurrency} | ${Math.round(m)} | ${change} |`);
      }
    }
  } finally {
    await limited?.close();
    await kf.close();
  }
}

async function main() {
  console.log(`DescribeKeyPairs, raw signed HTTP: median req/s of ${ROUNDS} interleaved rounds of ${SECONDS} s`);
  console.log('| store | guard | concurrency | req/s | vs before |');
  console.log('| --- | --- | --- | --- | --- |');
  await measure('embedded (SQLite)', undefined);
  if (process.env.KEYFLEET_TEST_PG_URL) {
    const db = await freshPostgres();
    try {
      await measure('PostgreSQL, 1 process', db.url);
    } finally {
      await db.drop();
    }
  }
  console.log('\nThe store alone, one call after another');
  console.log(
    '| store | firstUse µs | firstUse µs, 16 callers | one statement per call µs, 16 callers | takeToken µs |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of perCallRows) console.log(row);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
