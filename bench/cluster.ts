/**
 * Benchmark (issue 17): keyfleet as one process on the embedded store, one process on PostgreSQL behind HAProxy,
 * and three processes on PostgreSQL behind HAProxy, in the same run:
 *
 *  - an on-restart bind of BENCH_INSTANCES (10,000) Stopped machines, one native call: seconds from the submission
 *    to the task's end;
 *  - DescribeKeyPairs req/s (raw signed HTTP from a worker thread, 32 connections, BENCH_SECONDS each);
 *  - three processes only: the delay from a start or stop made through a process that does not serve the fleet
 *    to the machine's SSH port answering (or refusing), over BENCH_POWER machines.
 *
 *   node --import tsx bench/cluster.ts          # needs KEYFLEET_TEST_PG_URL (scripts/pg-throwaway.sh start)
 *
 * Bounded: loopback only, fixed counts and durations; every process it starts is stopped by PID at the end.
 */
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { Cluster } from '../test/support/cluster.js';
import { freshPostgres } from '../test/support/fresh-postgres.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  Api,
  LINUX_IMAGE,
  sleep,
  startChild,
  testEnv,
} from '../test/support/keyfleet.js';
import type { LoadJob, LoadResult } from './ecs-load.js';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const POWER = Number(process.env.BENCH_POWER ?? 20);
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

interface Row {
  setup: string;
  bindSeconds: number;
  itemsPerSecond: number;
  describeRps: number;
  describeP99: number;
}

async function measure(setup: string, url: string): Promise<Row> {
  const api = new Api(url);
  await api.signIn();
  await api.createKeyPair('bench-key', 'ed25519');
  const ids: string[] = [];
  for (let left = INSTANCES; left > 0; left -= 1000)
    ids.push(...(await api.run({ imageId: LINUX_IMAGE, amount: Math.min(1000, left), start: false })));
  for (;;) {
    const page = await api.call('GET', `/api/v1/regions/${REGION}/instances?status=Stopped&limit=1`);
    if (page.total >= ids.length) break;
    await sleep(500);
  }
  const started = performance.now();
  const r = await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
    action: 'bind',
    keyPairName: 'bench-key',
    instanceIds: ids,
    mode: 'on-restart',
  });
  for (;;) {
    const t = (await api.call('GET', `/api/v1/tasks/${r.task.id}`)).task;
    if (t.finishedAt) {
      if (t.succeeded !== ids.length) throw new Error(`${setup}: ${t.succeeded} of ${ids.length} succeeded`);
      break;
    }
    await sleep(100);
  }
  const bindSeconds = (performance.now() - started) / 1000;
  const load = await runJob({
    label: `${setup} DescribeKeyPairs`,
    baseUrl: url,
    mode: 'raw',
    action: 'DescribeKeyPairs',
    params: { RegionId: REGION },
    concurrency: 32,
    durationMs: SECONDS * 1000,
    maxRequests: 1_000_000,
    warmupRequests: 200,
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
  });
  if (load.errors > 0) throw new Error(`${setup}: ${load.errors} errors, first: ${load.firstError}`);
  const row = {
    setup,
    bindSeconds,
    itemsPerSecond: ids.length / bindSeconds,
    describeRps: load.rps,
    describeP99: load.p99Ms,
  };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

/** Milliseconds until address:port accepts (want 'open') or refuses (want 'closed') a TCP connection. */
async function delayUntil(address: string, port: number, want: 'open' | 'closed', since: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: address, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if ((want === 'open') === open) return performance.now() - since;
    if (Date.now() > deadline) throw new Error(`${address}:${port} never became ${want}`);
    await sleep(5);
  }
}

async function powerDelays(cluster: Cluster): Promise<{ start: number[]; stop: number[] }> {
  // Node 1 started first and serves the fleet; the changes are made through node 2.
  const api = new Api(cluster.node(2).url);
  await api.signIn();
  const ids = await api.run({ imageId: LINUX_IMAGE, amount: POWER, start: false });
  await api.waitStatus(ids, 'Stopped', 120_000);
  const start: number[] = [];
  const stop: number[] = [];
  for (const id of ids) {
    const i = await api.instance(id);
    let t = performance.now();
    await api.call('POST', `/api/v1/instances/${id}/start`);
    start.push(await delayUntil(i.address, i.sshPort, 'open', t));
    await api.waitStatus([id], 'Running');
    t = performance.now();
    await api.call('POST', `/api/v1/instances/${id}/stop`);
    stop.push(await delayUntil(i.address, i.sshPort, 'closed', t));
    await api.waitStatus([id], 'Stopped');
  }
  return { start, stop };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main(): Promise<void> {
  const rows: Row[] = [];
  let power: { start: number[]; stop: number[] } | null = null;

  {
    const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'warn' } });
    const child = await startChild(env);
    try {
      rows.push(await measure('1 process, embedded store', child.url));
    } finally {
      child.child.kill('SIGKILL');
    }
  }
  for (const processes of [1, 3]) {
    const db = await freshPostgres();
    const cluster = await Cluster.start({ processes, databaseUrl: db.url, extra: { KEYFLEET_TASK_SWEEP_MS: '1000' } });
    try {
      rows.push(
        await measure(`${processes} process${processes > 1 ? 'es' : ''}, PostgreSQL, HAProxy`, cluster.balancerUrl),
      );
      if (processes === 3) power = await powerDelays(cluster);
    } finally {
      await cluster.close();
      await db.drop();
    }
  }

  console.log(
    `\n| setup | on-restart bind of ${INSTANCES.toLocaleString('en')} | items/s | DescribeKeyPairs req/s (32 conns) | p99 ms |`,
  );
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.setup} | ${r.bindSeconds.toFixed(1)} s | ${r.itemsPerSecond.toFixed(0)} | ${r.describeRps.toFixed(0)} | ${r.describeP99.toFixed(1)} |`,
    );
  if (power) {
    console.log(
      `\nStart or stop through a process that does not serve the fleet, until the SSH port answers or refuses (${POWER} machines):`,
    );
    console.log(
      `start → open: median ${pct(power.start, 50).toFixed(0)} ms, p95 ${pct(power.start, 95).toFixed(0)} ms, max ${Math.max(...power.start).toFixed(0)} ms`,
    );
    console.log(
      `stop → refused: median ${pct(power.stop, 50).toFixed(0)} ms, p95 ${pct(power.stop, 95).toFixed(0)} ms, max ${Math.max(...power.stop).toFixed(0)} ms`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
