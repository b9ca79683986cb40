/**
 * The store's side of re-observations (migration 0018, ADR 26), on the embedded store and on PostgreSQL (the test
 * command's throwaway server): a mark reads back as written and a newer one replaces it; only due marks are listed,
 * earliest first; a claim is a compare-and-set (two processes claiming the same mark at once: one wins), and a
 * reschedule or removal holds only for the claim that is still there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Reobservation } from '../../src/core/binding/reobservation.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function mark(instanceId: string, over: Partial<Reobservation> = {}): Reobservation {
  return {
    accountId: 'acc-ro',
    instanceId,
    taskId: 'task-1',
    wanted: {
      kind: 'bind',
      mode: 'live',
      keyPair: { id: 'kp-1', name: 'web', publicKey: 'ssh-ed25519 AAAA web' },
      expiresAt: '2026-12-02T00:00:00.000Z',
      passwordLogin: false,
      port: 2222,
    },
    oldPublicKey: 'ssh-ed25519 BBBB old',
    passwordBefore: true,
    stateToken: 'a'.repeat(64),
    attempts: 0,
    dueAt: at(5_000),
    lastAskedAt: T0,
    createdAt: T0,
    ...over,
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`re-observation marks in the store (${kind})`, () => {
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
    });
    after(async () => {
      if (other !== store) await other?.close();
      await store?.close();
      await drop();
    });

    test('reads back as written; a newer mark of the instance replaces the older', async () => {
      await store.reobservations.put(mark('i-1'));
      assert.deepEqual(await store.reobservations.get('i-1'), mark('i-1'));
      const unbind = mark('i-1', {
        taskId: 'task-2',
        wanted: { kind: 'unbind', mode: 'live', keyPair: null, expiresAt: null, passwordLogin: null, port: null },
        oldPublicKey: null,
        passwordBefore: null,
        lastAskedAt: null,
        dueAt: at(9_000),
      });
      await store.reobservations.put(unbind);
      assert.deepEqual(await store.reobservations.get('i-1'), unbind);
      assert.equal(await store.reobservations.get('i-none'), null);
    });

    test('due: only marks due by then, earliest first', async () => {
      await store.reobservations.put(mark('i-due-b', { dueAt: at(20_000) }));
      await store.reobservations.put(mark('i-due-a', { dueAt: at(15_000) }));
      await store.reobservations.put(mark('i-due-later', { dueAt: at(60_000) }));
      const due = (await store.reobservations.due(at(30_000), 100)).map((m) => m.instanceId);
      assert.deepEqual(
        due.filter((id) => id.startsWith('i-due')),
        ['i-due-a', 'i-due-b'],
      );
      assert.equal((await store.reobservations.due(at(30_000), 1)).length, 1);
    });

    test('a claim is a compare-and-set: of two processes claiming the same mark at once, one wins', async () => {
      const m = mark('i-claim', { dueAt: at(1_000) });
      await store.reobservations.put(m);
      const won = await Promise.all([
        store.reobservations.claim(m, at(61_000)),
        other.reobservations.claim(m, at(61_000)),
      ]);
      assert.deepEqual(won.filter(Boolean).length, 1, `claims: ${won}`);
      const claimed = await store.reobservations.get('i-claim');
      assert.equal(claimed?.attempts, 1);
      assert.equal(claimed?.dueAt.getTime(), at(61_000).getTime(), 'due again when the claim lapses');
      assert.equal(await store.reobservations.claim(m, at(70_000)), false, 'a stale read claims nothing');
    });

    test('reschedule and remove hold only for the claim that is still there', async () => {
      const m = mark('i-next', { dueAt: at(1_000) });
      await store.reobservations.put(m);
      assert.equal(await store.reobservations.claim(m, at(61_000)), true);
      const claim = { instanceId: 'i-next', taskId: 'task-1', attempts: 1 };
      const next = { dueAt: at(31_000), lastAskedAt: at(1_500), stateToken: 'b'.repeat(64) };
      assert.equal(await store.reobservations.reschedule({ ...claim, attempts: 0 }, next), false);
      assert.equal(await other.reobservations.reschedule(claim, next), true);
      const after = await store.reobservations.get('i-next');
      assert.deepEqual(
        [after?.dueAt.getTime(), after?.lastAskedAt?.getTime(), after?.stateToken],
        [at(31_000).getTime(), at(1_500).getTime(), 'b'.repeat(64)],
      );
      // A newer interrupted change replaced the mark: the old claim removes nothing.
      await store.reobservations.put(mark('i-next', { taskId: 'task-9' }));
      assert.equal(await store.reobservations.remove(claim), false);
      assert.equal((await store.reobservations.get('i-next'))?.taskId, 'task-9');
      assert.equal(await store.reobservations.remove({ instanceId: 'i-next', taskId: 'task-9', attempts: 0 }), true);
      assert.equal(await store.reobservations.get('i-next'), null);
    });
  });
}
