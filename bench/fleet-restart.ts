/**
 * Benchmark: batch bind (on restart) to N simulated instances, then restart them all; every instance serves real
 * SSH from this one process. Prints instances/s for each phase, peak RSS, and how many SSH endpoints one process
 * serves, and proves a sample with the real OpenSSH client.
 *
 *   node --import tsx bench/fleet-restart.ts            # N = 10000
 *   BENCH_INSTANCES=2000 node --import tsx bench/fleet-restart.ts
 *
 * Loopback only (127.16.0.0/12 and up); bounded by N; stops by itself.
 */
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { sshRun, writePrivateKey } from '../test/support/openssh.js';
import { Api, LINUX_IMAGE, testEnv } from '../test/support/keyfleet.js';

const N = Number(process.env.BENCH_INSTANCES ?? 10_000);
const CONCURRENCY = 32;

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function waitAll(api: Api, predicate: string, total: number): Promise<void> {
  for (;;) {
    const page = await api.call('GET', `/api/v1/regions/cn-hangzhou/instances?limit=1&${predicate}`);
    if (page.total >= total) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_TASK_CHUNK: '500' } });
  const kf = await startKeyfleet(loadConfig(env));
  const api = new Api(kf.url);
  await api.signIn();
  const rows: Array<[string, string]> = [];
  const baseRss = rssMb();
  try {
    const { privateKey } = await api.createKeyPair('bench-key', 'ed25519');

    let t = performance.now();
    const ids: string[] = [];
    for (let made = 0; made < N; made += 1000) {
      ids.push(...(await api.run({ imageId: LINUX_IMAGE, amount: Math.min(1000, N - made), name: `bench${made}` })));
    }
    await waitAll(api, 'status=Running', N);
    const created = (performance.now() - t) / 1000;
    rows.push([
      'create + boot (provision disk, host key, start SSH)',
      `${(N / created).toFixed(0)} instances/s (${created.toFixed(1)} s)`,
    ]);

    t = performance.now();
    const bind = await api.call('POST', '/api/v1/regions/cn-hangzhou/bindings', {
      action: 'bind',
      keyPairName: 'bench-key',
      instanceIds: ids,
      wait: true,
    });
    const bound = (performance.now() - t) / 1000;
    if (bind.task.succeeded !== N) throw new Error(`bind: ${bind.task.succeeded} of ${N} succeeded`);
    rows.push([
      'batch bind on restart (one call, durable task)',
      `${(N / bound).toFixed(0)} instances/s (${bound.toFixed(2)} s)`,
    ]);

    t = performance.now();
    await inParallel(ids, CONCURRENCY, async (id) => {
      await api.call('POST', `/api/v1/instances/${id}/restart`);
    });
    await waitAll(api, 'status=Running&pendingRestart=false', N);
    const restarted = (performance.now() - t) / 1000;
    rows.push([
      'restart all, key applied at boot (cloud-init)',
      `${(N / restarted).toFixed(0)} instances/s (${restarted.toFixed(1)} s)`,
    ]);

    const keyFile = await writePrivateKey(privateKey);
    const sample = Array.from({ length: 10 }, (_, n) => ids[Math.floor((n * ids.length) / 10)]!);
    let ok = 0;
    for (const id of sample) {
      const inst = await api.instance(id);
      const r = await sshRun({
        host: inst.address,
        port: inst.sshPort,
        user: 'root',
        identityFile: keyFile,
        command: 'echo ok',
      });
      if (r.code === 0 && r.stdout.trim() === 'ok') ok++;
    }
    rows.push(['OpenSSH logins with the bound key (sample)', `${ok}/${sample.length}`]);
    const peak = Math.round(process.resourceUsage().maxRSS / 1024);
    rows.push(['SSH endpoints served by this process', `${N} (one listener per instance on its own 127.x.y.z)`]);
    rows.push([
      'peak RSS',
      `${peak} MB (${baseRss} MB before the fleet; ≈${(((peak - baseRss) * 1024) / N).toFixed(0)} KB per instance)`,
    ]);
    let fdLimit = 'unknown';
    try {
      fdLimit = execFileSync('sh', ['-c', 'ulimit -n']).toString().trim();
    } catch {
      /* not essential */
    }
    rows.push([
      'limit on endpoints per process',
      `open files (ulimit -n = ${fdLimit}): one per listener plus one per live connection`,
    ]);
  } finally {
    await kf.close();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(
    `\nkeyfleet fleet benchmark: ${N} simulated instances, ${new Date().toISOString()}, node ${process.version}`,
  );
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

await main();
