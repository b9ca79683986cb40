/**
 * Leases that mean something (issue 16), with keyfleet as the real child process a user runs:
 *
 * - a lease far shorter than the time paced items wait: items are claimed only when they start and renewed while
 *   they run, so none is taken over and run twice, and every machine ends as recorded;
 * - two processes on one PostgreSQL, the one running a live bind frozen with SIGSTOP past its lease: the other
 *   takes its items over and finishes the task; when the frozen one continues, its late results are refused. Each
 *   change is recorded once, and each host does what the record says.
 *
 * The machines are checked with the OpenSSH client, not through keyfleet.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { after, describe, test } from 'node:test';
import { Api, LINUX_IMAGE, sleep, startChild, testEnv } from '../support/keyfleet.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import { allowRootLogin, prepareLoginHome, startHosts, stopHosts } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
});

async function launch(env: Record<string, string>): Promise<{ child: ChildProcess; api: Api }> {
  const run = await startChild(env);
  children.push(run.child);
  const api = new Api(run.url);
  await api.signIn();
  return { child: run.child, api };
}

async function untilFinished(api: Api, taskId: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    if (t.finishedAt) return t;
    assert.ok(Date.now() < deadline, `task ${taskId} did not finish (${t.succeeded + t.failed} of ${t.total} done)`);
    await sleep(100);
  }
}

async function itemsOf(api: Api, taskId: string): Promise<any[]> {
  return (await api.call('GET', `/api/v1/tasks/${taskId}/items?limit=1000`)).items;
}

/** Logs in with the key; 0 when it is accepted. */
async function keyLogin(m: { address: string; port: number; user: string }, identityFile: string): Promise<number> {
  const r = await sshRun({ host: m.address, port: m.port, user: m.user, identityFile, command: 'true' });
  return r.code;
}

describe('leases under faults', () => {
  test('a lease far shorter than the queue wait: no item is taken over or run twice; every machine as recorded', {
    timeout: 300_000,
  }, async () => {
    const rootPassword = `Kf9-${randomBytes(8).toString('hex')}`;
    // 20 items at 4 per second wait up to 5 s for their turn; the lease is 2 s (renewed every 2/3 s while an item
    // runs) and expired leases are swept every 200 ms: a claimed item that waited in a queue would be taken over and
    // run again.
    const env = await testEnv({
      bootMs: 0,
      extra: {
        KEYFLEET_TASK_LEASE_MS: '2000',
        KEYFLEET_TASK_SWEEP_MS: '200',
        KEYFLEET_TASK_ITEMS_PER_SECOND: '4',
      },
    });
    cleanups.push(() => fs.rm(env.KEYFLEET_DATA_DIR!, { recursive: true, force: true }));
    const { child, api } = await launch(env);
    const { privateKey } = await api.createKeyPair('lease-key', 'ed25519');
    const ids = await api.run({ imageId: LINUX_IMAGE, amount: 20, name: 'lease', password: rootPassword });
    await api.waitStatus(ids, 'Running', 120_000);
    const submitted = await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
      action: 'bind',
      keyPairName: 'lease-key',
      instanceIds: ids,
      mode: 'live',
      credential: { kind: 'password', password: rootPassword },
    });
    const task = await untilFinished(api, submitted.task.id);
    const items = await itemsOf(api, task.id);
    assert.equal(task.status, 'succeeded', JSON.stringify(items.filter((i) => i.status !== 'succeeded')));
    assert.deepEqual(
      items.filter((i) => i.attempts !== 1).map((i) => [i.seq, i.attempts]),
      [],
      'every item ran exactly once',
    );
    const keyFile = await writePrivateKey(privateKey);
    for (const id of ids) {
      const inst = await api.instance(id);
      assert.equal(inst.keyPairName, 'lease-key');
      assert.equal(await keyLogin({ address: inst.address, port: inst.sshPort, user: 'root' }, keyFile), 0, id);
      const history = (await api.call('GET', `/api/v1/instances/${id}/history`)).events;
      assert.equal(history.filter((e: any) => e.taskId === task.id).length, 1, `${id}: one binding event`);
    }
    child.kill('SIGTERM');
  });

  test('PostgreSQL: a runner frozen with SIGSTOP past its lease loses its items to another; its late results are refused and each host is as recorded', {
    timeout: 300_000,
  }, async () => {
    const db = await freshPostgres();
    cleanups.push(db.drop);
    const hosts = await startHosts(8, { user: 'kfl' });
    cleanups.push(() => stopHosts(hosts));
    const masterKey = randomBytes(32).toString('base64');
    const common = {
      KEYFLEET_MASTER_KEY: masterKey,
      KEYFLEET_TASK_LEASE_MS: '3000',
      KEYFLEET_TASK_SWEEP_MS: '250',
      KEYFLEET_TASK_ITEMS_PER_SECOND: '2',
      // The simulated fleet is not used here; only one process could serve it.
      KEYFLEET_SIM_SERVE: '0',
    };
    const envA = await testEnv({ databaseUrl: db.url, extra: common });
    const envB = await testEnv({ databaseUrl: db.url, extra: common });
    const a = await launch(envA);
    const b = await launch(envB);

    const mgmtDir = await fs.mkdtemp('/tmp/kf-lease-');
    cleanups.push(() => fs.rm(mgmtDir, { recursive: true, force: true }));
    const mgmt = await b.api.createKeyPair('lease-management', 'ed25519');
    for (const h of hosts) await allowRootLogin(h, mgmt.keyPair.publicKey);
    for (const h of hosts) await prepareLoginHome(h);
    const ids: string[] = [];
    for (const h of hosts) {
      const dir = path.dirname(h.home);
      const r = await a.api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `lease-${h.name}`,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        managementUser: 'root',
        managementPrivateKey: mgmt.privateKey,
        dropInPath: path.join(h.configDir, '10-keyfleet.conf'),
        reloadCommand: `kill -HUP $(cat ${dir}/sshd.pid)`,
        validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
      });
      ids.push(r.instance.id);
    }
    const { privateKey } = await a.api.createKeyPair('lease-pg-key', 'ed25519');
    const submitted = await a.api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
      action: 'bind',
      keyPairName: 'lease-pg-key',
      instanceIds: ids,
      mode: 'live',
    });
    const taskId = submitted.task.id;
    // Freeze A while it holds an item in flight (its lease owner starts with its pid): B also works on the task,
    // so A is caught between its items now and then; it is let go and caught again.
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    cleanups.push(() => pgc.end());
    const heldByA = async (): Promise<number[]> =>
      (
        await pgc.query(
          `select seq from task_items where task_id = $1 and status = 'running' and lease_owner like $2`,
          [taskId, `${a.child.pid}-%`],
        )
      ).rows.map((r) => Number(r.seq));
    let frozenWith: number[] = [];
    for (let n = 0; n < 400 && frozenWith.length === 0; n++) {
      if ((await heldByA()).length > 0) {
        a.child.kill('SIGSTOP');
        frozenWith = await heldByA();
        if (frozenWith.length === 0) a.child.kill('SIGCONT');
      } else await sleep(10);
    }
    assert.ok(frozenWith.length > 0, 'A was frozen holding an item');
    const task = await untilFinished(b.api, taskId);
    // A continues: its renewals find its items gone, and whatever it was doing is refused when it records.
    a.child.kill('SIGCONT');
    await sleep(4_000);
    const after = (await b.api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    assert.deepEqual(
      [after.succeeded, after.failed, after.status],
      [task.succeeded, task.failed, task.status],
      'the late results of the frozen runner changed nothing',
    );
    const items = await itemsOf(b.api, taskId);
    assert.equal(task.status, 'succeeded', JSON.stringify(items.filter((i) => i.status !== 'succeeded')));
    for (const seq of frozenWith)
      assert.ok(
        items[seq].attempts > 1,
        `item ${seq}, held by the frozen runner, was taken over and finished by the other`,
      );

    const keyFile = await writePrivateKey(privateKey);
    for (const [n, id] of ids.entries()) {
      const h = hosts[n]!;
      const inst = await b.api.instance(id);
      assert.equal(inst.keyPairName, 'lease-pg-key', `${id} recorded as bound`);
      assert.equal(
        await keyLogin({ address: h.address, port: h.port, user: h.user }, keyFile),
        0,
        `${id}: key logs in`,
      );
      const history = (await b.api.call('GET', `/api/v1/instances/${id}/history`)).events;
      assert.equal(history.filter((e: any) => e.taskId === taskId).length, 1, `${id}: the change recorded once`);
    }
    a.child.kill('SIGKILL');
    b.child.kill('SIGTERM');
  });
});
