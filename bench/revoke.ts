/**
 * Benchmark (issue 19): revoke-everywhere on N Debian sshd hosts beside a plain live unbind of the same hosts, in
 * the same run and the same keyfleet.
 *
 * Each round binds a key pair live to every host, then either unbinds it with a plain live unbind (one task, the
 * proof of each host by a fresh connection) or revokes it everywhere: the plan (every host read over SSH: the
 * managed user's and root's authorized_keys), then apply (the same live unbind task, then per host a publickey
 * query as the user and as root) until the report is finished. Rounds alternate which goes first; the median of
 * the rounds is kept, so the machine's drift over the run does not decide the ratio.
 *
 *   node --import tsx bench/revoke.ts                   # 200 hosts, 3 rounds
 *   BENCH_HOSTS=50 BENCH_ROUNDS=5 node --import tsx bench/revoke.ts
 *
 * Needs root (the harness creates users and sshd processes). Bounded: at most 254 hosts, every wait has a deadline;
 * everything it starts, it stops.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Api, startInProcess } from '../test/support/keyfleet.js';
import { sshKeygen } from '../test/support/openssh.js';
import {
  allowRootLogin,
  prepareLoginHome,
  startHosts,
  stopHosts,
  type TestHost,
} from '../test/support/sshd-harness.js';

const HOSTS = Math.min(254, Number(process.env.BENCH_HOSTS ?? 200));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const REGION = 'cn-hangzhou';
const ROOT_KEYS_DIR = '/var/lib/keyfleet-harness-root-keys';
const DEADLINE_MS = 15 * 60_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bindAll(api: Api, ids: string[]): Promise<void> {
  const r = await api.bind({ action: 'bind', keyPairName: 'bench-leaver', instanceIds: ids, mode: 'live' });
  const failed = r.items.filter((i: any) => i.status !== 'succeeded');
  if (failed.length > 0) throw new Error(`bind failed on ${failed.length} hosts: ${JSON.stringify(failed[0])}`);
}

async function plainUnbind(api: Api, ids: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await api.bind({ action: 'unbind', keyPairName: 'bench-leaver', instanceIds: ids, mode: 'live' });
  const ms = performance.now() - t0;
  const failed = r.items.filter((i: any) => i.status !== 'succeeded');
  if (failed.length > 0) throw new Error(`unbind failed on ${failed.length} hosts: ${JSON.stringify(failed[0])}`);
  return ms;
}

async function revokeEverywhere(api: Api): Promise<{ ms: number; planMs: number }> {
  const t0 = performance.now();
  const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, {
    keyPairName: 'bench-leaver',
  });
  const planMs = performance.now() - t0;
  await api.call('POST', `/api/v1/revocations/${revocation.id}/apply`, {
    includeUnmanaged: true,
    retryForSeconds: 600,
  });
  const done = await until('the revocation to finish', async () => {
    const r = (await api.call('GET', `/api/v1/revocations/${revocation.id}`)).revocation;
    return r.status === 'finished' ? r : null;
  });
  const ms = performance.now() - t0;
  if (done.counts.refused !== HOSTS) throw new Error(`refused on ${done.counts.refused} of ${HOSTS}`);
  return { ms, planMs };
}

async function main(): Promise<void> {
  const started = Date.now();
  const hosts: TestHost[] = await startHosts(HOSTS, { user: 'kfb', addressPrefix: '127.38' });
  console.log(`${HOSTS} sshd hosts started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { kf, api } = await startInProcess({
    extra: {
      KEYFLEET_SIM_SERVE: '0',
      KEYFLEET_TASK_CONCURRENCY: '64',
      KEYFLEET_LIVE_TIMEOUT_MS: '60000',
      KEYFLEET_REVOKE_TICK_MS: '100',
    },
  });
  try {
    const mgmt = await sshKeygen('ed25519', 'bench-management');
    const leaver = await sshKeygen('ed25519', 'bench-leaver');
    const managementPrivateKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, {
      name: 'bench-leaver',
      publicKey: leaver.publicKey,
    });
    const ids: string[] = [];
    for (const h of hosts) {
      await allowRootLogin(h, mgmt.publicKey);
      await prepareLoginHome(h);
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `bench-${h.name}`,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        rootKeysFile: path.join(ROOT_KEYS_DIR, path.basename(path.dirname(h.home)), 'root'),
        managementUser: 'root',
        managementPrivateKey,
        passwordLogin: 'unmanaged',
      });
      ids.push(r.instance.id);
    }
    const plain: number[] = [];
    const revoke: number[] = [];
    const plan: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plain', 'revoke'] as const) : (['revoke', 'plain'] as const);
      for (const which of order) {
        await bindAll(api, ids);
        if (which === 'plain') plain.push(await plainUnbind(api, ids));
        else {
          const r = await revokeEverywhere(api);
          revoke.push(r.ms);
          plan.push(r.planMs);
        }
      }
      console.log(
        `round ${round + 1}: plain unbind ${(plain.at(-1)! / 1000).toFixed(2)} s, revoke everywhere ${(revoke.at(-1)! / 1000).toFixed(2)} s (plan ${(plan.at(-1)! / 1000).toFixed(2)} s)`,
      );
    }
    const p = median(plain);
    const v = median(revoke);
    console.log(`\n${HOSTS} hosts, median of ${ROUNDS} rounds:`);
    console.log(`  plain live unbind:  ${(p / 1000).toFixed(2)} s  (${((HOSTS * 1000) / p).toFixed(1)} hosts/s)`);
    console.log(
      `  revoke everywhere:  ${(v / 1000).toFixed(2)} s  (${((HOSTS * 1000) / v).toFixed(1)} hosts/s; plan ${(median(plan) / 1000).toFixed(2)} s)`,
    );
    console.log(`  ratio revoke / plain unbind: ${(v / p).toFixed(2)}`);
  } finally {
    await kf.close();
    await stopHosts(hosts);
  }
}

await main();
