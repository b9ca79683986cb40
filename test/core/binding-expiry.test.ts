/**
 * Bindings that expire (issue 19), in milliseconds: the bounds of an expiry, the line keyfleet writes and
 * recognises, drift over an expiry, OpenSSH's refusal second in the simulated sshd, and the expiry sweeper on a
 * fake clock with the real embedded store, the binding module and an in-memory fleet; on PostgreSQL, two sweepers
 * racing over the same due expiries make one unbind task each. Real sshd and real time: test/e2e/binding-expiry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { keyOptionsAllow, parseKeyOptions } from '../../src/backends/sim/sshd-key-options.js';
import { createPolicyAuthorizer } from '../../src/core/authz/policy-authorizer.js';
import { expiryTimeOption, planAuthorizedKeys } from '../../src/core/binding/authorized-keys.js';
import { createBindingModule } from '../../src/core/binding/binding-module.js';
import { compareDrift } from '../../src/core/binding/drift.js';
import { MAX_EXPIRY_MS, requestedExpiry } from '../../src/core/binding/expiry.js';
import { createExpirySweeper } from '../../src/core/binding/expiry-sweeper.js';
import type { Caller } from '../../src/core/caller.js';
import type { IdGen } from '../../src/core/clock.js';
import { isCoreError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import type { Logger, Store } from '../../src/core/ports.js';
import { createTaskRunner } from '../../src/core/task/task-runner.js';
import type { Task } from '../../src/core/task/task.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSshKeyMaterial } from '../../src/crypto/ssh-key-material.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { type FakeClock, fakeClock, settle } from '../support/fake-clock.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { memoryFleet } from '../support/memory-fleet.js';
import { tempDir } from '../support/tmp.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const REGION = 'cn-hangzhou';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK web';
const BODY = PUBLIC_KEY.split(' ')[1]!;
const SECRETS = createSecretBox(randomBytes(32));
const NOW = new Date('2026-06-01T12:00:00Z');
let n = 0;

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return isCoreError(err) ? err.code : 'not a CoreError';
  }
  return 'no error';
};

describe('expiry bounds and forms (expiry.ts)', () => {
  test('expiresAt (ISO with a zone) and expiresIn (durations or seconds), rounded up to a whole second', () => {
    assert.equal(requestedExpiry({}, NOW), null);
    assert.equal(requestedExpiry({ expiresIn: '8h' }, NOW)?.toISOString(), '2026-06-01T20:00:00.000Z');
    assert.equal(requestedExpiry({ expiresIn: '90m' }, NOW)?.toISOString(), '2026-06-01T13:30:00.000Z');
    assert.equal(requestedExpiry({ expiresIn: '20s' }, NOW)?.toISOString(), '2026-06-01T12:00:20.000Z');
    assert.equal(requestedExpiry({ expiresIn: '7d' }, NOW)?.toISOString(), '2026-06-08T12:00:00.000Z');
    assert.equal(requestedExpiry({ expiresIn: 3600 }, NOW)?.toISOString(), '2026-06-01T13:00:00.000Z');
    assert.equal(
      requestedExpiry({ expiresAt: '2026-06-01T16:00:00.250+02:00' }, NOW)?.toISOString(),
      '2026-06-01T14:00:01.000Z',
      'a zone is honoured and a fraction rounds up',
    );
    assert.equal(
      requestedExpiry({ expiresIn: MAX_EXPIRY_MS / 1000 }, NOW)?.getTime(),
      NOW.getTime() + MAX_EXPIRY_MS,
      'exactly the maximum is allowed',
    );
  });

  test('out of bounds or malformed: a stable code, and which parameter', () => {
    assert.equal(
      code(() => requestedExpiry({ expiresAt: '2026-06-01T11:59:59Z' }, NOW)),
      'Binding.ExpiryInvalid',
    );
    assert.equal(
      code(() => requestedExpiry({ expiresIn: '4s' }, NOW)),
      'Binding.ExpiryInvalid',
      'at least 5 s ahead',
    );
    assert.equal(
      code(() => requestedExpiry({ expiresIn: MAX_EXPIRY_MS / 1000 + 1 }, NOW)),
      'Binding.ExpiryInvalid',
    );
    assert.equal(
      code(() => requestedExpiry({ expiresIn: '367d' }, NOW)),
      'Binding.ExpiryInvalid',
    );
    assert.equal(
      code(() => requestedExpiry({ expiresIn: '8h', expiresAt: '2026-06-02T00:00:00Z' }, NOW)),
      'Input.Invalid',
    );
    for (const bad of ['2026-06-02 00:00:00Z', '2026-06-02T00:00:00', 'tomorrow', '2026-13-02T00:00:00Z', 42])
      assert.equal(
        code(() => requestedExpiry({ expiresAt: bad }, NOW)),
        'Input.Invalid',
        String(bad),
      );
    for (const bad of ['8 hours', '-5m', '1.5h', '', 0, -3, 1.5, 'h'])
      assert.equal(
        code(() => requestedExpiry({ expiresIn: bad }, NOW)),
        'Input.Invalid',
        String(bad),
      );
  });
});

describe("keyfleet's line with OpenSSH's expiry-time (authorized-keys.ts)", () => {
  const at = new Date('2026-12-24T18:00:00Z');
  const line = `expiry-time="20261224180000Z" ${PUBLIC_KEY.split(' ').slice(0, 2).join(' ')} keyfleet:kp`;

  test('written as YYYYMMDDHHMMSSZ (UTC), a fraction rounded up', () => {
    const plan = planAuthorizedKeys('# hand\n', [{ keyPairName: 'kp', publicKey: PUBLIC_KEY, expiresAt: at }]);
    assert.ok(plan.content.split('\n').includes(line), plan.content);
    assert.equal(expiryTimeOption(new Date('2026-12-24T18:00:00.001Z')), '20261224180001Z');
    assert.equal(expiryTimeOption(at), '20261224180000Z');
  });

  test("recognised as keyfleet's: the same expiry changes nothing, another one rewrites it, an unbind removes it", () => {
    const content = planAuthorizedKeys('# hand\n', [
      { keyPairName: 'kp', publicKey: PUBLIC_KEY, expiresAt: at },
    ]).content;
    const same = planAuthorizedKeys(content, [{ keyPairName: 'kp', publicKey: PUBLIC_KEY, expiresAt: at }]);
    assert.equal(same.changed, false);
    const later = new Date('2026-12-25T18:00:00Z');
    const extended = planAuthorizedKeys(content, [{ keyPairName: 'kp', publicKey: PUBLIC_KEY, expiresAt: later }]);
    assert.equal(extended.changed, true);
    assert.ok(extended.content.includes('expiry-time="20261225180000Z"'));
    assert.ok(!extended.content.includes('20261224180000Z'));
    assert.deepEqual(extended.foreignRemoved, [], "the old line was keyfleet's own, not a foreign one");
    const unbound = planAuthorizedKeys(content, []);
    assert.equal(unbound.content, '# hand\n');
    assert.deepEqual(unbound.removed, [BODY]);
    assert.deepEqual(unbound.foreignRemoved, []);
  });

  test('any other option, or another expiry form, makes the line one keyfleet did not write', () => {
    for (const options of ['from="127.0.0.1"', 'expiry-time="202612241800Z"', 'expiry-time="20261224180000UTC"']) {
      const planted = `# >>> keyfleet managed keys: do not edit inside this block >>>\n${options} ${PUBLIC_KEY.split(' ').slice(0, 2).join(' ')} keyfleet:kp\n# <<< keyfleet managed keys <<<\n`;
      const plan = planAuthorizedKeys(planted, []);
      assert.deepEqual(plan.foreignRemoved, [BODY], options);
    }
  });

  test('drift: an expiry on the line is not drift; one that differs from the record is', () => {
    const content = planAuthorizedKeys('', [{ keyPairName: 'kp', publicKey: PUBLIC_KEY, expiresAt: at }]).content;
    const drift = (bound: { expiresAt: Date | null }) =>
      compareDrift({
        authorizedKeys: content,
        bound: { keyPairName: 'kp', publicKey: PUBLIC_KEY, ...bound },
        dropIn: null,
        expectedDropIn: null,
        keyPairNameOf: () => 'kp',
      });
    assert.equal(drift({ expiresAt: at }).status, 'in-sync');
    for (const other of [null, new Date('2027-01-01T00:00:00Z')]) {
      const report = drift({ expiresAt: other });
      assert.equal(report.status, 'drifted');
      assert.deepEqual(
        report.findings.map((f) => f.code),
        ['expiry-differs'],
      );
    }
  });

  test("the simulated sshd refuses the key from the second after the expiry, as OpenSSH's valid_before < now", () => {
    const options = parseKeyOptions('expiry-time="20261224180000Z"')!;
    const use = (ms: number) => ({ clientIp: '127.0.0.1', nowMs: ms, permitUserEnvironment: 'no' });
    assert.equal(keyOptionsAllow(options, use(at.getTime() + 999)), true, 'within the second named');
    assert.equal(keyOptionsAllow(options, use(at.getTime() + 1000)), false, 'the next second');
  });
});

describe('the expiry sweeper (fake clock, embedded store, in-memory fleet)', () => {
  let store: OpenedStore;
  before(async () => {
    store = await openStore({ dataDir: tempDir() });
    await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
  });
  after(() => store.close());

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
      callerOfTask: async (task) => ({ ...alice(), requestId: task.requestId }),
    });
    const audited: Array<{ caller: Caller; action: string; taskId: string }> = [];
    const kicked: string[] = [];
    const sweeper = createExpirySweeper({
      store,
      clock,
      ids,
      logger: quiet,
      kick: (id) => {
        kicked.push(id);
        runner.kick(id);
      },
      audit: async (caller, action, _refs, taskId) => void audited.push({ caller, action, taskId }),
    });
    return { fleet, runner, binding, sweeper, audited, kicked };
  }

  async function untilFinished(clock: FakeClock, taskId: string): Promise<Task> {
    for (let i = 0; i < 10_000; i++) {
      const t = await store.tasks.get('acc-1', taskId);
      if (t?.finishedAt) return t;
      if (!(await clock.next())) await settle();
    }
    throw new Error('task did not finish');
  }

  test('a live binding on a simulated instance: its line carries the expiry; at expiry keyfleet itself records the unbind for the next start, once', async () => {
    const clock = fakeClock(NOW);
    const { fleet, runner, binding, sweeper, audited } = setup(clock);
    const { keyPair, instances } = await seed(store, 1);
    const inst = instances[0]!;
    const bound = await binding.submit(alice(), {
      regionId: REGION,
      kind: 'bind',
      keyPairName: keyPair.name,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'pw' },
      expiresIn: '20s',
      maxBatch: 50,
    });
    assert.equal((await untilFinished(clock, bound.id)).status, 'succeeded');
    const after = (await store.instances.get('acc-1', inst.id))!;
    assert.equal(after.keyExpiresAt?.toISOString(), '2026-06-01T12:00:20.000Z');
    assert.equal(after.appliedKeyExpiresAt?.toISOString(), '2026-06-01T12:00:20.000Z');
    assert.equal(after.bindingMode, 'live');
    assert.match(
      fleet.files.get(`${inst.address}:/root/.ssh/authorized_keys`)?.content ?? '',
      /^expiry-time="20260601120020Z" ssh-ed25519 /m,
    );

    assert.equal(await sweeper.sweep(), 0, 'nothing is due before the expiry');
    // The task's own timers may have moved the fake clock a little: go to the expiry exactly.
    await clock.advance(after.keyExpiresAt!.getTime() - clock.now().getTime());
    assert.equal(await sweeper.sweep(), 0, 'the second named is not past yet: sshd still accepts the key in it');
    await clock.advance(999);
    assert.equal(await sweeper.sweep(), 0, 'the last millisecond of that second');
    await clock.advance(1);
    assert.equal(await sweeper.sweep(), 1, 'from the next second sshd refuses the key, and keyfleet unbinds it');
    assert.equal(await sweeper.sweep(), 0, 'claimed once');
    const tasks = (await store.tasks.list({ accountId: 'acc-1', offset: 0, limit: 100 })).items;
    const expiry = tasks.find((t) => t.options.endsExpiry !== undefined && t.keyPairName === keyPair.name)!;
    assert.ok(expiry, 'the unbind is in the task list');
    assert.deepEqual(
      [expiry.kind, expiry.mode, expiry.face, expiry.createdBy, expiry.options.endsExpiry],
      ['unbind', 'on-restart', 'system', 'system', '2026-06-01T12:00:20.000Z'],
    );
    assert.deepEqual(
      audited.map((a) => [a.action, a.caller.face, a.caller.userName, a.taskId]),
      [['keypair:Unbind', 'system', 'keyfleet', expiry.id]],
    );
    assert.equal((await untilFinished(clock, expiry.id)).status, 'succeeded');
    const unbound = (await store.instances.get('acc-1', inst.id))!;
    assert.deepEqual(
      [unbound.keyPairName, unbound.keyExpiresAt ?? null, unbound.desiredPublicKey, unbound.pendingRestart],
      [null, null, null, true],
      'unbound in the record; the machine takes it at its next start',
    );
    assert.equal(
      unbound.appliedPublicKey,
      PUBLIC_KEY,
      'until then the machine keeps the line (and refuses the key by its expiry)',
    );
    await runner.close();
  });

  test('a binding extended after its expiry was claimed is left as it is by that unbind', async () => {
    const clock = fakeClock(NOW);
    const { runner, binding } = setup(clock);
    const { keyPair, instances } = await seed(store, 1);
    const inst = instances[0]!;
    const bind = (expiresIn: string) =>
      binding.submit(alice(), {
        regionId: REGION,
        kind: 'bind',
        keyPairName: keyPair.name,
        instanceIds: [inst.id],
        mode: 'on-restart',
        expiresIn,
        maxBatch: 50,
      });
    await untilFinished(clock, (await bind('10s')).id);
    await clock.advance(12_000);
    // A sweeper whose task has not run yet (it kicks nothing) while the binding is bound again with a later expiry.
    const held = createExpirySweeper({
      store,
      clock,
      ids: { next: (p) => `${p}${++n}`, uuid: () => `task-${++n}`, random: () => 0.5 },
      logger: quiet,
      kick: () => {},
      audit: async () => {},
    });
    assert.equal(await held.sweep(), 1);
    await untilFinished(clock, (await bind('1h')).id);
    const tasks = (await store.tasks.list({ accountId: 'acc-1', offset: 0, limit: 100 })).items;
    const stale = tasks.find((t) => t.options.endsExpiry !== undefined && t.keyPairName === keyPair.name)!;
    runner.kick(stale.id);
    assert.equal((await untilFinished(clock, stale.id)).status, 'succeeded');
    const now = (await store.instances.get('acc-1', inst.id))!;
    assert.equal(now.keyPairName, keyPair.name, 'still bound');
    assert.equal(now.keyExpiresAt?.toISOString(), new Date(NOW.getTime() + 12_000 + 3_600_000).toISOString());
    const items = (await store.tasks.items(stale.id, { offset: 0, limit: 10 })).items;
    assert.match(items[0]!.note ?? '', /nothing changed/);
    await runner.close();
  });

  test('a bind with an expiry is refused on a registered host without a management key, and an unbind takes none', async () => {
    const clock = fakeClock(NOW);
    const { runner, binding } = setup(clock);
    const { keyPair, instances } = await seed(store, 1, { backend: 'host' });
    const refused = await binding
      .submit(alice(), {
        regionId: REGION,
        kind: 'bind',
        keyPairName: keyPair.name,
        instanceIds: [instances[0]!.id],
        mode: 'live',
        expiresIn: '1h',
        maxBatch: 50,
      })
      .catch((err: unknown) => (isCoreError(err) ? err.code : String(err)));
    assert.equal(refused, 'Binding.ExpiryNeedsManagementKey');
    const unbind = await binding
      .submit(alice(), {
        regionId: REGION,
        kind: 'unbind',
        instanceIds: [instances[0]!.id],
        mode: 'live',
        expiresIn: '1h',
        maxBatch: 50,
      })
      .catch((err: unknown) => (isCoreError(err) ? err.code : String(err)));
    assert.equal(unbind, 'Input.Invalid');
    await runner.close();
  });
});

describe('exactly once on PostgreSQL: two sweepers over the same due expiries', {
  skip: !PG_URL && 'needs KEYFLEET_TEST_PG_URL',
}, () => {
  test('every due expiry gets one unbind task, whichever sweeper claims it', async () => {
    const db = await freshPostgres();
    const [a, b] = [
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
    ];
    try {
      await a.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
      const { instances } = await seed(
        a,
        40,
        { keyExpiresAt: new Date(NOW.getTime() - 1000), bindingMode: 'live' },
        true,
      );
      const clock = fakeClock(NOW);
      const sweeperOn = (store: Store, tag: string) =>
        createExpirySweeper({
          store,
          clock,
          ids: { next: (p) => `${p}${++n}`, uuid: () => `${tag}-task-${++n}`, random: () => 0.5 },
          logger: quiet,
          kick: () => {},
          audit: async () => {},
        });
      const made = await Promise.all([sweeperOn(a, 'a').sweep(), sweeperOn(b, 'b').sweep(), sweeperOn(a, 'c').sweep()]);
      assert.equal(
        made.reduce((x, y) => x + y, 0),
        instances.length,
        `made ${made.join('+')}`,
      );
      const tasks = (await a.tasks.list({ accountId: 'acc-1', offset: 0, limit: 1000 })).items;
      assert.equal(tasks.length, instances.length);
      const per = new Map<string, number>();
      for (const t of tasks) {
        const items = (await a.tasks.items(t.id, { offset: 0, limit: 10 })).items;
        for (const i of items) per.set(i.instanceId, (per.get(i.instanceId) ?? 0) + 1);
      }
      assert.deepEqual(
        instances.map((i) => per.get(i.id)),
        instances.map(() => 1),
      );
      assert.equal(await sweeperOn(b, 'd').sweep(), 0);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  test('a failed expiry unbind is made again once, after the retry period, whichever sweeper retries it', async () => {
    const db = await freshPostgres();
    const [a, b] = [
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
      await openStore({ dataDir: tempDir(), databaseUrl: db.url }),
    ];
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      await a.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
      const { instances } = await seed(
        a,
        20,
        { keyExpiresAt: new Date(NOW.getTime() - 1000), bindingMode: 'live', backend: 'host' },
        true,
      );
      const clock = fakeClock(NOW);
      const sweeperOn = (store: Store, tag: string) =>
        createExpirySweeper({
          store,
          clock,
          ids: { next: (p) => `${p}${++n}`, uuid: () => `${tag}-task-${++n}`, random: () => 0.5 },
          logger: quiet,
          kick: () => {},
          audit: async () => {},
          retryMs: 60_000,
        });
      assert.equal(await sweeperOn(a, 'first').sweep(), instances.length);
      // Every unbind fails (the hosts were unreachable through every attempt of its task).
      const first = (await sql.query(`select id from tasks order by id`)).rows.map((r) => r.id as string);
      await sql.query(`update tasks set status = 'failed', failed = 1, finished_at = $1`, [NOW.getTime()]);
      assert.equal(await sweeperOn(b, 'early').sweep(), 0, 'nothing is retried before the retry period');
      await clock.advance(61_000);
      const made = await Promise.all([
        sweeperOn(a, 'ra').sweep(),
        sweeperOn(b, 'rb').sweep(),
        sweeperOn(a, 'rc').sweep(),
      ]);
      assert.equal(
        made.reduce((x, y) => x + y, 0),
        instances.length,
        `one retry per failed unbind: ${made.join('+')}`,
      );
      const retries = (
        await sql.query(`select id, options from tasks where not (id = any($1)) order by id`, [first])
      ).rows.map((r) => ({
        id: r.id as string,
        options: typeof r.options === 'string' ? JSON.parse(r.options) : r.options,
      }));
      assert.equal(retries.length, instances.length);
      assert.deepEqual(
        retries.map((r) => r.options.retryOf).sort(),
        [...first].sort(),
        'each retry names the failed task it retries, each failed task retried once',
      );
      assert.equal(await sweeperOn(b, 'again').sweep(), 0, 'a retry still running is not retried');
      // A retry that succeeded ends it: the record no longer has that expiry (as the runner leaves it).
      await sql.query(`update instances set key_expires_at = null, key_pair_id = null, key_pair_name = null`);
      await sql.query(`update tasks set status = 'succeeded', finished_at = $1 where not (id = any($2))`, [
        NOW.getTime(),
        first,
      ]);
      await clock.advance(61_000);
      assert.equal(await sweeperOn(a, 'after').sweep(), 0);
    } finally {
      await sql.end();
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});

function alice(): Caller {
  return {
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
  };
}

async function seed(
  store: Store,
  count: number,
  over: Partial<Instance> = {},
  bound = false,
): Promise<{ keyPair: KeyPair; instances: Instance[] }> {
  const tag = ++n;
  const keyPair: KeyPair = {
    id: `kp-${tag}`,
    accountId: 'acc-1',
    regionId: REGION,
    name: `web-${tag}`,
    algorithm: 'ssh-ed25519',
    bits: 256,
    publicKey: PUBLIC_KEY,
    fingerprintMd5: 'MD5:00',
    fingerprintSha256: 'SHA256:00',
    resourceGroupId: 'rg-1',
    tags: [],
    description: '',
    createdAt: new Date(0),
    escrowedPrivateKey: null,
  };
  await store.transaction((tx) => tx.keyPairs.insert(keyPair));
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const id = `i-${tag}x${i}`;
    const inst: Instance = {
      id,
      accountId: 'acc-1',
      regionId: REGION,
      zoneId: `${REGION}-a`,
      name: id,
      hostName: 'h',
      description: '',
      imageId: 'img',
      instanceType: 't',
      osType: 'linux',
      osName: 'Linux',
      status: 'Running',
      backend: 'sim',
      address: `127.17.${tag % 250}.${i + 1}`,
      sshPort: 2222,
      loginUser: 'root',
      resourceGroupId: 'rg-1',
      tags: [],
      createdAt: new Date(0),
      updatedAt: new Date(0),
      keyPairId: bound ? keyPair.id : null,
      keyPairName: bound ? keyPair.name : null,
      desiredPublicKey: bound ? PUBLIC_KEY : null,
      pendingPasswordHash: null,
      appliedPublicKey: bound ? PUBLIC_KEY : null,
      appliedPasswordLogin: !bound,
      pendingRestart: false,
      hasPassword: true,
      hostKeySha256: null,
      startAfterProvision: true,
      ...over,
    };
    await store.transaction((tx) => tx.instances.insert(inst));
    instances.push(inst);
  }
  return { keyPair, instances };
}
