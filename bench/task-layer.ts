/**
 * Benchmark: what keyfleet itself costs per host of a live change, without any network. Hosts are registered and
 * bound exactly as in bench/hosts-vs-ansible.ts (native API, durable task, store, authorization, per-host result),
 * but the SSH access is an in-memory stand-in whose sessions answer at once. The CPU keyfleet spends per host is
 * then all task layer: claiming, the instance read, the per-host transaction (instance, item, counters, event),
 * the management key unsealed, the plan of the authorized_keys block, the HTTP call around it all.
 *
 *   node --import tsx bench/task-layer.ts                 # 2,000 hosts, bind then unbind, 3 rounds
 *   BENCH_HOSTS=500 BENCH_PROFILE=1 node --import tsx bench/task-layer.ts   # a CPU profile of one phase in /tmp
 *
 * Bounded: in-process only, a fixed number of hosts, no sockets but keyfleet's own HTTP port on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { loadConfig } from '../src/app/config.js';
import { Api, testEnv } from '../test/support/keyfleet.js';
import { MEMORY_HOST_KEY as HOST_KEY, memoryFleet } from '../test/support/memory-fleet.js';
import { sshKeygen } from '../test/support/openssh.js';
import { startProfile } from './support/cpu-profile.js';
import fs from 'node:fs/promises';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 2000);
const REGION = 'cn-hangzhou';
async function main(): Promise<void> {
  const mgmt = await sshKeygen('ed25519', 'task-layer-management');
  const user = await sshKeygen('ed25519', 'task-layer-user');
  const managementKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
  const env = await testEnv({ extra: { KEYFLEET_SIM_SERVE: '0' } });
  const kf = await startKeyfleet(loadConfig(env), { live: memoryFleet() });
  try {
    const api = new Api(kf.url);
    await api.signIn();
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'bench-key', publicKey: user.publicKey });
    const ids: string[] = [];
    for (let i = 0; i < HOSTS; i++) {
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `mem-${i}`,
        address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        port: 22,
        loginUser: 'app',
        homeDir: '/home/app',
        managementUser: 'app',
        managementPrivateKey: managementKey,
        passwordLogin: 'unmanaged',
        hostKeySha256: HOST_KEY,
      });
      ids.push(r.instance.id);
    }
    console.log(
      `${HOSTS} in-memory hosts registered (management key per host, sealed); keyfleet concurrency ${kf.config?.tasks?.concurrency ?? 'default'}`,
    );
    for (let round = 1; round <= 3; round++) {
      for (const action of ['bind', 'unbind'] as const) {
        const profiling =
          process.env.BENCH_PROFILE === '1' && round === 3 && action === 'bind' ? await startProfile() : null;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
          action,
          keyPairName: 'bench-key',
          instanceIds: ids,
          mode: 'live',
          verify: false,
          wait: true,
        });
        const seconds = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        if (profiling) await profiling(`/tmp/keyfleet-task-layer-${randomUUID().slice(0, 8)}.cpuprofile`);
        const failed = r.items.filter((i: { status: string }) => i.status !== 'succeeded');
        if (failed.length) throw new Error(`${action}: ${failed.length} failed, e.g. ${JSON.stringify(failed[0])}`);
        console.log(
          `round ${round} ${action.padEnd(6)} ${HOSTS} hosts: ${seconds.toFixed(2)} s, ${(HOSTS / seconds).toFixed(0)} hosts/s; keyfleet CPU ${((c.user + c.system) / 1000 / HOSTS).toFixed(2)} ms per host (user ${(c.user / 1000 / HOSTS).toFixed(2)})`,
        );
      }
    }
  } finally {
    await kf.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
