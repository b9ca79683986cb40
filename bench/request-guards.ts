/**
 * What the shared request guards of issue 17 cost: DescribeKeyPairs (raw signed ACS3, each request with its own
 * nonce) per second, on the embedded store and on PostgreSQL, in the same run:
 *   - before: nonces in this process's memory (the replay cache keyfleet had), rate limit off;
 *   - after: nonces recorded in the store (one insert-if-absent per request), rate limit off;
 *   - after + rate limit: KEYFLEET_RATE_LIMIT high enough never to refuse, so each request also takes a token (in
 *     memory on the embedded store; one upsert of the key's bucket row on PostgreSQL).
 * "before" is the same keyfleet with the face's firstUse replaced by the old per-process cache, so only the
 * guard differs between the rows.
 *
 *   node --import tsx bench/request-guards.ts
 *   KEYFLEET_TEST_PG_URL=postgres://… node --import tsx bench/request-guards.ts   # adds PostgreSQL rows
 *   BENCH_SECONDS=2 node --import tsx bench/request-guards.ts                     # quicker, noisier
 *
 * keyfleet runs in this process (log level silent) on loopback; the load comes from a worker thread
 * (bench/ecs-load.ts). Every run is bounded in time and request count.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { NonceCache } from '../src/api/ecs/signature/nonce-cache.js';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { freshPostgres } from '../test/support/fresh-postgres.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, testEnv } from '../test/support/keyfleet.js';
import type { Store } from '../src/core/ports.js';
import type { LoadJob, LoadResult } from './ecs-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
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
async function perCall(storeLabel: string, store: Store): Promise<void> {
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
  t = performance.now();
  for (let i = 0; i < calls; i++) await store.guards.takeToken('bench-bucket', new Date(), 1_000_000, 2_000_000);
  const takeToken = ((performance.now() - t) * 1000) / calls;
  perCallRows.push(`| ${storeLabel} | ${firstUse.toFixed(0)} | ${firstUse16.toFixed(0)} | ${takeToken.toFixed(0)} |`);
}
const perCallRows: string[] = [];

type Variant = { label: string; memoryNonces: boolean; rateLimit: number };
const VARIANTS: Variant[] = [
  { label: 'before: nonces in memory', memoryNonces: true, rateLimit: 0 },
  { label: 'after: nonces in the store', memoryNonces: false, rateLimit: 0 },
  { label: 'after + rate limit', memoryNonces: false, rateLimit: 1_000_000 },
];

async function measure(storeLabel: string, databaseUrl: string | undefined): Promise<void> {
  // One master key for the three starts on one PostgreSQL database (the first start seals the access key with it).
  const masterKey = randomBytes(32).toString('base64');
  for (const v of VARIANTS) {
    const env = await testEnv({
      bootMs: 0,
      ...(databaseUrl ? { databaseUrl } : {}),
      extra: {
        KEYFLEET_LOG_LEVEL: 'silent',
        KEYFLEET_PORT: '0',
        KEYFLEET_RATE_LIMIT: String(v.rateLimit),
        KEYFLEET_MASTER_KEY: masterKey,
      },
    });
    const kf = await startKeyfleet(loadConfig(env));
    try {
      if (v === VARIANTS[0]) await perCall(storeLabel, kf.store);
      if (v.memoryNonces) {
        const cache = new NonceCache();
        const accounts = kf.core.accounts as { firstUse: typeof kf.core.accounts.firstUse };
        accounts.firstUse = async (_kind, accessKeyId, value) => !cache.seen(accessKeyId, value, Date.now());
      }
      for (const concurrency of CONCURRENCIES) {
        const r = await runJob({
          label: v.label,
          baseUrl: kf.url,
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
        console.log(
          `| ${storeLabel} | ${v.label} | ${concurrency} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
        );
      }
    } finally {
      await kf.close();
    }
  }
}

async function main() {
  console.log(`DescribeKeyPairs, raw signed HTTP, ${SECONDS} s per row`);
  console.log('| store | guard | concurrency | req/s | p50 ms | p99 ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
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
  console.log('| store | firstUse µs | firstUse µs, 16 callers | takeToken µs |');
  console.log('| --- | --- | --- | --- |');
  for (const row of perCallRows) console.log(row);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
