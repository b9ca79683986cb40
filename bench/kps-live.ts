/**
 * Benchmark: live bind then live unbind on N Running simulated instances through the KPS API, with the official
 * Huawei core SDK (AK/SK). Each server is one AssociateKeypair (root password) or DisassociateKeypair (the private
 * key) call, i.e. one durable task; the tasks are polled with ListKeypairTask until they end. Every task logs in
 * over SSH, edits keyfleet's block of authorized_keys and the sshd drop-in, and proves the result with a fresh
 * login. Prints instances/s and p50/p99 of the per-instance task time (created → finished, from the task records)
 * for each phase, the task concurrency, and proves a sample with the real OpenSSH client.
 *
 *   node --import tsx bench/kps-live.ts              # N = 200
 *   BENCH_INSTANCES=50 node --import tsx bench/kps-live.ts
 *   BENCH_WINDOW=32 node --import tsx bench/kps-live.ts   # the client keeps at most 32 tasks in flight
 *
 * Loopback only (127.16.0.0/12); bounded by N and a 10-minute deadline; stops by itself.
 */
import os from 'node:os';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { sshRun, writePrivateKey } from '../test/support/openssh.js';
import { Api, LINUX_IMAGE, tempDir, testEnv } from '../test/support/keyfleet.js';
import { type Kps, kpsWithAkSk } from '../test/kps/support/huawei.js';

const N = Number(process.env.BENCH_INSTANCES ?? 200);
const ROOT_PASSWORD = 'Bench-Root-0001';
const DEADLINE_MS = 10 * 60_000;
/** Client side: how many KPS calls are in flight at once while submitting and reading results. */
const CLIENT_CONCURRENCY = 50;
/** Most tasks the client keeps in flight (default: all N at once, as a script looping over associate would). */
const WINDOW = Number(process.env.BENCH_WINDOW ?? N);
const POLL_MS = 100;

interface PhaseResult {
  wallSeconds: number;
  durationsMs: number[];
  /** Most tasks running at the same moment (from the task records' start and finish times). */
  peakRunning: number;
  failed: number;
}

async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const n = next++;
        out[n] = await fn(items[n]!);
      }
    }),
  );
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function peakOverlap(intervals: Array<[number, number]>): number {
  const edges = intervals
    .flatMap(
      ([a, b]) =>
        [
          [a, 1],
          [b, -1],
        ] as Array<[number, number]>,
    )
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

/**
 * Submits one KPS call per server — all at once, or keeping at most `window` tasks in flight — follows them with
 * ListRunningTask (one call per round), then reads each task's final state (ListKeypairTask) and its timings.
 */
async function phase(
  kps: Kps,
  api: Api,
  ids: string[],
  window: number,
  submit: (id: string) => Promise<{ task_id: string }>,
): Promise<PhaseResult> {
  const t0 = performance.now();
  const waiting = [...ids];
  const inFlight = new Set<string>();
  const taskIds: string[] = [];
  while (waiting.length > 0 || inFlight.size > 0) {
    const room = Math.min(window - inFlight.size, waiting.length);
    if (room > 0) {
      for (const { task_id } of await inParallel(waiting.splice(0, room), CLIENT_CONCURRENCY, submit)) {
        inFlight.add(task_id);
        taskIds.push(task_id);
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    const running = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/running-tasks',
      queryParams: { limit: 1000, offset: 0 },
    });
    const still = new Set(running.tasks.map((t: { task_id: string }) => t.task_id));
    for (const id of inFlight) if (!still.has(id)) inFlight.delete(id);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const finals = await inParallel(
    taskIds,
    CLIENT_CONCURRENCY,
    (task_id) =>
      kps.call({ method: 'GET', url: '/v3/{project_id}/tasks/{task_id}', pathParams: { task_id } }) as Promise<{
        task_status: string;
      }>,
  );
  const failed = finals.filter((f) => !f.task_status.startsWith('SUCCESS_')).length;
  // The task records (the native API's view of the same tasks) hold the created/started/finished times.
  const records = await inParallel(
    taskIds,
    CLIENT_CONCURRENCY,
    async (id) => (await api.call('GET', `/api/v1/tasks/${id}`)).task,
  );
  const durationsMs = records.map((t: any) => Date.parse(t.finishedAt) - Date.parse(t.createdAt)).sort((a, b) => a - b);
  const peakRunning = peakOverlap(records.map((t: any) => [Date.parse(t.startedAt), Date.parse(t.finishedAt)]));
  return { wallSeconds, durationsMs, peakRunning, failed };
}

async function loginSample(
  api: Api,
  ids: string[],
  auth: { identityFile?: string; password?: string },
): Promise<number> {
  const sample = Array.from({ length: 5 }, (_, n) => ids[Math.floor((n * ids.length) / 5)]!);
  let ok = 0;
  for (const id of sample) {
    const inst = await api.instance(id);
    const r = await sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo ok', ...auth });
    if (r.code === 0 && r.stdout.trim() === 'ok') ok++;
  }
  return ok;
}

async function main() {
  // The SDK writes ~/.huaweicloud/application_id when a client is built (SDK-TRAFFIC.md §6.6): keep it out of the
  // real home directory.
  process.env.HOME = tempDir('kf-kps-bench-home-');
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_LOG_LEVEL: 'silent' } });
  const config = loadConfig(env);
  const kf = await startKeyfleet(config);
  const api = new Api(kf.url);
  await api.signIn();
  const kps = kpsWithAkSk(kf.url);
  const rows: Array<[string, string]> = [];
  try {
    const ids = await api.run({ imageId: LINUX_IMAGE, amount: N, name: 'kps-bench', password: ROOT_PASSWORD });
    await api.waitStatus(ids, 'Running', 120_000);
    const key = (
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name: 'kps-bench-key' } } })
    ).keypair;

    const bind = await phase(kps, api, ids, WINDOW, (id) =>
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/associate',
        data: { keypair_name: 'kps-bench-key', server: { id, auth: { type: 'password', key: ROOT_PASSWORD } } },
      }),
    );
    const keyFile = await writePrivateKey(key.private_key);
    const keyLogins = await loginSample(api, ids, { identityFile: keyFile });

    const unbind = await phase(kps, api, ids, WINDOW, (id) =>
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/disassociate',
        data: { server: { id, auth: { type: 'keypair', key: key.private_key } } },
      }),
    );
    const refused = 5 - (await loginSample(api, ids, { identityFile: keyFile }));
    const passwordBack = await loginSample(api, ids, { password: ROOT_PASSWORD });

    for (const [name, r] of [
      ['live bind (associate, root password)', bind],
      ['live unbind (disassociate, private key)', unbind],
    ] as const) {
      rows.push([
        name,
        `${(N / r.wallSeconds).toFixed(1)} instances/s (${r.wallSeconds.toFixed(2)} s wall, ${N - r.failed}/${N} succeeded)`,
      ]);
      rows.push([
        '  per-instance task time',
        `p50 ${percentile(r.durationsMs, 50)} ms, p99 ${percentile(r.durationsMs, 99)} ms, max ${r.durationsMs.at(-1)} ms`,
      ]);
      rows.push(['  tasks running at once (peak)', String(r.peakRunning)]);
    }
    rows.push([
      'concurrency',
      `${Math.min(WINDOW, N)} KPS tasks submitted at once (one per server); KEYFLEET_TASK_CONCURRENCY=${config.tasks.concurrency} SSH changes in flight in the process, the rest queue (queueing is part of the task time)`,
    ]);
    rows.push(['OpenSSH check after bind', `${keyLogins}/5 key logins`]);
    rows.push([
      'OpenSSH check after unbind',
      `${refused}/5 key logins refused, ${passwordBack}/5 password logins back`,
    ]);
  } finally {
    await kf.close();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(
    `\nkeyfleet KPS live-binding benchmark: ${N} Running simulated instances, ${new Date().toISOString()}, node ${process.version}, ${os.availableParallelism()} CPUs`,
  );
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

const deadline = setTimeout(() => {
  console.error(`kps-live: not finished after ${DEADLINE_MS / 60_000} minutes; giving up`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();
await main();
