/**
 * The binding module's executors on a fake clock, the real embedded store and an in-memory fleet: what an item
 * records, per-item authorization, retries with backoff after an unreachable host, and the custody of a live
 * credential. Real SSH and real sshd are covered by the end-to-end and host suites; these run in milliseconds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { compilePermissions, parsePolicyDocument } from '../../src/core/authz/policy.js';
import { createPolicyAuthorizer } from '../../src/core/authz/policy-authorizer.js';
import { createBindingModule } from '../../src/core/binding/binding-module.js';
import type { Caller } from '../../src/core/caller.js';
import type { IdGen } from '../../src/core/clock.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import type { Logger } from '../../src/core/ports.js';
import { createTaskRunner } from '../../src/core/task/task-runner.js';
import type { Task } from '../../src/core/task/task.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSshKeyMaterial } from '../../src/crypto/ssh-key-material.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { type FakeClock, fakeClock, settle } from '../support/fake-clock.js';
import { freezable } from '../support/freezable-store.js';
import { seedBound } from '../support/core-seed.js';
import { memoryFleet } from '../support/memory-fleet.js';
import { tempDir } from '../support/tmp.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const REGION = 'cn-hangzhou';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK web';
let store: OpenedStore;
/** One key-encryption key for every process in these tests, as processes sharing a store share it. */
const SECRETS = createSecretBox(randomBytes(32));
let n = 0;

before(async () => {
  store = await openStore({ dataDir: tempDir() });
  await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
});
after(() => store.close());

function caller(statements?: unknown[]): Caller {
  return {
    accountId: 'acc-1',
    userId: 'u-1',
    userName: 'alice',
    isAccountAdmin: !statements,
    isSystemAdmin: false,
    accessKeyId: null,
    sessionId: null,
    face: 'native',
    sourceIp: '127.0.0.1',
    requestId: `req-${++n}`,
    permissions: statements ? compilePermissions([parsePolicyDocument({ Statement: statements })]) : null,
  };
}

async function seed(count: number, over: Partial<Instance> = {}): Promise<{ keyPair: KeyPair; instances: Instance[] }> {
  return seedBound(store, ++n, count, { addressPrefix: '127.16', over });
}

function setup(clock: FakeClock, over: { store?: OpenedStore } = {}) {
  const fleet = memoryFleet();
  const ids: IdGen = { next: (p) => `${p}${++n}`, uuid: () => `task-${++n}`, random: () => 0.5 };
  const runner = createTaskRunner({
    store: over.store ?? store,
    clock,
    logger: quiet,
    owner: `runner-${++n}`,
    concurrency: 8,
    chunk: 8,
    leaseMs: 60_000,
    itemsPerSecond: 0,
  });
  const binding = createBindingModule({
    store: over.store ?? store,
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
    // A task resumed by another process runs as its submitter (alice, an administrator here).
    callerOfTask: async (task) => ({ ...caller(), requestId: task.requestId }),
  });
  return { fleet, runner, binding };
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

/** Lets ready work run until `cond` holds (a bounded number of turns: the work under test needs no time to pass). */
async function until(cond: () => boolean): Promise<void> {
  for (let n = 0; n < 100 && !cond(); n++) await settle();
  assert.ok(cond(), 'the condition was not reached');
}

const akOf = (inst: Instance) => `${inst.address}:/root/.ssh/authorized_keys`;
const dropInOf = (inst: Instance) => `${inst.address}:/etc/ssh/sshd_config.d/10-keyfleet.conf`;

describe('binding module (fake clock, embedded store, in-memory fleet)', () => {
  test('on-restart: each instance records the key pair and waits for its restart; an event per instance', async () => {
    const clock = fakeClock();
    const { binding, runner } = setup(clock);
    const { keyPair, instances } = await seed(3);
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: instances.map((i) => i.id),
      mode: 'on-restart',
      maxBatch: 50,
    });
    const done = await untilFinished(clock, task);
    assert.equal(done.status, 'succeeded');
    for (const inst of instances) {
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.keyPairName, keyPair.name);
      assert.equal(now?.desiredPublicKey, PUBLIC_KEY);
      assert.equal(now?.appliedPublicKey, null, 'nothing is applied before the restart');
      assert.equal(now?.pendingRestart, true);
      const history = await store.events.forInstance('acc-1', inst.id);
      assert.deepEqual(
        history.map((e) => [e.action, e.keyPairName, e.mode]),
        [['bind', keyPair.name, 'on-restart']],
      );
    }
    await runner.close();
  });

  test('each item is authorized when it runs: an instance the submitter may not change fails alone', async () => {
    const clock = fakeClock();
    const { binding, runner } = setup(clock);
    const { keyPair, instances } = await seed(2);
    const [allowed, denied] = instances as [Instance, Instance];
    const limited = caller([
      {
        Effect: 'Allow',
        Action: 'keypair:Bind',
        Resource: [`acs:ecs:*:*:instance/${allowed.id}`, 'acs:ecs:*:*:keypair/*'],
      },
    ]);
    const task = await binding.submit(limited, {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [allowed.id, denied.id],
      mode: 'on-restart',
      maxBatch: 50,
    });
    const done = await untilFinished(clock, task);
    assert.equal(done.status, 'partial');
    assert.deepEqual(
      (await itemsOf(task)).map((i) => [i.instanceId, i.status, i.errorCode]),
      [
        [allowed.id, 'succeeded', null],
        [denied.id, 'failed', 'Auth.Forbidden'],
      ],
    );
    assert.equal(
      (await store.instances.get('acc-1', denied.id))?.keyPairName,
      null,
      'the refused instance is unchanged',
    );
    await runner.close();
  });

  test('live: an unreachable host is retried with doubling backoff, then the change is applied and proven', async () => {
    const clock = fakeClock();
    const { binding, runner, fleet } = setup(clock);
    const { keyPair, instances } = await seed(1);
    const inst = instances[0]!;
    fleet.failNext(inst.address, 2);
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      maxBatch: 50,
    });
    const done = await untilFinished(clock, task);
    assert.equal(done.status, 'succeeded', JSON.stringify(await itemsOf(task)));
    // random() is 0.5: the jitter factor is exactly 1, so the backoff is the policy's 500 ms, then 1,000 ms.
    const backoff = clock.sleeps.filter((ms) => ms >= 500);
    assert.deepEqual(backoff.slice(0, 2), [500, 1000]);
    const now = await store.instances.get('acc-1', inst.id);
    assert.equal(now?.appliedPublicKey, PUBLIC_KEY);
    assert.equal(now?.appliedPasswordLogin, false);
    assert.match(
      fleet.files.get(`${inst.address}:/root/.ssh/authorized_keys`)?.content ?? '',
      /AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK/,
    );
    assert.match((await itemsOf(task))[0]?.note ?? '', /verified by login/);
    await runner.close();
  });

  test('live: a host still unreachable after the retries fails with Live.Unreachable and is left unchanged', async () => {
    const clock = fakeClock();
    const { binding, runner, fleet } = setup(clock);
    const { keyPair, instances } = await seed(1);
    const inst = instances[0]!;
    fleet.failNext(inst.address, 3);
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      maxBatch: 50,
    });
    await untilFinished(clock, task);
    assert.deepEqual(
      (await itemsOf(task)).map((i) => [i.status, i.errorCode]),
      [['failed', 'Live.Unreachable']],
    );
    assert.equal(fleet.opened.get(inst.address) ?? 0, 0, 'no session was ever opened');
    const now = await store.instances.get('acc-1', inst.id);
    assert.equal(now?.keyPairName, null);
    assert.equal(now?.appliedPublicKey, null);
    await runner.close();
  });

  test('live: the credential is held while the task runs and released when it ends; without one the item fails', async () => {
    const clock = fakeClock();
    const { binding, runner, fleet } = setup(clock);
    const { keyPair, instances } = await seed(2);
    const [a, b] = instances as [Instance, Instance];
    fleet.failNext(a.address, 1);
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [a.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      maxBatch: 50,
    });
    await settle();
    assert.equal(binding.holdsCredential(task.id), true, 'held while the item waits for its retry');
    await untilFinished(clock, task);
    assert.equal(binding.holdsCredential(task.id), false, 'released when the task ended');

    const without = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [b.id],
      mode: 'live',
      maxBatch: 50,
    });
    await untilFinished(clock, without);
    assert.deepEqual(
      (await itemsOf(without)).map((i) => i.errorCode),
      ['Live.CredentialRequired'],
    );
    await runner.close();
  });

  test('live: a host that still takes passwords at a keyboard-interactive prompt fails the proof and is restored', async () => {
    const clock = fakeClock();
    const { binding, runner, fleet } = setup(clock);
    const { keyPair, instances } = await seed(1);
    const inst = instances[0]!;
    fleet.alsoOffers(inst.address, ['keyboard-interactive']);
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      maxBatch: 50,
    });
    await untilFinished(clock, task);
    const [item] = await itemsOf(task);
    assert.equal(item?.errorCode, 'Live.VerificationFailed');
    assert.match(item?.errorMessage ?? '', /password login is still offered/);
    assert.equal(
      fleet.files.has(`${inst.address}:/root/.ssh/authorized_keys`),
      false,
      'the key written for the proof was taken back',
    );
    const now = await store.instances.get('acc-1', inst.id);
    assert.equal(now?.keyPairName, null);
    assert.equal(now?.appliedPasswordLogin, true);
    await runner.close();
  });

  test('live: a Stopped instance takes the change at its next start instead', async () => {
    const clock = fakeClock();
    const { binding, runner, fleet } = setup(clock);
    const { keyPair, instances } = await seed(1, { status: 'Stopped' });
    const inst = instances[0]!;
    const task = await binding.submit(caller(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      maxBatch: 50,
    });
    await untilFinished(clock, task);
    assert.match((await itemsOf(task))[0]?.note ?? '', /next start/);
    assert.equal(fleet.opened.get(inst.address) ?? 0, 0, 'a Stopped machine is not contacted');
    assert.equal((await store.instances.get('acc-1', inst.id))?.pendingRestart, true);
    await runner.close();
  });

  describe('live truth under faults: what is recorded is what the machine does', () => {
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

    test('killed after its writes: the resumed item finds the root password refused (password login off), observes the machine and records the change as applied', async () => {
      const clock = fakeClock();
      const frozen = freezable(store);
      const first = setup(clock, { store: frozen.store });
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      // Both writes reach the machine (the key, then the drop-in turning password login off); the answer to the
      // second is lost and the process dies before it records anything.
      first.fleet.cutAfterWrites(inst.address, 2);
      const task = await bindLive(first.binding, keyPair, inst);
      await until(() => first.fleet.files.has(dropInOf(inst)));
      frozen.freeze();
      assert.match(first.fleet.files.get(dropInOf(inst))?.content ?? '', /PasswordAuthentication no/);
      await store.tasks.releaseLeases('all', clock.now());
      const second = setup(clock);
      for (const [k, v] of first.fleet.files) second.fleet.files.set(k, v);
      await second.runner.resumeAll();
      const done = await untilFinished(clock, task);
      const [item] = await itemsOf(task);
      assert.equal(done.status, 'succeeded', JSON.stringify(item));
      assert.match(item?.note ?? '', /Live\.CredentialRejected on the way; observed by probe/);
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.keyPairName, keyPair.name);
      assert.equal(now?.appliedPasswordLogin, false);
      assert.ok(now?.verifiedAt, 'proven by the probes');
      await second.runner.close();
    });

    test('a wrong root password on an untouched machine is Live.CredentialRejected, not an observation', async () => {
      const clock = fakeClock();
      const { binding, runner, fleet } = setup(clock);
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      fleet.files.set(dropInOf(inst), { content: 'PasswordAuthentication no\n', mode: 0o644, uid: 0, gid: 0 });
      const task = await bindLive(binding, keyPair, inst);
      await untilFinished(clock, task);
      const [item] = await itemsOf(task);
      assert.equal(item?.errorCode, 'Live.CredentialRejected', JSON.stringify(item));
      assert.equal((await store.instances.get('acc-1', inst.id))?.keyPairName, null);
      await runner.close();
    });

    test('a session cut right after authorized_keys was written: the retry converges and proves the change', async () => {
      const clock = fakeClock();
      const { binding, runner, fleet } = setup(clock);
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      fleet.cutAfterWrites(inst.address, 1);
      const task = await bindLive(binding, keyPair, inst);
      const done = await untilFinished(clock, task);
      assert.equal(done.status, 'succeeded', JSON.stringify(await itemsOf(task)));
      assert.equal(fleet.opened.get(inst.address), 2, 'a fresh session for the retry');
      assert.match(fleet.files.get(dropInOf(inst))?.content ?? '', /PasswordAuthentication no/);
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.keyPairName, keyPair.name);
      assert.equal(now?.appliedPasswordLogin, false);
      await runner.close();
    });

    test('cut after the key was written and never reachable again for a login: recorded as partly applied, as the machine is', async () => {
      const clock = fakeClock();
      const { binding, runner, fleet } = setup(clock);
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      fleet.cutAfterWrites(inst.address, 1, 'logins');
      const task = await bindLive(binding, keyPair, inst);
      await untilFinished(clock, task);
      const [item] = await itemsOf(task);
      assert.equal(item?.errorCode, 'Live.PartlyApplied', JSON.stringify(item));
      assert.match(item?.errorMessage ?? '', /key '.*' accepted.*password login on/);
      assert.equal(fleet.files.get(dropInOf(inst)), undefined, 'password login was never turned off');
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.keyPairName, keyPair.name, 'the key logs in: the record says so');
      assert.equal(now?.appliedPasswordLogin, true, 'password login is still on: the record says so');
      await runner.close();
    });

    test('interrupted and then not answering at all: Live.StateUnknown, the record unverified, nothing assumed', async () => {
      const clock = fakeClock();
      const { binding, runner, fleet } = setup(clock);
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      fleet.cutAfterWrites(inst.address, 1, 'everything');
      const task = await bindLive(binding, keyPair, inst);
      await untilFinished(clock, task);
      const [item] = await itemsOf(task);
      assert.equal(item?.errorCode, 'Live.StateUnknown', JSON.stringify(item));
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.verifiedAt, null);
      assert.match(now?.verification ?? '', /^interrupted at .* and the machine did not answer$/);
      assert.ok(fleet.files.get(akOf(inst)), 'the key was written before the cut');
      await runner.close();
    });

    test('the intent is recorded before the first write; a resumed item converges and its credential outlived the process', async () => {
      const clock = fakeClock();
      const frozen = freezable(store);
      const first = setup(clock, { store: frozen.store });
      const { keyPair, instances } = await seed(1);
      const inst = instances[0]!;
      // The first process is cut off after its first write, then killed: it never touches the store again.
      first.fleet.cutAfterWrites(inst.address, 1, 'everything');
      const task = await bindLive(first.binding, keyPair, inst);
      await until(() => first.fleet.files.has(akOf(inst)));
      frozen.freeze();
      const [running] = await itemsOf(task);
      assert.ok(running?.intent, 'the intent was recorded before the write');
      assert.equal(running?.intent?.desired.publicKey, PUBLIC_KEY);
      assert.equal(running?.intent?.desired.passwordLogin, false);
      assert.deepEqual(running?.intent?.found, { publicKeys: [], passwordLogin: null });
      assert.match((await store.tasks.credential(task.id)) ?? '', /./, 'sealed in the store while the task runs');
      assert.doesNotMatch((await store.tasks.credential(task.id)) ?? '', /pw/);
      await store.tasks.releaseLeases('all', clock.now());
      // A second process on the same store (the memory files are the same machine) finishes it.
      const second = setup(clock);
      second.fleet.files.clear();
      for (const [k, v] of first.fleet.files) second.fleet.files.set(k, v);
      await second.runner.resumeAll();
      const done = await untilFinished(clock, task);
      assert.equal(done.status, 'succeeded', JSON.stringify(await itemsOf(task)));
      const now = await store.instances.get('acc-1', inst.id);
      assert.equal(now?.keyPairName, keyPair.name);
      assert.equal(now?.appliedPasswordLogin, false);
      assert.equal(await store.tasks.credential(task.id), null, 'wiped when the task finished');
      await second.runner.close();
    });
  });
});
