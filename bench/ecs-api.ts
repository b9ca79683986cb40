/**
 * Benchmark of the ECS face: DescribeKeyPairs and DetachKeyPair (50 instances) through the official SDK and as
 * raw signed HTTP, beside a bare route of the same HTTP framework (GET /bare on a second Fastify instance built
 * with the same settings, measured in the same run), so each figure is also a ratio to what Fastify alone does
 * on this machine. AttachKeyPair of the same 50 is measured too: it rewrites every instance's key state on every
 * call, whereas a repeated DetachKeyPair finds the instances already detached and records "nothing changed".
 *
 *   node --import tsx bench/ecs-api.ts
 *   BENCH_SECONDS=2 node --import tsx bench/ecs-api.ts   # quicker, noisier
 *
 * keyfleet runs in this process (log level silent) on loopback; the load comes from a worker thread
 * (bench/ecs-load.ts). Every run is bounded in time and request count; the process stops by itself.
 */
import { Worker } from 'node:worker_threads';
import EcsSdk, * as $Ecs from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import { buildHttpServer } from '../src/api/http/server.js';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, LINUX_IMAGE, testEnv } from '../test/support/keyfleet.js';
import type { LoadJob, LoadResult } from './ecs-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCIES = [1, 16];
const FLEET = 50;
const REGION = 'cn-hangzhou';
const KEY = 'bench-key';

function runJob(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // A worker does not get the TypeScript loader from `--import tsx` on Node 20: it registers tsx itself first.
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

async function main() {
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_LOG_LEVEL: 'silent', KEYFLEET_PORT: '0' } });
  const config = loadConfig(env);
  const kf = await startKeyfleet(config);
  const bare = buildHttpServer({ bodyLimitBytes: config.bodyLimitBytes, logLevel: 'silent' });
  bare.get('/bare', async () => ({ ok: true }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;

  try {
    // The fleet, made through the ECS API itself: a key pair and 50 running instances, all bound.
    const sdk = new EcsSdk.default(
      new $OpenApi.Config({
        accessKeyId: ACCESS_KEY_ID,
        accessKeySecret: ACCESS_KEY_SECRET,
        endpoint: new URL(kf.url).host,
        protocol: 'http',
      }),
    );
    await sdk.createKeyPair(new $Ecs.CreateKeyPairRequest({ regionId: REGION, keyPairName: KEY }));
    const run = await sdk.runInstances(
      new $Ecs.RunInstancesRequest({ regionId: REGION, imageId: LINUX_IMAGE, amount: FLEET, instanceName: 'bench' }),
    );
    const ids = run.body?.instanceIdSets?.instanceIdSet ?? [];
    for (const deadline = Date.now() + 60_000; ; ) {
      const d = await sdk.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: REGION, status: 'Running', pageSize: 100 }),
      );
      if ((d.body?.totalCount ?? 0) >= FLEET) break;
      if (Date.now() > deadline) throw new Error('the fleet did not boot');
      await new Promise((r) => setTimeout(r, 50));
    }
    const batch = { RegionId: REGION, KeyPairName: KEY, InstanceIds: JSON.stringify(ids) };
    const attached = await sdk.attachKeyPair(
      new $Ecs.AttachKeyPairRequest({ regionId: REGION, keyPairName: KEY, instanceIds: batch.InstanceIds }),
    );
    if (attached.body?.failCount !== '0') throw new Error(`setup attach failed: ${JSON.stringify(attached.body)}`);

    const ms = SECONDS * 1000;
    const base = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, durationMs: ms };
    const scenarios: Array<Omit<LoadJob, 'concurrency' | keyof typeof base>> = [
      {
        label: 'bare Fastify route (GET /bare)',
        baseUrl: bareUrl,
        mode: 'bare',
        action: '',
        params: {},
        maxRequests: 150_000,
        warmupRequests: 500,
      },
      {
        label: 'DescribeKeyPairs, raw signed HTTP',
        baseUrl: kf.url,
        mode: 'raw',
        action: 'DescribeKeyPairs',
        params: { RegionId: REGION },
        maxRequests: 40_000,
        warmupRequests: 300,
      },
      {
        label: 'DescribeKeyPairs, SDK',
        baseUrl: kf.url,
        mode: 'sdk',
        action: 'DescribeKeyPairs',
        params: { RegionId: REGION },
        maxRequests: 40_000,
        warmupRequests: 300,
      },
      {
        label: 'DetachKeyPair 50, raw signed HTTP',
        baseUrl: kf.url,
        mode: 'raw',
        action: 'DetachKeyPair',
        params: batch,
        maxRequests: 3_000,
        warmupRequests: 20,
      },
      {
        label: 'DetachKeyPair 50, SDK',
        baseUrl: kf.url,
        mode: 'sdk',
        action: 'DetachKeyPair',
        params: batch,
        maxRequests: 3_000,
        warmupRequests: 20,
      },
      {
        label: 'AttachKeyPair 50, raw signed HTTP',
        baseUrl: kf.url,
        mode: 'raw',
        action: 'AttachKeyPair',
        params: batch,
        maxRequests: 3_000,
        warmupRequests: 20,
      },
    ];

    const results: LoadResult[] = [];
    for (const s of scenarios) {
      for (const concurrency of CONCURRENCIES) {
        const r = await runJob({ ...s, ...base, concurrency });
        if (r.errors > 0) throw new Error(`${r.label} (c=${concurrency}): ${r.errors} errors, first: ${r.firstError}`);
        results.push(r);
        process.stderr.write(`  ${r.label} c=${concurrency}: ${r.rps.toFixed(0)} req/s\n`);
      }
    }

    const bareAt = (c: number) => results.find((r) => r.label.startsWith('bare') && r.concurrency === c)!;
    const rows = results.map((r) => ({
      scenario: r.label,
      conc: r.concurrency,
      requests: r.requests,
      'req/s': Math.round(r.rps),
      'p50 ms': r.p50Ms.toFixed(2),
      'p99 ms': r.p99Ms.toFixed(2),
      'req/s vs bare': `${((r.rps / bareAt(r.concurrency).rps) * 100).toFixed(1)} %`,
      'p50 vs bare': `${(r.p50Ms / bareAt(r.concurrency).p50Ms).toFixed(1)}x`,
    }));
    console.log(
      `\nECS face on ${process.version}, ${SECONDS} s per run, ${FLEET} simulated instances, load from a worker thread\n`,
    );
    console.table(rows);
  } finally {
    await bare.close();
    await kf.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
