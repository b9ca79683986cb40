/**
 * The store contract: one suite, run against the embedded SQLite store and against PostgreSQL (a throwaway
 * server started by the test command; KEYFLEET_TEST_PG_URL). Each run gets a fresh database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isCoreError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import { IMPORT_KIND, type Task, type TaskItem } from '../../src/core/task/task.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-01-01T00:00:00Z');

function keyPair(over: Partial<KeyPair> = {}): KeyPair {
  return {
    id: 'kp-' + randomUUID().slice(0, 8),
    accountId: 'acc-1',
    regionId: 'cn-hangzhou',
    name: 'k1',
    algorithm: 'ssh-ed25519',
    bits: 256,
    publicKey: 'ssh-ed25519 AAAA k1',
    fingerprintMd5: 'MD5:00:11',
    fingerprintSha256: 'SHA256:abc',
    resourceGroupId: 'rg-1',
    tags: [],
    description: '',
    createdAt: T0,
    escrowedPrivateKey: null,
    ...over,
  };
}

function instance(over: Partial<Instance> = {}): Instance {
  const id = over.id ?? 'i-' + randomUUID().replace(/-/g, '').slice(0, 20);
  return {
    id,
    accountId: 'acc-1',
    regionId: 'cn-hangzhou',
    zoneId: 'cn-hangzhou-a',
    name: id,
    hostName: 'h',
    description: '',
    imageId: 'img',
    instanceType: 't',
    osType: 'linux',
    osName: 'Linux',
    status: 'Running',
    backend: 'sim',
    address: '127.16.' + Math.floor(Math.random() * 250) + '.' + Math.floor(1 + Math.random() * 250),
    sshPort: 2222,
    loginUser: 'root',
    resourceGroupId: 'rg-1',
    tags: [],
    createdAt: T0,
    updatedAt: T0,
    keyPairId: null,
    keyPairName: null,
    desiredPublicKey: null,
    pendingPasswordHash: null,
    appliedPublicKey: null,
    appliedPasswordLogin: true,
    pendingRestart: false,
    hasPassword: false,
    hostKeySha256: null,
    startAfterProvision: true,
    verifiedAt: null,
    verification: null,
    ...over,
  };
}

function task(id: string, total: number): { task: Task; items: TaskItem[] } {
  return {
    task: {
      id,
      accountId: 'acc-1',
      regionId: 'cn-hangzhou',
      kind: 'bind',
      mode: 'on-restart',
      keyPairId: 'kp',
      keyPairName: 'k',
      status: 'queued',
      total,
      succeeded: 0,
      failed: 0,
      face: 'native',
      requestId: 'r',
      createdBy: 'u',
      createdAt: T0,
      startedAt: null,
      finishedAt: null,
      options: { port: 22 },
    },
    items: Array.from({ length: total }, (_, seq) => ({
      taskId: id,
      seq,
      instanceId: `i-${seq}`,
      status: 'pending' as const,
      attempts: 0,
      errorCode: null,
      errorMessage: null,
      note: null,
      startedAt: null,
      finishedAt: null,
    })),
  };
}

async function seedAccount(store: OpenedStore): Promise<void> {
  await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: T0 });
  await store.accounts.insertAccount({ id: 'acc-2', name: 'two', createdAt: T0 });
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`store contract (${kind})`, () => {
    let store: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;
    let reopen: () => Promise<OpenedStore>;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
        reopen = () => openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else {
        const dir = tempDir();
        store = await openStore({ dataDir: dir });
        reopen = () => openStore({ dataDir: dir });
      }
      assert.equal(store.dialect, kind);
      await seedAccount(store);
    });
    after(async () => {
      await store.close();
      await drop();
    });

    test('migrations are idempotent: opening the same database again sees the same data', async () => {
      const again = await reopen();
      try {
        assert.equal((await again.accounts.getAccount('acc-1'))?.name, 'one');
      } finally {
        await again.close();
      }
    });

    test('key pairs: insert, get, unique name per account+region, same name elsewhere allowed', async () => {
      const kp = keyPair({ name: 'web', tags: [{ key: 'team', value: 'infra' }] });
      await store.keyPairs.insert(kp);
      const got = await store.keyPairs.get('acc-1', 'cn-hangzhou', 'web');
      assert.deepEqual(got, kp);
      await assert.rejects(
        store.keyPairs.insert(keyPair({ name: 'web' })),
        (e) => isCoreError(e) && e.code === 'KeyPair.AlreadyExists',
      );
      await store.keyPairs.insert(keyPair({ name: 'web', regionId: 'cn-shanghai' }));
      await store.keyPairs.insert(keyPair({ name: 'web', accountId: 'acc-2' }));
      assert.equal(await store.keyPairs.count('acc-1', 'cn-hangzhou'), 1);
      assert.equal(await store.keyPairs.get('acc-2', 'cn-shanghai', 'web'), null);
    });

    test('key pairs: wildcard names are case-sensitive, LIKE metacharacters are literal, fingerprints and tags filter', async () => {
      for (const name of ['SshKey1', 'sshkey2', 'my_SshKey', 'my%key', 'a-SshKey-b']) {
        await store.keyPairs.insert(
          keyPair({
            name,
            fingerprintSha256: 'SHA256:' + name,
            tags: name.startsWith('my') ? [{ key: 'env', value: 'prod' }] : [],
          }),
        );
      }
      const names = async (f: Record<string, unknown>) =>
        (await store.keyPairs.list({ accountId: 'acc-1', regionId: 'cn-hangzhou', offset: 0, limit: 50, ...f })).items
          .map((k) => k.name)
          .sort();
      assert.deepEqual(await names({ namePattern: 'SshKey*' }), ['SshKey1']);
      assert.deepEqual(await names({ namePattern: '*SshKey*' }), ['SshKey1', 'a-SshKey-b', 'my_SshKey']);
      assert.deepEqual(await names({ namePattern: 'my%*' }), ['my%key']);
      assert.deepEqual(await names({ namePattern: 'my_*' }), ['my_SshKey']);
      assert.deepEqual(await names({ namePattern: 'sshkey2' }), ['sshkey2']);
      assert.deepEqual(await names({ fingerprint: 'SHA256:sshkey2' }), ['sshkey2']);
      assert.deepEqual(await names({ tags: [{ key: 'env', value: 'prod' }] }), ['my%key', 'my_SshKey']);
      assert.deepEqual(await names({ tags: [{ key: 'env', value: 'dev' }] }), []);
      const page = await store.keyPairs.list({
        accountId: 'acc-1',
        regionId: 'cn-hangzhou',
        namePattern: '*',
        offset: 1,
        limit: 2,
      });
      assert.equal(page.items.length, 2);
      assert.equal(page.total, 6);
    });

    test('key pairs: update and delete (scoped to the account)', async () => {
      const kp = keyPair({ name: 'to-delete' });
      await store.keyPairs.insert(kp);
      await store.keyPairs.update({ ...kp, description: 'changed', escrowedPrivateKey: 'kf1.sealed' });
      assert.equal((await store.keyPairs.getById('acc-1', kp.id))?.description, 'changed');
      await store.keyPairs.delete('acc-2', [kp.id]);
      assert.ok(await store.keyPairs.getById('acc-1', kp.id), 'another account cannot delete it');
      await store.keyPairs.delete('acc-1', [kp.id]);
      assert.equal(await store.keyPairs.getById('acc-1', kp.id), null);
    });

    test('instances: round trip, search, filters, bound-to, tenant scoping', async () => {
      const a = instance({
        name: 'web-01',
        keyPairId: 'kp-x',
        keyPairName: 'x',
        pendingRestart: true,
        tags: [{ key: 'a', value: 'b' }],
      });
      const b = instance({ name: 'DB-01', status: 'Stopped', startAfterProvision: false });
      const other = instance({ accountId: 'acc-2', name: 'web-02' });
      for (const i of [a, b, other]) await store.instances.insert(i);
      assert.deepEqual(await store.instances.get('acc-1', a.id), a);
      assert.deepEqual(await store.instances.get('acc-1', b.id), b, 'a machine created stopped keeps that (0007)');
      assert.equal(await store.instances.get('acc-2', a.id), null);
      const list = async (f: Record<string, unknown>) =>
        (await store.instances.list({ accountId: 'acc-1', offset: 0, limit: 100, ...f })).items
          .map((i) => i.name)
          .sort();
      assert.deepEqual(await list({ search: 'WEB' }), ['web-01']);
      assert.deepEqual(await list({ search: 'db-' }), ['DB-01']);
      assert.deepEqual(await list({ status: 'Stopped' }), ['DB-01']);
      assert.deepEqual(await list({ pendingRestart: true }), ['web-01']);
      assert.deepEqual(await list({ keyPairName: 'x' }), ['web-01']);
      assert.deepEqual(await list({ ids: [] }), []);
      assert.deepEqual((await store.instances.boundTo('acc-1', 'kp-x', 10)).items, [a.id]);
      await store.instances.update({ ...a, keyPairId: null, keyPairName: null });
      assert.equal((await store.instances.boundTo('acc-1', 'kp-x', 10)).total, 0);
    });

    test('instances: a registered host keeps its access profile (migrations 0003-0005); a simulated one has none', async () => {
      const host = instance({
        name: 'real-01',
        backend: 'host',
        host: {
          homeDir: '/home/deploy',
          dropInPath: '/etc/ssh/sshd_config.d/10-keyfleet.conf',
          reloadCommand: 'systemctl reload ssh',
          validateCommand: 'sshd -t',
          managementUser: 'root',
          sealedManagementKey: 'sealed:abc',
          passwordLogin: 'unmanaged',
          sudo: true,
        },
      });
      await store.instances.insert(host);
      assert.deepEqual(await store.instances.get('acc-1', host.id), host);
      await store.instances.update({
        ...host,
        host: { ...host.host!, sealedManagementKey: null, passwordLogin: 'managed', sudo: false },
      });
      assert.equal((await store.instances.get('acc-1', host.id))!.host!.sealedManagementKey, null);
      assert.equal((await store.instances.get('acc-1', host.id))!.host!.passwordLogin, 'managed');
      assert.equal((await store.instances.get('acc-1', host.id))!.host!.sudo, false);
      const sim = instance({ name: 'sim-01' });
      await store.instances.insert(sim);
      assert.equal((await store.instances.get('acc-1', sim.id))!.host, undefined);
    });

    test('sequences are unique under concurrent callers', async () => {
      const values = await Promise.all(
        Array.from({ length: 50 }, () => store.transaction((tx) => tx.instances.nextSequence('contract'))),
      );
      assert.equal(new Set(values).size, 50);
      assert.equal(Math.max(...values), 50);
    });

    test('transactions roll back on error', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.keyPairs.insert(keyPair({ name: 'rolled-back' }));
          throw new Error('boom');
        }),
      );
      assert.equal(await store.keyPairs.get('acc-1', 'cn-hangzhou', 'rolled-back'), null);
    });

    // SQLite commits the transactions of one moment together (group-commit.ts): each must still stand alone.
    test('transactions started together: each one commits or rolls back on its own, and gets its own result', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, n) =>
          store.transaction(async (tx) => {
            await tx.keyPairs.insert(keyPair({ name: `together-${n}` }));
            // Every third fails after its write; a failure after the write must take only that write back.
            if (n % 3 === 1) throw new Error(`boom ${n}`);
            await tx.keyPairs.insert(keyPair({ name: `together-${n}-second` }));
            return n * 10;
          }),
        ),
      );
      for (const [n, o] of outcomes.entries()) {
        const failed = n % 3 === 1;
        if (failed) assert.equal(o.status === 'rejected' && (o.reason as Error).message, `boom ${n}`);
        else assert.deepEqual(o, { status: 'fulfilled', value: n * 10 });
        assert.equal(
          (await store.keyPairs.get('acc-1', 'cn-hangzhou', `together-${n}`)) === null,
          failed,
          `together-${n}`,
        );
        assert.equal(
          (await store.keyPairs.get('acc-1', 'cn-hangzhou', `together-${n}-second`)) === null,
          failed,
          `together-${n}-second`,
        );
      }
      // A constraint violation in one (the same name twice) fails that one only.
      const clash = await Promise.allSettled([
        store.transaction((tx) => tx.keyPairs.insert(keyPair({ name: 'together-clash' }))),
        store.transaction((tx) => tx.keyPairs.insert(keyPair({ name: 'together-clash' }))),
        store.transaction((tx) => tx.keyPairs.insert(keyPair({ name: 'together-after-clash' }))),
      ]);
      // Which of the two clashing transactions wins is not ours to assume (on PostgreSQL they are separate
      // connections): exactly one of them commits, the other gets the store's error, the third is untouched.
      const pair = clash.slice(0, 2);
      assert.equal(pair.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one of the clashing pair commits');
      const lost = pair.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.ok(lost && isCoreError(lost.reason), "the clash is the store's KeyPair.AlreadyExists");
      assert.equal(clash[2]!.status, 'fulfilled');
      assert.ok(await store.keyPairs.get('acc-1', 'cn-hangzhou', 'together-after-clash'));
    });

    test('tasks: 10,000 items, claims never overlap, finish needs the lease owner, refresh counts', async () => {
      const { task: t, items } = task(randomUUID(), 10_000);
      await store.transaction((tx) => tx.tasks.insert(t, items));
      const now = new Date();
      const lease = new Date(now.getTime() + 60_000);
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, n) => store.tasks.claimItems(t.id, `w${n}`, now, lease, 700)),
      );
      const seqs = claims.flat().map((i) => i.seq);
      assert.equal(seqs.length, 5600);
      assert.equal(new Set(seqs).size, 5600, 'no item is claimed twice');
      const mine = claims[0]![0]!;
      assert.equal(mine.status, 'running');
      assert.equal(mine.attempts, 1);
      assert.equal(
        await store.tasks.finishItem({ ...mine, status: 'succeeded', finishedAt: now }, 'someone-else'),
        false,
      );
      assert.equal(await store.tasks.finishItem({ ...mine, status: 'succeeded', finishedAt: now }, 'w0'), true);
      assert.equal(
        await store.tasks.finishItem({ ...mine, status: 'succeeded', finishedAt: now }, 'w0'),
        false,
        'finishing twice is refused',
      );
      const second = claims[0]![1]!;
      assert.equal(
        await store.tasks.finishItem(
          { ...second, status: 'failed', errorCode: 'Instance.NotFound', errorMessage: 'gone', finishedAt: now },
          'w0',
        ),
        true,
      );
      let r = await store.tasks.refresh(t.id, now);
      assert.equal(r.succeeded, 1);
      assert.equal(r.failed, 1);
      assert.equal(r.finishedAt, null);
      assert.equal((await store.tasks.items(t.id, { status: 'failed' })).items[0]?.errorCode, 'Instance.NotFound');
      // A crash: the leases of dead workers are released and their items can be claimed again.
      assert.equal(await store.tasks.releaseLeases('expired', now), 0);
      assert.equal(await store.tasks.releaseLeases('all', now), 5598);
      const again = await store.tasks.claimItems(t.id, 'w9', now, lease, 20_000);
      assert.equal(again.length, 9998);
      assert.ok(again.some((i) => i.attempts === 2));
      for (const i of again) await store.tasks.finishItem({ ...i, status: 'succeeded', finishedAt: now }, 'w9');
      r = await store.tasks.refresh(t.id, now);
      assert.equal(r.status, 'partial');
      assert.ok(r.finishedAt);
      assert.equal(
        (await store.tasks.unfinished()).some((u) => u.id === t.id),
        false,
      );
      assert.equal((await store.tasks.list({ accountId: 'acc-2', offset: 0, limit: 10 })).total, 0);
    });

    test('task item payload: stored with the item, claimed with it, replaced with the instance id when the item finishes; bind items carry none', async () => {
      const { task: t, items } = task(randomUUID(), 3);
      t.kind = IMPORT_KIND;
      t.mode = 'live';
      const rows: TaskItem[] = items.map((i) => ({
        ...i,
        instanceId: '',
        payload: {
          line: i.seq + 2,
          name: `web${i.seq}`,
          address: `10.0.0.${i.seq}`,
          port: 22,
          sudo: false,
          homeDir: null,
        },
      }));
      rows[2] = { ...items[2]!, payload: null };
      await store.transaction((tx) => tx.tasks.insert(t, rows));
      assert.equal((await store.tasks.get('acc-1', t.id))?.kind, 'import');
      const now = new Date(T0.getTime() + 1000);
      const claimed = await store.tasks.claimItems(t.id, 'w0', now, new Date(now.getTime() + 60_000), 10);
      assert.deepEqual(
        claimed.map((i) => i.payload),
        [rows[0]!.payload, rows[1]!.payload, null],
      );
      assert.equal(claimed[0]!.instanceId, '');
      const produced = { ...claimed[0]!.payload!, hostKeySha256: 'SHA256:x' };
      // A finish under another owner changes nothing, payload included.
      assert.equal(
        await store.tasks.finishItem(
          { ...claimed[0]!, instanceId: 'i-new', payload: produced, status: 'succeeded', finishedAt: now },
          'w1',
        ),
        false,
      );
      assert.equal(
        await store.tasks.finishItem(
          { ...claimed[0]!, instanceId: 'i-new', payload: produced, status: 'succeeded', finishedAt: now },
          'w0',
        ),
        true,
      );
      assert.equal(
        await store.tasks.finishItem(
          { ...claimed[1]!, status: 'failed', errorCode: 'Live.Unreachable', errorMessage: 'no', finishedAt: now },
          'w0',
        ),
        true,
      );
      // An item without a payload keeps the instance id it was inserted with.
      assert.equal(
        await store.tasks.finishItem(
          { ...claimed[2]!, instanceId: 'i-ignored', status: 'succeeded', finishedAt: now },
          'w0',
        ),
        true,
      );
      const after = (await store.tasks.items(t.id)).items;
      assert.deepEqual(
        after.map((i) => i.instanceId),
        ['i-new', '', 'i-2'],
      );
      assert.deepEqual(
        after.map((i) => i.payload),
        [produced, rows[1]!.payload, null],
      );
      assert.equal((await store.tasks.refresh(t.id, now)).status, 'partial');
    });

    test('binding events: one per task item, enforced by the store', async () => {
      const e = {
        taskId: 't-ev',
        seq: 0,
        instanceId: 'i-1',
        accountId: 'acc-1',
        action: 'bind' as const,
        keyPairId: 'kp',
        keyPairName: 'k',
        mode: 'on-restart' as const,
        at: T0,
      };
      await store.events.insert(e);
      await assert.rejects(store.events.insert(e));
      assert.equal(await store.events.countByTask('t-ev'), 1);
      assert.equal((await store.events.forInstance('acc-1', 'i-1')).length, 1);
      assert.equal((await store.events.forInstance('acc-2', 'i-1')).length, 0);
    });

    test('accounts, users, access keys, sessions, resource groups', async () => {
      await store.accounts.insertUser({
        id: 'u-1',
        accountId: 'acc-1',
        name: 'admin',
        isAccountAdmin: true,
        isSystemAdmin: false,
        passwordHash: '$scrypt$x',
        createdAt: T0,
        policiesVersion: 0,
      });
      await assert.rejects(
        store.accounts.insertUser({
          id: 'u-2',
          accountId: 'acc-1',
          name: 'admin',
          isAccountAdmin: false,
          isSystemAdmin: false,
          passwordHash: null,
          createdAt: T0,
          policiesVersion: 0,
        }),
      );
      assert.equal((await store.accounts.getUserByName('acc-1', 'admin'))?.isAccountAdmin, true);
      await store.accounts.insertAccessKey({
        id: 'AK-0001-xyz',
        accountId: 'acc-1',
        userId: 'u-1',
        sealedSecret: 'kf1.x',
        status: 'Active',
        createdAt: T0,
      });
      await store.accounts.updateAccessKey({
        id: 'AK-0001-xyz',
        accountId: 'acc-1',
        userId: 'u-1',
        sealedSecret: 'kf1.y',
        status: 'Inactive',
        createdAt: T0,
      });
      assert.equal((await store.accounts.getAccessKey('AK-0001-xyz'))?.status, 'Inactive');
      await store.accounts.insertSession({
        id: 's-1',
        accountId: 'acc-1',
        userId: 'u-1',
        tokenHash: 'h1',
        regionId: null,
        createdAt: T0,
        expiresAt: new Date(T0.getTime() + 1000),
      });
      assert.equal((await store.accounts.getSessionByTokenHash('h1'))?.userId, 'u-1');
      await store.accounts.deleteSession('s-1');
      assert.equal(await store.accounts.getSessionByTokenHash('h1'), null);
      await store.accounts.insertResourceGroup({ id: 'rg-1', accountId: 'acc-1', name: 'default', createdAt: T0 });
      assert.deepEqual(
        (await store.accounts.listResourceGroups('acc-1')).map((g) => g.name),
        ['default'],
      );
      assert.equal(await store.accounts.getResourceGroup('acc-2', 'rg-1'), null);
    });

    test("policies: attach, detach and delete bump the user's policy version; listing joins correctly", async () => {
      const version = async () => (await store.accounts.getUser('acc-1', 'u-1'))!.policiesVersion;
      const doc = { Statement: [{ Effect: 'Allow' as const, Action: 'keypair:Describe', Resource: '*' }] };
      await store.accounts.insertPolicy({
        id: 'pol-1',
        accountId: 'acc-1',
        name: 'read',
        description: '',
        document: doc,
        createdAt: T0,
        updatedAt: T0,
      });
      const v0 = await version();
      await store.accounts.attachPolicy('u-1', 'pol-1');
      await store.accounts.attachPolicy('u-1', 'pol-1');
      assert.ok((await version()) > v0);
      assert.deepEqual(
        (await store.accounts.policiesOfUser('acc-1', 'u-1')).map((p) => p.document),
        [doc],
      );
      assert.equal((await store.accounts.policiesOfUser('acc-2', 'u-1')).length, 0);
      assert.deepEqual(await store.accounts.attachmentsOfPolicy('acc-1', 'pol-1'), {
        users: [(await store.accounts.getUser('acc-1', 'u-1'))!.name],
        groups: [],
      });
      assert.deepEqual(
        await store.accounts.attachmentsOfPolicy('acc-2', 'pol-1'),
        { users: [], groups: [] },
        'another account sees no attachment',
      );
      const v1 = await version();
      await store.accounts.deletePolicy('acc-1', 'pol-1');
      assert.deepEqual(await store.accounts.attachmentsOfPolicy('acc-1', 'pol-1'), { users: [], groups: [] });
      assert.ok((await version()) > v1, 'deleting an attached policy changes the version');
      assert.equal((await store.accounts.policiesOfUser('acc-1', 'u-1')).length, 0);
    });

    test("groups (0006): unique name per account, members and policies in effect, every change bumps the members' policy version", async () => {
      const version = async (id: string) => (await store.accounts.getUser('acc-1', id))!.policiesVersion;
      const names = (ps: { name: string }[]) => ps.map((p) => p.name);
      await store.accounts.insertUser({
        id: 'u-g1',
        accountId: 'acc-1',
        name: 'g-one',
        isAccountAdmin: false,
        isSystemAdmin: false,
        passwordHash: null,
        createdAt: T0,
        policiesVersion: 0,
      });
      await store.accounts.insertUser({
        id: 'u-g2',
        accountId: 'acc-1',
        name: 'g-two',
        isAccountAdmin: false,
        isSystemAdmin: false,
        passwordHash: null,
        createdAt: T0,
        policiesVersion: 0,
      });
      await store.accounts.insertUser({
        id: 'u-g3',
        accountId: 'acc-2',
        name: 'g-other',
        isAccountAdmin: false,
        isSystemAdmin: false,
        passwordHash: null,
        createdAt: T0,
        policiesVersion: 0,
      });
      const doc = (a: string) => ({ Statement: [{ Effect: 'Allow' as const, Action: a, Resource: '*' }] });
      await store.accounts.insertPolicy({
        id: 'pol-g-own',
        accountId: 'acc-1',
        name: 'g-own',
        description: '',
        document: doc('keypair:Describe'),
        createdAt: T0,
        updatedAt: T0,
      });
      await store.accounts.insertPolicy({
        id: 'pol-g-grp',
        accountId: 'acc-1',
        name: 'g-grp',
        description: '',
        document: doc('instance:Describe'),
        createdAt: T0,
        updatedAt: T0,
      });
      await store.accounts.insertPolicy({
        id: 'pol-g-x',
        accountId: 'acc-2',
        name: 'g-x',
        description: '',
        document: doc('task:Describe'),
        createdAt: T0,
        updatedAt: T0,
      });

      await store.accounts.insertGroup({
        id: 'grp-1',
        accountId: 'acc-1',
        name: 'ops',
        description: 'operators',
        createdAt: T0,
      });
      await assert.rejects(
        store.accounts.insertGroup({ id: 'grp-dup', accountId: 'acc-1', name: 'ops', description: '', createdAt: T0 }),
        'a name is unique per account',
      );
      await store.accounts.insertGroup({
        id: 'grp-2',
        accountId: 'acc-2',
        name: 'ops',
        description: '',
        createdAt: T0,
      });
      assert.equal((await store.accounts.getGroupByName('acc-1', 'ops'))?.id, 'grp-1');
      assert.equal((await store.accounts.getGroupByName('acc-1', 'ops'))?.description, 'operators');
      assert.deepEqual(
        (await store.accounts.listGroups('acc-2')).map((g) => g.id),
        ['grp-2'],
      );

      await store.accounts.attachPolicy('u-g1', 'pol-g-own');
      let v = await version('u-g1');
      await store.transaction((tx) => tx.accounts.addGroupMember('acc-1', 'grp-1', 'u-g1'));
      await store.accounts.addGroupMember('acc-1', 'grp-1', 'u-g1'); // twice: one membership
      await store.accounts.addGroupMember('acc-1', 'grp-1', 'u-g2');
      assert.ok((await version('u-g1')) > v, 'joining a group bumps the version');
      assert.deepEqual(names(await store.accounts.membersOfGroup('acc-1', 'grp-1')), ['g-one', 'g-two']);
      assert.deepEqual(
        (await store.accounts.groupsOfUser('acc-1', 'u-g1')).map((g) => g.name),
        ['ops'],
      );
      // another account's ids are not reachable
      await store.accounts.addGroupMember('acc-1', 'grp-1', 'u-g3');
      await store.accounts.addGroupMember('acc-2', 'grp-1', 'u-g3');
      assert.deepEqual(
        names(await store.accounts.membersOfGroup('acc-1', 'grp-1')),
        ['g-one', 'g-two'],
        'no member of another account',
      );
      assert.deepEqual(await store.accounts.membersOfGroup('acc-2', 'grp-1'), []);
      await store.accounts.attachGroupPolicy('acc-1', 'grp-1', 'pol-g-x');
      await store.accounts.attachGroupPolicy('acc-2', 'grp-1', 'pol-g-grp');
      assert.deepEqual(
        await store.accounts.policiesOfGroup('acc-1', 'grp-1'),
        [],
        "no attachment of another account's policy or to another account's group",
      );

      v = await version('u-g2');
      await store.transaction((tx) => tx.accounts.attachGroupPolicy('acc-1', 'grp-1', 'pol-g-grp'));
      await store.accounts.attachGroupPolicy('acc-1', 'grp-1', 'pol-g-grp');
      assert.ok((await version('u-g2')) > v, 'attaching to a group bumps every member');
      assert.deepEqual(names(await store.accounts.policiesOfGroup('acc-1', 'grp-1')), ['g-grp']);
      assert.deepEqual(
        (await store.accounts.listGroups('acc-1')).map((g) => [g.name, g.memberCount, g.policyCount]),
        [['ops', 2, 1]],
        'listed with member and policy counts',
      );
      assert.deepEqual(
        (await store.accounts.listGroups('acc-2')).map((g) => [g.name, g.memberCount, g.policyCount]),
        [['ops', 0, 0]],
        "another account's group counts nothing of this one",
      );
      assert.deepEqual(
        names(await store.accounts.policiesInEffect('acc-1', 'u-g1')),
        ['g-grp', 'g-own'],
        'own and group policies',
      );
      assert.deepEqual(names(await store.accounts.policiesInEffect('acc-1', 'u-g2')), ['g-grp']);
      assert.deepEqual(
        names(await store.accounts.policiesOfUser('acc-1', 'u-g2')),
        [],
        'policiesOfUser stays the directly attached ones',
      );
      await store.accounts.attachPolicy('u-g1', 'pol-g-grp');
      assert.deepEqual(
        names(await store.accounts.policiesInEffect('acc-1', 'u-g1')),
        ['g-grp', 'g-own'],
        'a policy reached twice counts once',
      );
      assert.deepEqual(await store.accounts.policiesInEffect('acc-2', 'u-g1'), []);
      await store.accounts.detachPolicy('u-g1', 'pol-g-grp');

      v = await version('u-g2');
      await store.accounts.detachGroupPolicy('acc-1', 'grp-1', 'pol-g-grp');
      assert.ok((await version('u-g2')) > v, 'detaching from a group bumps every member');
      assert.deepEqual(names(await store.accounts.policiesInEffect('acc-1', 'u-g2')), []);
      await store.accounts.attachGroupPolicy('acc-1', 'grp-1', 'pol-g-grp');

      v = await version('u-g2');
      await store.transaction((tx) => tx.accounts.removeGroupMember('acc-1', 'grp-1', 'u-g2'));
      assert.ok((await version('u-g2')) > v, 'leaving a group bumps the version');
      assert.deepEqual(names(await store.accounts.policiesInEffect('acc-1', 'u-g2')), []);
      assert.deepEqual(await store.accounts.groupsOfUser('acc-1', 'u-g2'), []);
      await store.accounts.addGroupMember('acc-1', 'grp-1', 'u-g2');

      // deleting a policy attached to a group detaches it (as from users) and bumps the members
      await store.accounts.insertPolicy({
        id: 'pol-g-tmp',
        accountId: 'acc-1',
        name: 'g-tmp',
        description: '',
        document: doc('task:Delete'),
        createdAt: T0,
        updatedAt: T0,
      });
      await store.accounts.attachGroupPolicy('acc-1', 'grp-1', 'pol-g-tmp');
      v = await version('u-g2');
      await store.transaction((tx) => tx.accounts.deletePolicy('acc-1', 'pol-g-tmp'));
      assert.ok((await version('u-g2')) > v, "deleting a group's policy bumps its members");
      assert.deepEqual(names(await store.accounts.policiesOfGroup('acc-1', 'grp-1')), ['g-grp']);

      // deleting a user removes its memberships
      await store.transaction((tx) => tx.accounts.deleteUser('acc-1', 'u-g2'));
      assert.deepEqual(names(await store.accounts.membersOfGroup('acc-1', 'grp-1')), ['g-one']);

      // deleting a group removes memberships and attachments, and bumps the members; another account's group is untouched
      await store.accounts.attachGroupPolicy('acc-2', 'grp-2', 'pol-g-x');
      await store.accounts.addGroupMember('acc-2', 'grp-2', 'u-g3');
      await store.transaction((tx) => tx.accounts.deleteGroup('acc-2', 'grp-1'));
      assert.ok(await store.accounts.getGroupByName('acc-1', 'ops'), 'another account cannot delete the group');
      v = await version('u-g1');
      await store.transaction((tx) => tx.accounts.deleteGroup('acc-1', 'grp-1'));
      assert.ok((await version('u-g1')) > v, 'deleting a group bumps its members');
      assert.equal(await store.accounts.getGroupByName('acc-1', 'ops'), null);
      assert.deepEqual(await store.accounts.groupsOfUser('acc-1', 'u-g1'), []);
      assert.deepEqual(names(await store.accounts.policiesInEffect('acc-1', 'u-g1')), ['g-own']);
      assert.deepEqual(await store.accounts.policiesOfGroup('acc-1', 'grp-1'), []);
      assert.deepEqual(
        names(await store.accounts.policiesInEffect('acc-2', 'u-g3')),
        ['g-x'],
        "the other account's group still works",
      );
      // the name is free again, and the policy can be deleted now that nothing holds it
      await store.accounts.insertGroup({
        id: 'grp-3',
        accountId: 'acc-1',
        name: 'ops',
        description: '',
        createdAt: T0,
      });
      await store.accounts.deletePolicy('acc-1', 'pol-g-grp');
    });

    test('audit: append-only entries, filtered by time, user, action, result and resource, newest first', async () => {
      const base = {
        accountId: 'acc-1',
        userId: 'u-1',
        userName: 'admin',
        accessKeyId: null,
        sessionId: 's',
        face: 'native' as const,
        sourceIp: '127.0.0.1',
        requestId: 'r',
        errorCode: null,
      };
      await store.audit.append({
        ...base,
        id: 'ev-1',
        at: new Date(T0.getTime() + 1000),
        action: 'keypair:Create',
        resources: ['acs:ecs:cn-hangzhou:acc-1:keypair/web'],
        result: 'success',
      });
      await store.audit.append({
        ...base,
        id: 'ev-2',
        at: new Date(T0.getTime() + 2000),
        action: 'instance:Stop',
        resources: ['acs:ecs:cn-hangzhou:acc-1:instance/i-1'],
        result: 'failure',
        errorCode: 'Instance.IncorrectStatus',
      });
      await store.audit.append({
        ...base,
        id: 'ev-3',
        accountId: 'acc-2',
        at: new Date(T0.getTime() + 3000),
        action: 'keypair:Create',
        resources: ['acs:ecs:cn-hangzhou:acc-2:keypair/web'],
        result: 'success',
      });
      const q = async (f: Record<string, unknown>) =>
        (await store.audit.query({ accountId: 'acc-1', offset: 0, limit: 10, ...f })).items.map((e) => e.id);
      assert.deepEqual(await q({}), ['ev-2', 'ev-1']);
      assert.deepEqual(await q({ action: 'keypair:Create' }), ['ev-1']);
      assert.deepEqual(await q({ result: 'failure' }), ['ev-2']);
      assert.deepEqual(await q({ resource: 'instance/i-1' }), ['ev-2']);
      assert.deepEqual(await q({ resource: 'acs:ecs:cn-hangzhou:acc-1:keypair/web' }), ['ev-1']);
      assert.deepEqual(await q({ resource: 'keypair/we' }), [], 'a resource matches whole names only');
      assert.deepEqual(await q({ from: new Date(T0.getTime() + 1500) }), ['ev-2']);
      assert.deepEqual(await q({ userName: 'nobody' }), []);
      const [e] = (await store.audit.query({ accountId: 'acc-1', offset: 0, limit: 1 })).items;
      assert.equal(e!.errorCode, 'Instance.IncorrectStatus');
      assert.deepEqual(e!.resources, ['acs:ecs:cn-hangzhou:acc-1:instance/i-1']);
    });
  });
}
