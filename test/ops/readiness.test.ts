/**
 * /healthz and /readyz (issue 21, used by the cluster's HAProxy, issue 17). Ready means: the store answers, every
 * migration is applied, the task runner works, and the process is not draining. The store is taken away by a TCP
 * proxy between keyfleet and PostgreSQL that closes every connection (the server gone), then given back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { FaultProxy } from '../support/fault-proxy.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { sleep, startInProcess } from '../support/keyfleet.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function get(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

/** Polls until /readyz answers `status` (a safety timeout only: how soon is not what is tested). */
async function readyzBecomes(base: string, status: number, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await get(`${base}/readyz`);
    if (r.status === status) return r.body;
    if (Date.now() > deadline) throw new Error(`/readyz still answers ${r.status}: ${JSON.stringify(r.body)}`);
    await sleep(100);
  }
}

test('embedded store: /healthz is up, /readyz is ready with each check named, and 503 once draining', async () => {
  const { kf } = await startInProcess({ extra: { KEYFLEET_TASK_SWEEP_MS: '200' } });
  cleanups.push(() => kf.close());
  assert.deepEqual(await get(`${kf.url}/healthz`), { status: 200, body: { status: 'ok' } });
  const ready = await readyzBecomes(kf.url, 200);
  assert.deepEqual(ready, {
    status: 'ready',
    ready: true,
    checks: { store: true, migrations: true, tasks: true, draining: false },
  });
  kf.readiness.startDraining();
  const r = await get(`${kf.url}/readyz`);
  assert.equal(r.status, 503);
  assert.equal(r.body.checks.draining, true);
  assert.equal(r.body.checks.store, true);
  // Alive all the same: a draining process must not be restarted by a liveness probe.
  assert.equal((await get(`${kf.url}/healthz`)).status, 200);
});

test('a store missing one of the migrations this build knows (a restore from an older build) is not ready', async () => {
  const { kf } = await startInProcess({ extra: { KEYFLEET_TASK_SWEEP_MS: '200' } });
  cleanups.push(() => kf.close());
  await readyzBecomes(kf.url, 200);
  const last = await sql<{ name: string }>`select max(name) as name from kysely_migration`.execute(kf.store.db);
  await sql`delete from kysely_migration where name = ${last.rows[0]!.name}`.execute(kf.store.db);
  const r = await get(`${kf.url}/readyz`);
  assert.equal(r.status, 503);
  assert.deepEqual(r.body.checks, { store: true, migrations: false, tasks: true, draining: false });
});

test('PostgreSQL: /readyz turns 503 (store) when the database is gone, ready again when it returns; /healthz stays 200', {
  skip: PG_URL ? false : 'KEYFLEET_TEST_PG_URL is not set',
  timeout: 120_000,
}, async () => {
  const db = await freshPostgres();
  cleanups.push(db.drop);
  const target = new URL(db.url);
  const proxy = await FaultProxy.start('127.0.0.1', { host: target.hostname, port: Number(target.port) });
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(db.url);
  viaProxy.host = `${proxy.host}:${proxy.port}`;
  const { kf } = await startInProcess({
    databaseUrl: viaProxy.toString(),
    extra: { KEYFLEET_TASK_SWEEP_MS: '200' },
  });
  cleanups.push(() => kf.close());
  await readyzBecomes(kf.url, 200);

  // Every connection to PostgreSQL is cut, and every new one closed at once: the server is gone.
  proxy.arm({ kind: 'close', afterBytes: 0, direction: 'total', scope: 'all' });
  const down = await readyzBecomes(kf.url, 503);
  assert.equal(down.checks.store, false);
  assert.equal(down.checks.draining, false);
  assert.equal((await get(`${kf.url}/healthz`)).status, 200);

  proxy.arm(null);
  const back = await readyzBecomes(kf.url, 200);
  assert.deepEqual(back.checks, { store: true, migrations: true, tasks: true, draining: false });
});
