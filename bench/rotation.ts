/**
 * Benchmark (issue 19): the rate of a rotation in waves on real OpenSSH hosts, beside a plain live bind of the same
 * hosts in the same run.
 *
 * One keyfleet (in this process, embedded store) manages N Debian sshd hosts from the harness, key pair A bound
 * live on each. Each round is:
 *   - a plain live bind: one call binds B on every host (replacing A), proven by a fresh connection per host;
 *   - a rotation back to A: a 5% canary, then waves of N/4 with no pause and a threshold of 0 failures, each wave a
 *     live bind task of its own with the same proof per host (B refused, A accepted), from creation to completed.
 * The rotation does the same SSH work per host; what it adds is one task per wave, waiting for each wave to end
 * before the next starts (the tail of each wave: its slowest host), and the driver's rounds (every 200 ms here).
 * The median of the rounds is kept for each.
 *
 *   node --import tsx bench/rotation.ts                      # 200 hosts, 3 rounds
 *   BENCH_HOSTS=50 BENCH_ROUNDS=5 node --import tsx bench/rotation.ts
 *
 * Needs root (the harness creates users and sshd processes). Bounded: at most 254 hosts, every phase has a
 * deadline; everything it starts, it stops.
 */
import fs from 'node:fs/promises';
import { type Api, sleep, startInProcess } from '../test/support/keyfleet.js';
import { sshKeygen } from '../test/support/openssh.js';
import {
  allowRootLogin,
  prepareLoginHome,
  startHosts,
  stopHosts,
  type TestHost,
} from '../test/support/sshd-harness.js';

const HOSTS = Math.max(8, Math.min(254, Number(process.env.BENCH_HOSTS ?? 200)));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const REGION = 'cn-hangzhou';
const DEADLINE_MS = 20 * 60_000;

async function register(api: Api, h: TestHost, managementPrivateKey: string): Promise<string> {
  const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
    name: `bench-${h.name}`,
    address: h.address,
    port: h.port,
    loginUser: h.user,
    homeDir: h.home,
    managementUser: 'root',
    managementPrivateKey,
    passwordLogin: 'unmanaged',
  });
  return r.instance.id;
}

async function plainBind(api: Api, keyPairName: string, ids: string[]): Promise<number> {
  const started = performance.now();
  const r = await api.bind({ action: 'bind', keyPairName, instanceIds: ids, mode: 'live' });
  const seconds = (performance.now() - started) / 1000;
  if (r.task.succeeded !== ids.length) throw new Error(`plain bind: ${r.task.failed} failed`);
  return seconds;
}

async function rotation(
  api: Api,
  from: string,
  to: string,
  count: number,
): Promise<{ seconds: number; waves: number }> {
  const started = performance.now();
  const created = await api.call('POST', `/api/v1/regions/${REGION}/rotations`, {
    fromKeyPairName: from,
    toKeyPairName: to,
    mode: 'live',
    canaryPercent: 5,
    waveSize: Math.ceil(count / 4),
    pauseSeconds: 0,
    maxFailures: 0,
  });
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const d = await api.call('GET', `/api/v1/rotations/${created.rotation.id}`);
    if (d.rotation.status !== 'running') {
      if (d.rotation.status !== 'completed') throw new Error(`rotation ${d.rotation.status}: ${d.rotation.reason}`);
      return { seconds: (performance.now() - started) / 1000, waves: d.waves.length };
    }
    if (Date.now() > deadline) throw new Error('rotation did not finish in time');
    await sleep(50);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`starting ${HOSTS} sshd hosts…`);
  const hosts = await startHosts(HOSTS, { user: 'kfrb' });
  const { kf, api } = await startInProcess({
    extra: {
      KEYFLEET_SIM_SERVE: '0',
      KEYFLEET_TASK_CONCURRENCY: '64',
      KEYFLEET_LIVE_TIMEOUT_MS: '60000',
      KEYFLEET_ROTATION_POLL_MS: '200',
    },
  });
  try {
    const mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    for (const h of hosts) await allowRootLogin(h, mgmt.publicKey);
    for (const h of hosts) await prepareLoginHome(h);
    const managementKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
    for (const name of ['bench-a', 'bench-b'])
      await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, {
        name,
        publicKey: (await sshKeygen('ed25519', name)).publicKey,
      });
    const ids: string[] = [];
    for (const h of hosts) ids.push(await register(api, h, managementKey));
    await plainBind(api, 'bench-a', ids);

    const binds: number[] = [];
    const rotations: number[] = [];
    let waves = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const b = await plainBind(api, 'bench-b', ids);
      const rot = await rotation(api, 'bench-b', 'bench-a', ids.length);
      waves = rot.waves;
      binds.push(HOSTS / b);
      rotations.push(HOSTS / rot.seconds);
      console.log(
        `  round ${r + 1}: plain live bind ${(HOSTS / b).toFixed(1)} hosts/s (${b.toFixed(1)} s); rotation in ${rot.waves} waves ${(HOSTS / rot.seconds).toFixed(1)} hosts/s (${rot.seconds.toFixed(1)} s)`,
      );
    }
    const [bind, rot] = [median(binds), median(rotations)];
    console.log('\n| hosts | plain live bind (hosts/s) | rotation in waves (hosts/s) | waves | rotation / plain |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| ${HOSTS} | ${bind.toFixed(1)} | ${rot.toFixed(1)} | ${waves} | ${((rot / bind) * 100).toFixed(0)}% |`,
    );
  } finally {
    await kf.close();
    await stopHosts(hosts);
  }
}

await main();
