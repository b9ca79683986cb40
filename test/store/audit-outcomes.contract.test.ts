/**
 * The store's side of outcome entries (issue 16), on the embedded SQLite store and on PostgreSQL (a throwaway
 * database on KEYFLEET_TEST_PG_URL, which the test command starts; without it the PostgreSQL variant is skipped):
 * a task's request entry and its outcome entries, written many at once, are found by task id, request id and stage;
 * an entry written without them reads back as a request entry with no task.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { NewAuditEntry } from '../../src/core/audit/audit.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { tempDir } from '../support/tmp.js';

const PG_URL = process.env.KEYFLEET_TEST_PG_URL;
const T0 = new Date('2026-03-01T00:00:00Z');

async function freshPostgres(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = 'kf_' + randomUUID().replace(/-/g, '').slice(0, 16);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: url.replace(/\/[^/]*$/, '/' + name),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function entry(over: Partial<NewAuditEntry> & Pick<NewAuditEntry, 'id'>): NewAuditEntry {
  return {
    at: T0,
    accountId: 'acc-1',
    userId: 'u-1',
    userName: 'admin',
    accessKeyId: 'LTAIkey',
    sessionId: null,
    face: 'kps',
    sourceIp: '127.0.0.1',
    action: 'keypair:Unbind',
    resources: ['acs:ecs:cn-hangzhou:acc-1:keypair/web'],
    requestId: 'req-1',
    result: 'success',
    errorCode: null,
    ...over,
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`audit outcome entries in the store (${kind})`, { skip: kind === 'postgres' && !PG_URL }, () => {
    let store: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres(PG_URL!);
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else {
        store = await openStore({ dataDir: tempDir() });
      }
    });
    after(async () => {
      await store?.close();
      await drop();
    });

    test('request and outcome entries of a task: written at once, found by task, request and stage', async () => {
      await store.audit.append(entry({ id: 'ev-req', taskId: 't-1', stage: 'request' }));
      // More entries than one insert statement carries, in the transaction that ends the task.
      const outcomes = Array.from({ length: 120 }, (_, n) =>
        entry({
          id: `ev-out-${String(n).padStart(3, '0')}`,
          at: new Date(T0.getTime() + 1000),
          resources: ['acs:ecs:cn-hangzhou:acc-1:keypair/web', `acs:ecs:cn-hangzhou:acc-1:instance/i-${n}`],
          result: n < 119 ? 'failure' : 'success',
          errorCode: n < 119 ? 'Live.CredentialRejected' : null,
          taskId: 't-1',
          stage: 'outcome',
          detail: n < 119 ? `The instance i-${n} rejected the credential for user 'root'.` : 'live unbind succeeded',
        }),
      );
      await store.transaction((tx) => tx.audit.appendMany(outcomes));
      // Another request of the same user: no task, written the way every other call is.
      await store.audit.append(entry({ id: 'ev-other', requestId: 'req-2', action: 'keypair:Create' }));

      const q = (f: Record<string, unknown>) => store.audit.query({ accountId: 'acc-1', offset: 0, limit: 500, ...f });
      assert.equal((await q({ taskId: 't-1' })).total, 121);
      assert.equal((await q({ requestId: 'req-1' })).total, 121);
      assert.equal((await q({ taskId: 't-1', stage: 'request' })).items[0]!.id, 'ev-req');
      const failed = await q({ taskId: 't-1', stage: 'outcome', result: 'failure', resource: 'instance/i-7' });
      assert.equal(failed.total, 1);
      const [e] = failed.items;
      assert.deepEqual(
        [e!.id, e!.stage, e!.taskId, e!.errorCode, e!.detail],
        [
          'ev-out-007',
          'outcome',
          't-1',
          'Live.CredentialRejected',
          "The instance i-7 rejected the credential for user 'root'.",
        ],
      );
      assert.equal((await q({ stage: 'outcome', result: 'success' })).items[0]!.id, 'ev-out-119');

      const [other] = (await q({ requestId: 'req-2' })).items;
      assert.deepEqual([other!.stage, other!.taskId, other!.detail], ['request', null, null]);
      assert.equal((await q({ stage: 'request' })).total, 2);
      assert.equal((await q({ taskId: 't-2' })).total, 0);
      await store.audit.appendMany([]);
    });
  });
}
