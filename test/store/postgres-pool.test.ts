/**
 * The PostgreSQL pool under the store: connections that die while idle do not end the process, and closing the
 * store closes every connection before it resolves (CI once failed: a database dropped right after close() still
 * had backends, and their termination surfaced as an uncaught 'error').
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { tempDir } from '../support/tmp.js';

const PG_URL = process.env.KEYFLEET_TEST_PG_URL;

describe('PostgreSQL pool under the store', () => {
  let admin: pg.Client;
  const dbName = 'kf_' + randomUUID().replace(/-/g, '').slice(0, 16);
  let url = '';
  const backends = async (): Promise<number> =>
    Number(
      (await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [dbName])).rows[0].n,
    );

  before(async () => {
    assert.ok(PG_URL, 'KEYFLEET_TEST_PG_URL must be set (npm test starts a throwaway PostgreSQL)');
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    url = PG_URL.replace(/\/[^/]*$/, '/' + dbName);
  });
  after(async () => {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  });

  let lastSequence = 0;
  async function busyStore(lost: Error[]): Promise<OpenedStore> {
    const store = await openStore({ databaseUrl: url, dataDir: tempDir(), onConnectionLost: (e) => lost.push(e) });
    // Ten transactions at once fill the pool: ten connections, all idle afterwards.
    const values = await Promise.all(
      Array.from({ length: 10 }, () => store.transaction((tx) => tx.instances.nextSequence('pool-test'))),
    );
    lastSequence = Math.max(...values);
    assert.ok((await backends()) >= 2, 'the pool holds several connections');
    return store;
  }

  test('close() resolves only when every connection is closed: no backend is left for the database', async () => {
    for (let round = 0; round < 5; round++) {
      const store = await busyStore([]);
      await store.close();
      // A backend exits right after its client's Terminate message; give the server a moment to remove it.
      const deadline = Date.now() + 2_000;
      let left = await backends();
      while (left > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        left = await backends();
      }
      assert.equal(left, 0, `round ${round}: backends left after close()`);
    }
  });

  test('idle connections ended by the server (restart, failover, an administrator) are reported, and the next query reconnects', async () => {
    const lost: Error[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const store = await busyStore(lost);
    try {
      const held = await backends();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [dbName]);
      const deadline = Date.now() + 5_000;
      while (lost.length < held && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(lost.length, held, 'one report per connection lost');
      assert.match(lost[0]!.message, /terminat/i);
      assert.deepEqual(uncaught, [], 'nothing reached the process as an uncaught exception');
      const next = await store.transaction((tx) => tx.instances.nextSequence('pool-test'));
      assert.equal(next, lastSequence + 1, 'the store works again on new connections');
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.close();
    }
  });
});
