/**
 * What metrics cost a request (issue 21: under 3%): ECS DescribeKeyPairs as raw signed HTTP against two keyfleets
 * started side by side in the same run, one with metrics (the default) and one with KEYFLEET_METRICS=0, in rounds
 * that alternate (on/off, then off/on, …) so drift of the machine falls on both. Each keyfleet is a child process
 * (`keyfleet serve`, as users run it) so one's process metrics cannot touch the other; the load comes from a worker
 * thread of this process (bench/ecs-load.ts). While the metrics keyfleet is loaded it is scraped every
 * BENCH_SCRAPE_S seconds (default 5: three times as often as Prometheus' usual 15 s; 0: never), so the scrape's cost is in the
 * figure too.
 *
 * Two figures per round: requests per second, and the server's CPU time per request (user + system of the child
 * from /proc, which other work on a busy machine moves less than it moves throughput).
 *
 *   node --import tsx bench/metrics-cost.ts
 *   BENCH_SECONDS=3 BENCH_ROUNDS=4 node --import tsx bench/metrics-cost.ts   # quicker, noisier
 *
 * Loopback only; every round is bounded in time and request count; the children are ended by PID at the end.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, Api, startChild, testEnv } from '../test/support/keyfleet.js';
import type { LoadJob, LoadResult } from './ecs-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const KEY_PAIRS = 20;
const REGION = 'cn-hangzhou';
const SCRAPE_MS = Number(process.env.BENCH_SCRAPE_S ?? 5) * 1000;
const TOKEN = 'bench-metrics-token-0001';

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

/** User + system CPU seconds of a process (Linux /proc; clock ticks of 100 Hz). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Variant {
  name: 'metrics on' | 'metrics off';
  url: string;
  child: ChildProcess;
  rounds: Array<{ rps: number; cpuUsPerRequest: number; p50Ms: number; p99Ms: number; errors: number }>;
}

async function start(name: Variant['name'], extra: Record<string, string>): Promise<Variant> {
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_LOG_LEVEL: 'silent', ...extra } });
  const run = await startChild(env);
  const api = new Api(run.url);
  await api.signIn();
  for (let i = 0; i < KEY_PAIRS; i++) await api.createKeyPair(`bench-${i}`, 'ed25519');
  return { name, url: run.url, child: run.child, rounds: [] };
}

async function round(v: Variant): Promise<void> {
  const pid = v.child.pid!;
  // Scrapes every SCRAPE_MS while the round runs (BENCH_SCRAPE_S=0: none); the wait ends with the round.
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stop = r));
  const scrapes = (async () => {
    if (v.name !== 'metrics on' || SCRAPE_MS <= 0) return;
    for (let done = false; !done; ) {
      const res = await fetch(`${v.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
      await res.text();
      let timer: NodeJS.Timeout | undefined;
      done = await Promise.race([
        stopped.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), SCRAPE_MS))),
      ]);
      clearTimeout(timer);
    }
  })();
  const cpuBefore = cpuSeconds(pid);
  const r = await runJob({
    label: v.name,
    baseUrl: v.url,
    mode: 'raw',
    action: 'DescribeKeyPairs',
    params: { RegionId: REGION },
    concurrency: CONCURRENCY,
    durationMs: SECONDS * 1000,
    maxRequests: 400_000,
    warmupRequests: 300,
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
  });
  const cpu = cpuSeconds(pid) - cpuBefore;
  stop();
  await scrapes;
  v.rounds.push({
    rps: r.rps,
    cpuUsPerRequest: (cpu * 1e6) / (r.requests + 300),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
  });
  if (r.errors > 0) throw new Error(`${v.name}: ${r.errors} errors, first: ${r.firstError}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main() {
  // Which of two processes was started first moved the figures more than metrics did (a 2x swing either way on a
  // loaded machine), so the run is split in two halves: a pair started metrics-first, then a fresh pair started
  // metrics-last. Each round's two variants come from the same pair.
  const on: Variant = { name: 'metrics on', url: '', child: null as unknown as ChildProcess, rounds: [] };
  const off: Variant = { name: 'metrics off', url: '', child: null as unknown as ChildProcess, rounds: [] };
  const children: ChildProcess[] = [];
  const use = (target: Variant, started: Variant) => {
    target.url = started.url;
    target.child = started.child;
    children.push(started.child);
  };
  try {
    for (let half = 0; half < 2; half++) {
      const startOn = async () => use(on, await start('metrics on', { KEYFLEET_METRICS_TOKEN: TOKEN }));
      const startOff = async () => use(off, await start('metrics off', { KEYFLEET_METRICS: '0' }));
      if (half === 0) {
        await startOn();
        await startOff();
      } else {
        await startOff();
        await startOn();
      }
      for (let i = half * Math.ceil(ROUNDS / 2); i < (half === 0 ? Math.ceil(ROUNDS / 2) : ROUNDS); i++) {
        // ABBA: each pair of rounds starts with the other variant, so a trend over the run does not favour one.
        const order = i % 2 === 0 ? [on, off] : [off, on];
        for (const v of order) await round(v);
        const last = (v: Variant) => v.rounds.at(-1)!;
        console.log(
          `round ${i + 1}/${ROUNDS} (${half === 0 ? 'metrics process started first' : 'metrics process started last'}): on ${last(on).rps.toFixed(0)} req/s (${last(on).cpuUsPerRequest.toFixed(0)} µs CPU/req), off ${last(off).rps.toFixed(0)} req/s (${last(off).cpuUsPerRequest.toFixed(0)} µs CPU/req)`,
        );
      }
      await stopAll(children);
    }
    const rpsOn = median(on.rounds.map((r) => r.rps));
    const rpsOff = median(off.rounds.map((r) => r.rps));
    const cpuOn = median(on.rounds.map((r) => r.cpuUsPerRequest));
    const cpuOff = median(off.rounds.map((r) => r.cpuUsPerRequest));
    const pairs = on.rounds.map((r, i) => 1 - r.rps / off.rounds[i]!.rps);
    console.log(
      `\nDescribeKeyPairs, raw signed, concurrency ${CONCURRENCY}, ${ROUNDS} rounds of ${SECONDS} s per variant (medians):`,
    );
    console.log('| variant | req/s | server CPU per request | p50 | p99 |');
    console.log('|---|---|---|---|---|');
    for (const v of [off, on]) {
      console.log(
        `| ${v.name} | ${median(v.rounds.map((r) => r.rps)).toFixed(0)} | ${median(v.rounds.map((r) => r.cpuUsPerRequest)).toFixed(0)} µs | ${median(v.rounds.map((r) => r.p50Ms)).toFixed(2)} ms | ${median(v.rounds.map((r) => r.p99Ms)).toFixed(2)} ms |`,
      );
    }
    console.log(
      `\ncost of metrics: ${((1 - rpsOn / rpsOff) * 100).toFixed(1)}% req/s (per round: ${pairs.map((p) => `${(p * 100).toFixed(1)}%`).join(', ')}), ${((cpuOn / cpuOff - 1) * 100).toFixed(1)}% CPU per request`,
    );
  } finally {
    await stopAll(children);
  }
}

/** Ends the children this run started, by PID, and waits for them. */
async function stopAll(children: ChildProcess[]): Promise<void> {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill('SIGTERM');
  await Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
