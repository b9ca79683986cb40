/**
 * Re-observation after an interrupted live change (ADR 26), on a fake clock with the real embedded store, the
 * binding module and an in-memory fleet: a change cut off while the machine then stops answering leaves a mark in
 * the store with the item's Live.StateUnknown; the sweeper asks again with backoff, saying "not verified ... last
 * asked at" while the machine is silent, and records what it does once it answers (with an audit entry); a newer
 * change recorded meanwhile wins. On PostgreSQL, three sweepers over the same marks ask each machine once.
 * Real sshd and real OpenSSH: test/faults/reobserve.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { createPolicyAuthorizer } from '../../src/core/authz/policy-authorizer.js';
import { createBindingModule } from '../../src/core/binding/binding-module.js';
import { keyStateToken } from '../../src/core/binding/reobservation.js';
import { createReobserveSweeper } from '../../src/core/binding/reobserve-sweeper.js';
import type { Caller } from '../../src/core/caller.js';
import type { IdGen } from '../../src/core/clock.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import type { LiveAccess, Logger, Store } from '../../src/core/ports.js';
import { createTaskRunner } from '../../src/core/task/task-runner.js';
import type { Task } from '../../src/core/task/task.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSshKeyMaterial } from '../../src/crypto/ssh-key-material.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { type FakeClock, fakeClock, settle } from '../support/fake-clock.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { seedBound } from '../support/core-seed.js';
import { memoryFleet } from '../support/memory-fleet.js';
import { tempDir } from '../support/tmp.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const REGION = 'cn-hangzhou';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK web';
const SECRETS = createSecretBox(randomBytes(32));
const DELAYS = [5_000, 30_000, 300_000];
let store: OpenedStore;
let n = 0;

before(async () => {
  store = await openStore({ dataDir: tempDir() });
  await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
});
after(() => store.close());

const caller = (): Caller => ({
  accountId: 'acc-1',
  userId: 'u-1',
  userName: 'alice',
  isAccountAdmin: true,
  isSystemAdmin: false,
  accessKeyId: null,
  sessionId: null,
  face: 'native',
  sourceIp: '127.0.0.1',
  requestId: `req-${++n}`,
  permissions: null,
});

async function seed(on: Store, count: number): Promise<{ keyPair: KeyPair; instances: Instance[] }> {
  return seedBound(on, ++n, count, { addressPrefix: '127.17' });
}

function setup(clock: FakeClock) {
  const fleet = memoryFleet();
  const ids: IdGen = { next: (p) => `${p}${++n}`, uuid: () => `task-${++n}`, random: () => 0.5 };
  const runner = createTaskRunner({
    store,
    clock,
    logger: quiet,
    owner: `runner-${++n}`,
    concurrency: 8,
    chunk: 8,
    leaseMs: 60_000,
    itemsPerSecond: 0,
  });
  const binding = createBindingModule({
    store,
    runner,
    live: fleet,
    keys: createSshKeyMaterial(),
    secrets: SECRETS,
    authz: createPolicyAuthorizer(),
    instanceTypes: () => [{ id: 't', cpu: 1, memoryGiB: 1, ioOptimized: true }],
    clock,
    ids,
    regions: [{ id: REGION, localName: 'Hangzhou' }],
    logger: quiet,
    liveTimeoutMs: 1_000,
    reobserveDelaysMs: DELAYS,
    callerOfTask: async (task) => ({ ...caller(), requestId: task.requestId }),
  });
  const sweeper = createReobserveSweeper({
    store,
    live: fleet,
    clock,
    ids,
    logger: quiet,
    liveTimeoutMs: 1_000,
    delaysMs: DELAYS,
  });
  return { fleet, runner, binding, sweeper };
}

async function untilFinished(clock: FakeClock, task: Task): Promise<Task> {
  for (let i = 0; i < 10_000; i++) {
    const t = await store.tasks.get('acc-1', task.id);
    if (t?.finishedAt) return t;
    if (!(await clock.next())) await settle();
  }
  throw new Error('task did not finish');
}

const itemsOf = async (task: Task) => (await store.tasks.items(task.id, { offset: 0, limit: 100 })).items;
const akOf = (inst: Instance) => `${inst.address}:/root/.ssh/authorized_keys`;
const dropInOf = (inst: Instance) => `${inst.address}:/etc/ssh/sshd_config.d/10-keyfleet.conf`;

const bindLive = (binding: ReturnType<typeof setup>['binding'], keyPair: KeyPair, inst: Instance) =>
  binding.submit(caller(), {
    regionId: REGION,
    kind: 'bind',
    keyPairName: keyPair.name,
    instanceIds: [inst.id],
    mode: 'live',
    credential: { kind: 'password', password: 'pw' },
    maxBatch: 50,
  });

/** A live bind cut off after its key was written, the machine answering nothing afterwards: Live.StateUnknown. */
async function interruptedBind(clock: FakeClock, s: ReturnType<typeof setup>) {
  const { keyPair, instances } = await seed(store, 1);
  const inst = instances[0]!;
  s.fleet.cutAfterWrites(inst.address, 1, 'everything');
  const task = await bindLive(s.binding, keyPair, inst);
  await untilFinished(clock, task);
  const [item] = await itemsOf(task);
  assert.equal(item?.errorCode, 'Live.StateUnknown', JSON.stringify(item));
  assert.ok(s.fleet.files.get(akOf(inst)), 'the key was written before the cut');
  return { keyPair, inst, task };
}

describe('re-observation after an interrupted live change (fake clock, embedded store, in-memory fleet)', () => {
  test('marked with the failure; asked again with backoff while silent; recorded as the machine is once it answers', async () => {
    const clock = fakeClock();
    const s = setup(clock);
    const { keyPair, inst, task } = await interruptedBind(clock, s);
    const failedAt = clock.now().getTime();
    const mark = await store.reobservations.get(inst.id);
    assert.ok(mark, 'the mark was written with the failure');
    assert.equal(mark.taskId, task.id);
    assert.equal(mark.wanted.keyPair?.id, keyPair.id);
    assert.equal(mark.wanted.passwordLogin, false);
    assert.equal(mark.dueAt.getTime(), failedAt + DELAYS[0]!);
    assert.equal(JSON.stringify(mark).includes('pw'), false, 'no credential is kept');

    // Not due yet: nothing is asked.
    assert.equal(await s.sweeper.sweep(), 0);
    assert.equal((await store.reobservations.get(inst.id))?.attempts, 0);

    // Due, still silent: the record says so, with when it was asked, and the next ask is 30 s later.
    await clock.advance(DELAYS[0]!);
    assert.equal(await s.sweeper.sweep(), 0);
    const asked = clock.now();
    let now = await store.instances.get('acc-1', inst.id);
    assert.equal(now?.verifiedAt, null);
    assert.match(now?.verification ?? '', new RegExp(`^not verified: .*last asked at ${asked.toISOString()}`));
    let pending = await store.reobservations.get(inst.id);
    assert.equal(pending?.attempts, 1);
    assert.equal(pending?.dueAt.getTime(), asked.getTime() + DELAYS[1]!);
    await clock.advance(DELAYS[1]!);
    assert.equal(await s.sweeper.sweep(), 0);
    pending = await store.reobservations.get(inst.id);
    assert.equal(pending?.dueAt.getTime(), clock.now().getTime() + DELAYS[2]!, 'then every 5 minutes');

    // The machine answers: it accepts the key and still offers password login (the drop-in was never written).
    s.fleet.failProbes(inst.address, 0);
    await clock.advance(DELAYS[2]!);
    assert.equal(await s.sweeper.sweep(), 1);
    assert.equal(s.fleet.files.get(dropInOf(inst)), undefined);
    now = await store.instances.get('acc-1', inst.id);
    assert.equal(now?.keyPairName, keyPair.name, 'the key logs in: the record says so');
    assert.equal(now?.appliedPublicKey, keyPair.publicKey);
    assert.equal(now?.appliedPasswordLogin, true, 'password login is on: the record says so');
    assert.equal(now?.verifiedAt?.getTime(), clock.now().getTime());
    assert.match(
      now?.verification ?? '',
      new RegExp(
        `^observed by probe at ${clock.now().toISOString()} after an interrupted change \\(task ${task.id}\\)`,
      ),
    );
    assert.equal(await store.reobservations.get(inst.id), null, 'the mark is cleared');
    const audit = await store.audit.query({
      accountId: 'acc-1',
      requestId: `reobserve-${task.id}`,
      offset: 0,
      limit: 10,
    });
    assert.equal(audit.items.length, 1);
    assert.equal(audit.items[0]?.stage, 'outcome');
    assert.equal(audit.items[0]?.userName, 'keyfleet');
    assert.equal(audit.items[0]?.taskId, task.id);
    assert.match(audit.items[0]?.detail ?? '', /took effect in part/);
    assert.ok(audit.items[0]?.resources.some((r) => r.endsWith(`instance/${inst.id}`)));
    await s.runner.close();
  });

  test('a newer change recorded while the mark waits wins: the old observation is not written over it', async () => {
    const clock = fakeClock();
    const s = setup(clock);
    const { keyPair, inst } = await interruptedBind(clock, s);
    // The machine is back and the user binds again: this change succeeds, proven by login.
    s.fleet.failProbes(inst.address, 0);
    s.fleet.failOpens(inst.address, 0);
    const again = await bindLive(s.binding, keyPair, inst);
    assert.equal((await untilFinished(clock, again)).status, 'succeeded', JSON.stringify(await itemsOf(again)));
    const newer = await store.instances.get('acc-1', inst.id);
    assert.ok(newer?.verifiedAt);
    assert.equal(newer.appliedPasswordLogin, false);
    // The machine is changed behind keyfleet's back (password login on again): were the old mark judged now, its
    // observation would differ from the newer record. It is dropped instead.
    s.fleet.files.delete(dropInOf(inst));
    await clock.advance(DELAYS[0]!);
    assert.equal(await s.sweeper.sweep(), 0);
    assert.equal(await store.reobservations.get(inst.id), null, 'the mark was superseded and dropped');
    const after = await store.instances.get('acc-1', inst.id);
    assert.deepEqual(after, newer, 'the newer record stands as it was');
    await s.runner.close();
  });

  test('an instance deleted while the mark waits: the mark is dropped', async () => {
    const clock = fakeClock();
    const s = setup(clock);
    const { inst } = await interruptedBind(clock, s);
    await store.transaction((tx) => tx.instances.delete('acc-1', inst.id));
    s.fleet.failProbes(inst.address, 0);
    await clock.advance(DELAYS[0]!);
    assert.equal(await s.sweeper.sweep(), 0);
    assert.equal(await store.reobservations.get(inst.id), null);
    await s.runner.close();
  });
});

test('KEYFLEET_REOBSERVE_MS: comma-separated delays, the default 5 s, 30 s, 5 min; anything else refused', () => {
  assert.deepEqual(loadConfig({}).tasks.reobserveMs, [5_000, 30_000, 300_000]);
  assert.deepEqual(loadConfig({ KEYFLEET_REOBSERVE_MS: '200, 1000' }).tasks.reobserveMs, [200, 1000]);
  for (const bad of ['0', '5s', '100,,200', '-5', '1,2,3,4,5,6,7,8,9'.replace(/\d/g, '1000'), '86400001'])
    assert.throws(() => loadConfig({ KEYFLEET_REOBSERVE_MS: bad }), ConfigError, bad);
});

describe('exactly once on PostgreSQL: three sweepers over the same marks', {
  skip: !PG_URL && 'needs KEYFLEET_TEST_PG_URL',
}, () => {
  test('each marked machine is asked and recorded once, whichever sweeper claims it', async () => {
    const db = await freshPostgres();
    const [a, b] = [
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
    ];
    try {
      await a.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
      const { keyPair, instances } = await seed(a, 24);
      const clock = fakeClock(new Date('2026-06-01T12:00:00Z'));
      const fleet = memoryFleet();
      const probes = new Map<string, number>();
      const counted: LiveAccess = {
        ...fleet,
        probeLogin: (target, hostKey, key, opts) => {
          probes.set(target.host, (probes.get(target.host) ?? 0) + 1);
          return fleet.probeLogin(target, hostKey, key, opts);
        },
      };
      for (const inst of instances) {
        fleet.files.set(akOf(inst), { content: `${PUBLIC_KEY}\n`, mode: 0o600, uid: 0, gid: 0 });
        await a.reobservations.put({
          accountId: 'acc-1',
          instanceId: inst.id,
          taskId: `task-of-${inst.id}`,
          wanted: {
            kind: 'bind',
            mode: 'live',
            keyPair: { id: keyPair.id, name: keyPair.name, publicKey: keyPair.publicKey },
            expiresAt: null,
            passwordLogin: false,
            port: null,
          },
          oldPublicKey: null,
          passwordBefore: true,
          stateToken: keyStateToken(inst),
          attempts: 0,
          dueAt: clock.now(),
          lastAskedAt: null,
          createdAt: clock.now(),
        });
      }
      const sweeperOn = (on: Store) =>
        createReobserveSweeper({
          store: on,
          live: counted,
          clock,
          ids: { next: (p) => `${p}${++n}`, uuid: () => `u-${++n}`, random: () => 0.5 },
          logger: quiet,
          liveTimeoutMs: 1_000,
          delaysMs: DELAYS,
        });
      const observed = await Promise.all([sweeperOn(a).sweep(), sweeperOn(b).sweep(), sweeperOn(a).sweep()]);
      assert.equal(
        observed.reduce((x, y) => x + y, 0),
        instances.length,
        `observed ${observed.join('+')}`,
      );
      assert.deepEqual(
        instances.map((i) => probes.get(i.address)),
        instances.map(() => 1),
        'one ask per machine',
      );
      for (const inst of instances) {
        const now = await a.instances.get('acc-1', inst.id);
        assert.equal(now?.keyPairName, keyPair.name);
        assert.ok(now?.verifiedAt);
        const audit = await a.audit.query({
          accountId: 'acc-1',
          requestId: `reobserve-task-of-${inst.id}`,
          offset: 0,
          limit: 10,
        });
        assert.equal(audit.total, 1, `one audit entry for ${inst.id}`);
        assert.equal(await a.reobservations.get(inst.id), null);
      }
      assert.equal(await sweeperOn(b).sweep(), 0, 'nothing is left');
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
