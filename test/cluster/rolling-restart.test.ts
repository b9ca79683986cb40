/**
 * A rolling restart (issue 17): three keyfleet processes behind HAProxy; while an on-restart batch and a live
 * batch with the machines' root password run, each process in turn gets SIGTERM, drains and exits, and is started
 * again. Clients talk to HAProxy only (the Alibaba SDK, the Huawei SDK and the native API, one after another,
 * without pause). Afterwards: every process exited 0; no client request failed; no process left an item held in
 * its name when it exited (it finished or handed back what it had claimed); every item succeeded and was applied
 * once (one binding event per instance); the live machines take the key (OpenSSH client).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { ecsSdkDriver } from '../ecs/support/ecs-clients.js';
import { kpsWithAkSk } from '../kps/support/huawei.js';
import { Cluster } from '../support/cluster.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { Api, LINUX_IMAGE, sleep } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

const ON_RESTART = 1500;
const LIVE = 30;
const REGION = 'cn-hangzhou';
const ROOT_PASSWORD = 'Rolling-Root-0001';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('rolling restart (SIGTERM one process at a time) during two batches: no failed request through HAProxy, nothing held by a stopped process, nothing lost or applied twice', {
  skip: PG_URL ? false : 'KEYFLEET_TEST_PG_URL is not set',
  timeout: 600_000,
}, async (t) => {
  const db = await freshPostgres();
  cleanups.push(db.drop);
  const cluster = await Cluster.start({
    processes: 3,
    databaseUrl: db.url,
    // Paced so that the batches outlast the three restarts.
    extra: { KEYFLEET_TASK_LEASE_MS: '10000', KEYFLEET_TASK_ITEMS_PER_SECOND: '10' },
  });
  cleanups.push(() => cluster.close());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const lb = cluster.balancerUrl;
  const api = new Api(lb);
  await api.signIn();
  const ecs = ecsSdkDriver(lb, 'default');
  const kps = kpsWithAkSk(lb);

  const created = await ecs.createKeyPair(REGION, 'rolling');
  const stopped: string[] = [];
  for (let left = ON_RESTART; left > 0; left -= 1000)
    stopped.push(...(await api.run({ imageId: LINUX_IMAGE, amount: Math.min(1000, left), start: false })));
  const live = await ecs.runInstances(REGION, { imageId: LINUX_IMAGE, amount: LIVE, password: ROOT_PASSWORD });
  await api.waitStatus(live, 'Running', 300_000);
  const ready = Date.now() + 300_000;
  while (
    (await sql.query(`select count(*)::int as n from instances where status = 'Stopped'`)).rows[0].n < stopped.length
  ) {
    if (Date.now() > ready) throw new Error('the machines were not provisioned');
    await sleep(250);
  }

  const submit = async (ids: string[], live: boolean) =>
    (
      await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
        action: 'bind',
        keyPairName: 'rolling',
        instanceIds: ids,
        mode: live ? 'live' : 'on-restart',
        ...(live ? { credential: { kind: 'password', password: ROOT_PASSWORD } } : {}),
      })
    ).task.id as string;
  const tasks = [await submit(stopped, false), await submit(live, true)];

  // Clients through the balancer, back to back, for the whole restart.
  const requests = { ok: 0, failed: [] as string[] };
  let calling = true;
  const clients = (async () => {
    for (let n = 0; calling; n++) {
      try {
        if (n % 3 === 0) await ecs.describeKeyPairs(REGION, { name: 'rolling' });
        else if (n % 3 === 1)
          await kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs', queryParams: { limit: 10 } });
        else await api.call('GET', `/api/v1/tasks/${tasks[0]}`);
        requests.ok++;
      } catch (err) {
        const e = err as { message?: string; errorMsg?: string; httpStatusCode?: number };
        requests.failed.push(
          `${n % 3}: ${e.httpStatusCode ?? ''} ${e.errorMsg ?? e.message ?? String(err)}`.slice(0, 200),
        );
      }
    }
  })();

  const problems: string[] = [];
  for (let n = 1; n <= 3; n++) {
    await sleep(2000);
    const pid = cluster.node(n).child!.pid!;
    const code = await cluster.terminate(n);
    if (code !== 0) problems.push(`process ${n} exited ${code} after SIGTERM`);
    const held = (
      await sql.query(`select count(*)::int as n from task_items where status = 'running' and lease_owner like $1`, [
        `${pid}-%`,
      ])
    ).rows[0].n;
    if (held !== 0) problems.push(`process ${n} left ${held} item(s) held in its name`);
    t.diagnostic(`process ${n} drained and exited ${code}; progress ${await progress(sql, tasks)}`);
    await cluster.launch(n);
    // Back in the balancer's rotation before the next one goes (its checks: 2 × 250 ms).
    await waitReady(cluster.node(n).url);
    await sleep(1000);
  }
  const deadline = Date.now() + 300_000;
  while ((await progress(sql, tasks)).startsWith('unfinished')) {
    if (Date.now() > deadline) throw new Error(`the batches did not finish: ${await progress(sql, tasks)}`);
    await sleep(250);
  }
  calling = false;
  await clients;
  t.diagnostic(`${requests.ok} requests through HAProxy answered, ${requests.failed.length} failed`);
  problems.push(...requests.failed.slice(0, 20).map((f) => `request failed: ${f}`));

  const notOk = (
    await sql.query(
      `select status, count(*)::int as n from task_items where task_id = any($1) and status <> 'succeeded' group by 1`,
      [tasks],
    )
  ).rows;
  for (const r of notOk) problems.push(`${r.n} item(s) ${r.status}`);
  const events = (
    await sql.query(`select instance_id, count(*)::int as n from binding_events where task_id = any($1) group by 1`, [
      tasks,
    ])
  ).rows as Array<{ n: number }>;
  if (events.length !== stopped.length + live.length || events.some((e) => e.n !== 1))
    problems.push(
      `${events.length} instances with events (want ${stopped.length + live.length}), some more than once: ${events.some((e) => e.n !== 1)}`,
    );

  const keyFile = await writePrivateKey(created.privateKey);
  for (const id of live) {
    const i = await api.instance(id);
    const r = await sshRun({
      host: i.address,
      port: i.sshPort,
      identityFile: keyFile,
      command: 'true',
      timeoutMs: 20_000,
    });
    if (r.code !== 0 || i.keyPairName !== 'rolling')
      problems.push(`${id}: record ${i.keyPairName}, key login ${r.code}`);
  }
  assert.deepEqual(problems, []);
});

async function progress(sql: pg.Client, tasks: string[]): Promise<string> {
  const r = (
    await sql.query(
      `select count(*) filter (where status in ('succeeded', 'failed'))::int as done, count(*)::int as total from task_items where task_id = any($1)`,
      [tasks],
    )
  ).rows[0];
  return `${r.done === r.total ? 'finished' : 'unfinished'} ${r.done}/${r.total}`;
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await sleep(100);
  }
}
