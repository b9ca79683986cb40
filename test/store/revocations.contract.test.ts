/**
 * The store's side of revocations (issue 19), on the embedded store and on PostgreSQL (the test command's throwaway
 * server): a revocation and its machines read back as written; a due revocation is leased to exactly one process,
 * also when two processes (two stores on one database) claim at the same moment; a machine's outcome and the
 * revocation's end are written only under the lease; an expired lease is taken over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { emptyCounts, type Revocation, type RevocationMachine } from '../../src/core/revocation/revocation.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function revocation(id: string, over: Partial<Revocation> = {}): Revocation {
  return {
    id,
    accountId: 'acc-rv',
    regionId: 'cn-hangzhou',
    status: 'applying',
    target: { kind: 'publicKey' },
    key: { type: 'ssh-ed25519', base64: 'AAAA', fingerprintSha256: 'SHA256:x', fingerprintMd5: 'MD5:00' },
    keyPairNames: [],
    includeUnmanaged: true,
    retryUntil: at(3_600_000),
    createdBy: 'u-1',
    submitter: { userName: 'admin', accessKeyId: null, sessionId: null, sourceIp: '127.0.0.1' },
    face: 'native',
    requestId: 'req-1',
    createdAt: T0,
    appliedAt: T0,
    finishedAt: null,
    nextRunAt: T0,
    machineCount: 2,
    counts: emptyCounts(),
    ...over,
  };
}

function machine(revocationId: string, seq: number): RevocationMachine {
  return {
    revocationId,
    seq,
    instanceId: `i-${seq}`,
    backend: 'host',
    name: `h${seq}`,
    address: `127.0.0.${seq}`,
    sshPort: 22,
    boundKeyPairName: seq === 1 ? 'kp' : null,
    copies: [
      {
        account: 'root',
        user: 'root',
        path: '/root/.ssh/authorized_keys',
        line: 3,
        inBlock: false,
        managed: false,
        hasOptions: true,
      },
    ],
    users: ['u', 'root'],
    files: [{ account: 'user', user: 'u', path: '/home/u/.ssh/authorized_keys' }],
    scanError: null,
    state: 'pending',
    detail: null,
    verifiedAt: null,
    attempts: 0,
    nextAttemptAt: T0,
    unbindTaskId: null,
    removedLines: 0,
    updatedAt: T0,
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`revocations in the store (${kind})`, () => {
    let store: OpenedStore;
    let other: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      if (kind === 'postgres') {
        assert.ok(PG_URL, 'KEYFLEET_TEST_PG_URL must be set (scripts/test.sh starts a throwaway PostgreSQL)');
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
        other = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else {
        store = await openStore({ dataDir: tempDir() });
        other = store;
      }
      await store.accounts.insertAccount({ id: 'acc-rv', name: 'rv', createdAt: T0 });
    });
    after(async () => {
      if (other !== store) await other?.close();
      await store?.close();
      await drop();
    });

    test('a revocation and its machines read back as written; counts by state', async () => {
      const r = revocation('rv-read', { status: 'planned', nextRunAt: null });
      await store.transaction((tx) => tx.revocations.insert(r, [machine(r.id, 1), machine(r.id, 2)]));
      assert.deepEqual(await store.revocations.get('acc-rv', r.id), r);
      assert.equal(await store.revocations.get('other-account', r.id), null, 'another account never sees it');
      const page = await store.revocations.machines(r.id, { offset: 0, limit: 10 });
      assert.deepEqual(page.items, [machine(r.id, 1), machine(r.id, 2)]);
      assert.equal((await store.revocations.machines(r.id, { state: 'refused', offset: 0, limit: 10 })).total, 0);
      assert.deepEqual(await store.revocations.countStates(r.id), { ...emptyCounts(), pending: 2 });
      // A planned revocation is never claimed.
      assert.deepEqual(await store.revocations.claimDue('p1', at(1000), at(61_000), 10), []);
    });

    test('claimed by exactly one of two processes claiming at once, many times over', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `rv-race-${i}`);
      for (const id of ids) await store.revocations.insert(revocation(id), [machine(id, 1)]);
      const claimed: Array<[string, string]> = [];
      for (let round = 0; round < 20; round++) {
        const [a, b] = await Promise.all([
          store.revocations.claimDue('p1', at(1000), at(61_000), 2),
          other.revocations.claimDue('p2', at(1000), at(61_000), 2),
        ]);
        claimed.push(...a.map((r): [string, string] => [r.id, 'p1']), ...b.map((r): [string, string] => [r.id, 'p2']));
      }
      assert.deepEqual(claimed.map(([id]) => id).sort(), [...ids].sort(), 'each revocation claimed once');
      // Each holder finishes its own; the other's attempt changes nothing.
      for (const [id, owner] of claimed) {
        const done = revocation(id, { status: 'finished', nextRunAt: null });
        assert.equal(await store.revocations.update(done, owner === 'p1' ? 'p2' : 'p1', 'applying'), false);
        assert.equal(await store.revocations.update(done, owner, 'applying'), true);
      }
    });

    test('outcomes are written only under the lease; an expired lease is taken over', async () => {
      const r = revocation('rv-lease');
      await store.revocations.insert(r, [machine(r.id, 1)]);
      await store.revocations.putCredential(r.id, 'sealed-credential');
      const [mine] = await store.revocations.claimDue('p1', at(1000), at(61_000), 10);
      assert.equal(mine?.id, r.id);
      assert.deepEqual(
        await other.revocations.claimDue('p2', at(2000), at(62_000), 10),
        [],
        'leased: not claimed again',
      );
      const refused: RevocationMachine = {
        ...machine(r.id, 1),
        state: 'refused',
        verifiedAt: at(3000),
        detail: 'publickey query refused',
      };
      assert.equal(await other.revocations.updateMachine(refused, 'p2'), false, 'not the lease holder');
      assert.equal(await store.revocations.holds(r.id, 'p1', at(61_000)), true);
      // p1 stops answering; its lease runs out and p2 takes the revocation over.
      const [taken] = await other.revocations.claimDue('p2', at(62_000), at(122_000), 10);
      assert.equal(taken?.id, r.id);
      assert.equal(
        await store.revocations.updateMachine(refused, 'p1'),
        false,
        'a late write of the old holder is refused',
      );
      assert.equal(await store.revocations.holds(r.id, 'p1', at(123_000)), false);
      assert.equal(await other.revocations.updateMachine(refused, 'p2'), true);
      const done = { ...r, status: 'finished' as const, finishedAt: at(63_000), nextRunAt: null };
      assert.equal(await store.revocations.update(done, 'p1', 'applying'), false);
      assert.equal(await other.revocations.update(done, 'p2', 'applying'), true);
      assert.equal(await other.revocations.update(done, 'p2', 'applying'), false, 'finished once');
      assert.equal(await store.revocations.credential(r.id), null, 'the credential is wiped when it finishes');
      const back = await store.revocations.get('acc-rv', r.id);
      assert.equal(back?.status, 'finished');
      assert.deepEqual(await store.revocations.countStates(r.id), { ...emptyCounts(), refused: 1 });
    });
  });
}
