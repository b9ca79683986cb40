/**
 * The simulated fleet in a cluster (issue 17): two keyfleet processes on one PostgreSQL; one of them (the leader)
 * serves every machine's SSH, and start, stop and restart made through either process reach the machine's real
 * SSH (checked with the OpenSSH client: the bound key logs in, or the connection is refused). When the serving
 * process dies, the other takes the role over and the machines answer again. How soon is measured in
 * bench/cluster.ts; here timeouts are safety nets only.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster } from '../support/cluster.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { Api, LINUX_IMAGE, sleep } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

type SshState = 'login' | 'refused' | 'other';

async function sshState(host: string, port: number, identityFile: string): Promise<SshState> {
  const r = await sshRun({ host, port, identityFile, command: 'true', timeoutMs: 15_000 });
  if (r.code === 0) return 'login';
  if (/Connection refused/i.test(r.stderr)) return 'refused';
  return 'other';
}

/** Polls the machine with the OpenSSH client until it is in `want` (safety timeout; the delay is benched). */
async function until(inst: { address: string; sshPort: number }, key: string, want: SshState): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last: SshState = 'other';
  while (Date.now() < deadline) {
    last = await sshState(inst.address, inst.sshPort, key);
    if (last === want) return;
    await sleep(100);
  }
  assert.fail(`${inst.address}:${inst.sshPort} is '${last}', not '${want}', after 60 s`);
}

async function signedIn(url: string): Promise<Api> {
  const api = new Api(url);
  await api.signIn();
  return api;
}

test('start, stop and restart through either process reach the SSH of the machine; the serving role moves when its process dies', {
  skip: PG_URL ? false : 'KEYFLEET_TEST_PG_URL is not set',
  timeout: 300_000,
}, async () => {
  const db = await freshPostgres();
  cleanups.push(db.drop);
  const cluster = await Cluster.start({ processes: 2, databaseUrl: db.url });
  cleanups.push(() => cluster.close());
  // Node 1 started alone first, so it holds leadership: node 2 does not serve the fleet.
  const a = await signedIn(cluster.node(1).url);
  const b = await signedIn(cluster.node(2).url);

  const first = await b.createKeyPair('leader-a', 'ed25519');
  const second = await b.createKeyPair('leader-b', 'ed25519');
  const keyA = await writePrivateKey(first.privateKey);
  const keyB = await writePrivateKey(second.privateKey);

  // Created and started through the process that does not serve.
  const [id] = await b.run({ imageId: LINUX_IMAGE, keyPairName: 'leader-a', amount: 1 });
  await b.waitStatus([id!], 'Running');
  const inst = await b.instance(id!);
  await until(inst, keyA, 'login');

  // Stopped and started through it.
  await b.call('POST', `/api/v1/instances/${id}/stop`);
  await b.waitStatus([id!], 'Stopped');
  await until(inst, keyA, 'refused');
  await b.call('POST', `/api/v1/instances/${id}/start`);
  await b.waitStatus([id!], 'Running');
  await until(inst, keyA, 'login');

  // Restarted through it with a change waiting for the restart: the serving process reboots the machine, which
  // boots with the new key (and no longer takes the old one).
  await b.call('POST', '/api/v1/regions/cn-hangzhou/bindings', {
    action: 'bind',
    keyPairName: 'leader-b',
    instanceIds: [id],
    mode: 'on-restart',
    wait: true,
  });
  await b.restart(id!);
  await until(inst, keyB, 'login');
  assert.notEqual(await sshState(inst.address, inst.sshPort, keyA), 'login');

  // The serving process dies: the other takes the role over and serves the machine, still Running.
  await cluster.kill9(1);
  await until(inst, keyB, 'login');
  assert.equal((await b.instance(id!)).status, 'Running');

  // The first process comes back (not serving now): a stop and a start through it reach the machine too.
  await cluster.launch(1);
  const a2 = await signedIn(cluster.node(1).url);
  await a2.call('POST', `/api/v1/instances/${id}/stop`);
  await a2.waitStatus([id!], 'Stopped');
  await until(inst, keyB, 'refused');
  await a2.call('POST', `/api/v1/instances/${id}/start`);
  await a2.waitStatus([id!], 'Running');
  await until(inst, keyB, 'login');
  void a;
});
