/**
 * Benchmark (issue 16): the live rate on real OpenSSH hosts with the intent records and lease renewals, beside the
 * previous code path in the same run.
 *
 * "Previous" is keyfleet as it was before live truth under faults (BENCH_PREVIOUS, default 7c7e0c0: claims in
 * chunks, leases set once, no intent record, memory-only credentials), checked out in a temporary git worktree and
 * started in this process next to the current code, each with its own embedded store. Both manage the same hosts
 * (registered with each), one after the other: rounds alternate which goes first, and the median of the rounds is
 * kept per version, so the machine's drift over the run does not decide the ratio.
 *
 * Each round is a live bind of a key pair to every host, then a live unbind, through the native API and the durable
 * task runner (what a user runs). Two variants: verified by a fresh login (the default) and unverified (where
 * keyfleet's own overhead weighs most). Keys only (password login unmanaged): the job is the same for both versions.
 *
 *   node --import tsx bench/live-truth.ts                  # 200 hosts, 3 rounds
 *   BENCH_HOSTS=50 BENCH_ROUNDS=5 node --import tsx bench/live-truth.ts
 *
 * Needs root (the harness creates users and sshd processes) and git. Bounded: at most 254 hosts, every phase has a
 * deadline; everything it starts, it stops.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Api } from '../test/support/keyfleet.js';
import { sshKeygen } from '../test/support/openssh.js';
import { startProfile } from './support/cpu-profile.js';
import {
  allowRootLogin,
  prepareLoginHome,
  startHosts,
  stopHosts,
  type TestHost,
} from '../test/support/sshd-harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const HOSTS = Math.min(254, Number(process.env.BENCH_HOSTS ?? 200));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const PREVIOUS = process.env.BENCH_PREVIOUS ?? '7c7e0c0';
const REGION = 'cn-hangzhou';

interface Version {
  name: string;
  api: Api;
  close: () => Promise<void>;
  ids: string[];
}

type Start = (opts: { extra?: Record<string, string> }) => Promise<{ kf: { close(): Promise<void> }; api: Api }>;

async function startVersion(name: string, root: string): Promise<Version> {
  const mod = (await import(path.join(root, 'test/support/keyfleet.ts'))) as { startInProcess: Start };
  const started = await mod.startInProcess({
    extra: {
      KEYFLEET_SIM_SERVE: '0',
      KEYFLEET_TASK_CONCURRENCY: '64',
      // Every "host" shares this machine's 2 cores with keyfleet: a busy host answers late, not never.
      KEYFLEET_LIVE_TIMEOUT_MS: '60000',
    },
  });
  return { name, api: started.api, close: () => started.kf.close(), ids: [] };
}

async function phase(v: Version, action: 'bind' | 'unbind', verify: boolean): Promise<number> {
  const t0 = performance.now();
  const r = await v.api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
    action,
    keyPairName: 'bench-key',
    instanceIds: v.ids,
    mode: 'live',
    verify,
    wait: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  const failed = r.items.filter((i: { status: string }) => i.status !== 'succeeded');
  if (failed.length) throw new Error(`${v.name} ${action}: ${failed.length} failed, e.g. ${JSON.stringify(failed[0])}`);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (the harness creates users and sshd processes)');
  const worktree = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-previous-'));
  await run('git', ['-C', ROOT, 'worktree', 'add', '--detach', worktree, PREVIOUS]);
  await fs.symlink(path.join(ROOT, 'node_modules'), path.join(worktree, 'node_modules'));
  const mgmt = await sshKeygen('ed25519', 'bench-management');
  const managementKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
  const user = await sshKeygen('ed25519', 'bench-user-key');
  console.log(`starting ${HOSTS} sshd hosts…`);
  const hosts = await startHosts(HOSTS, { user: 'kft' });
  const versions: Version[] = [];
  try {
    for (const h of hosts) await allowRootLogin(h, mgmt.publicKey);
    for (const h of hosts) await prepareLoginHome(h);
    versions.push(await startVersion(`previous (${PREVIOUS})`, worktree));
    versions.push(await startVersion('current', ROOT));
    for (const v of versions) {
      await v.api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'bench-key', publicKey: user.publicKey });
      for (const h of hosts) v.ids.push(await register(v.api, h, managementKey));
    }
    const table: string[] = [];
    const variants = (process.env.BENCH_VARIANTS ?? 'verified,unverified').split(',');
    for (const verify of [true, false].filter((v) => variants.includes(v ? 'verified' : 'unverified'))) {
      const rates = new Map<string, number[]>(versions.map((v) => [v.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? versions : [...versions].reverse();
        for (const v of order) {
          // keyfleet's own CPU (both versions run in this process, one at a time), per host changed.
          const cpu0 = process.cpuUsage();
          const profiling = process.env.BENCH_PROFILE === '1' ? await startProfile() : null;
          const add = await phase(v, 'bind', verify);
          const remove = await phase(v, 'unbind', verify);
          const cpu = process.cpuUsage(cpu0);
          await profiling?.(
            `/tmp/live-truth-${v.name.split(' ')[0]}-${verify ? 'verified' : 'unverified'}-${r + 1}.cpuprofile`,
          );
          const rate = (2 * HOSTS) / (add + remove);
          rates.get(v.name)!.push(rate);
          const cpuPerHost = (cpu.user + cpu.system) / 1000 / (2 * HOSTS);
          console.log(
            `  ${verify ? 'verified' : 'unverified'} round ${r + 1}: ${v.name} ${rate.toFixed(1)} hosts/s, keyfleet CPU ${cpuPerHost.toFixed(2)} ms per host`,
          );
        }
      }
      const prev = median(rates.get(versions[0]!.name)!);
      const cur = median(rates.get(versions[1]!.name)!);
      table.push(
        `| ${HOSTS} | ${verify ? 'verified by login' : 'unverified'} | ${prev.toFixed(1)} | ${cur.toFixed(1)} | ${((cur / prev - 1) * 100).toFixed(1)}% |`,
      );
    }
    console.log(`\n${os.cpus().length} cores; node ${process.version}; median of ${ROUNDS} rounds (bind + unbind)`);
    console.log(
      '\n| hosts | live change | previous (hosts/s) | with intent records + lease renewals (hosts/s) | change |',
    );
    console.log('|---:|---|---:|---:|---:|');
    for (const row of table) console.log(row);
  } finally {
    for (const v of versions) await v.close().catch(() => undefined);
    await stopHosts(hosts);
    await run('git', ['-C', ROOT, 'worktree', 'remove', '--force', worktree]).catch(() => undefined);
    await fs.rm(worktree, { recursive: true, force: true });
  }
}

/** A harness host as an operator registers it: keyfleet logs in as root and manages the login user's keys only. */
async function register(api: Api, h: TestHost, managementKey: string): Promise<string> {
  const dir = path.dirname(h.home);
  const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
    name: h.name,
    address: h.address,
    port: h.port,
    loginUser: h.user,
    homeDir: h.home,
    managementUser: 'root',
    managementPrivateKey: managementKey,
    passwordLogin: 'unmanaged',
    dropInPath: path.join(h.configDir, '10-keyfleet.conf'),
    reloadCommand: `kill -HUP $(cat ${dir}/sshd.pid)`,
    validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
  });
  return r.instance.id as string;
}

await main();
