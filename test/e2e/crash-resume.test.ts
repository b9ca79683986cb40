/**
 * Durable tasks: `kill -9` keyfleet in the middle of a 200-instance batch bind. After a restart every instance
 * ends bound, the task completes, and no item is applied twice. And `kill -9` while machines are still being
 * provisioned: each ends as it was asked for, started or resting Stopped.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import { Api, LINUX_IMAGE, sleep, startChild, testEnv } from '../support/keyfleet.js';

const children: Array<{ kill(sig: NodeJS.Signals): boolean; exitCode: number | null }> = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

test('kill -9 during a 200-instance batch bind: resumed, all bound, each applied once', {
  timeout: 300_000,
}, async () => {
  // Paced at 100 instances/s so the batch takes about 2 s and the kill lands in the middle.
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_TASK_ITEMS_PER_SECOND: '100' } });
  let run = await startChild(env);
  children.push(run.child);
  let api = new Api(run.url);
  await api.signIn();

  const { privateKey } = await api.createKeyPair('fleet-key', 'ed25519');
  const ids: string[] = [];
  for (let n = 0; n < 2; n++) ids.push(...(await api.run({ imageId: LINUX_IMAGE, amount: 100, name: `node${n}` })));
  await api.waitStatus(ids, 'Running', 120_000);

  const submitted = await api.call('POST', '/api/v1/regions/cn-hangzhou/bindings', {
    action: 'bind',
    keyPairName: 'fleet-key',
    instanceIds: ids,
  });
  const taskId = submitted.task.id;
  let done = 0;
  while (done < 40) {
    const t = (await api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    done = t.succeeded + t.failed;
    assert.ok(!t.finishedAt, 'the batch finished before the kill; pacing did not work');
    await sleep(20);
  }
  run.child.kill('SIGKILL');
  await new Promise((r) => run.child.once('exit', r));
  const atKill = await readTask(env.KEYFLEET_DATA_DIR!, taskId);
  assert.ok(atKill.done >= 40 && atKill.done < 200, `killed mid-batch (${atKill.done} of 200 done)`);

  run = await startChild(env);
  children.push(run.child);
  api = new Api(run.url);
  await api.signIn();
  let task;
  for (;;) {
    task = (await api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    if (task.finishedAt) break;
    await sleep(50);
  }
  assert.equal(task.status, 'succeeded');
  assert.equal(task.succeeded, 200);
  assert.equal(task.failed, 0);

  // Items that were in flight when the process died (claimed only as they start, so few) were run again after
  // the restart, and none that had finished was run again…
  const items = (await api.call('GET', `/api/v1/tasks/${taskId}/items?limit=1000`)).items;
  for (const seq of atKill.running)
    assert.ok(items[seq].attempts > 1, `item ${seq}, running at the kill, was taken up again`);
  for (const seq of atKill.finished)
    assert.equal(items[seq].attempts, 1, `item ${seq}, done before the kill, ran once`);

  const page = await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1000&keyPairName=fleet-key');
  assert.equal(page.total, 200, 'every instance ends bound');

  // …yet each item's effect is committed with its completion: exactly one binding event per instance.
  for (const id of ids) {
    const h = await api.call('GET', `/api/v1/instances/${id}/history`);
    assert.equal(h.events.filter((e: any) => e.taskId === taskId).length, 1, `instance ${id} applied once`);
  }

  // And the machines really take the key at their restart.
  const sample = [ids[0]!, ids[99]!, ids[199]!];
  for (const id of sample) await api.call('POST', `/api/v1/instances/${id}/restart`);
  await api.waitStatus(sample, 'Running');
  const keyFile = await writePrivateKey(privateKey);
  for (const id of sample) {
    const inst = await api.instance(id);
    const r = await sshRun({
      host: inst.address,
      port: inst.sshPort,
      user: 'root',
      identityFile: keyFile,
      command: 'echo ok',
    });
    assert.equal(r.code, 0, r.stderr);
  }
  run.child.kill('SIGTERM');
  await new Promise((r) => run.child.once('exit', r));
});

test('kill -9 while 2,000 machines are provisioned: those created stopped rest Stopped, the others run', {
  timeout: 300_000,
}, async () => {
  const env = await testEnv({ bootMs: 0 });
  let run = await startChild(env);
  children.push(run.child);
  let api = new Api(run.url);
  await api.signIn();
  const stopped: string[] = [];
  for (let n = 0; n < 2; n++)
    stopped.push(...(await api.run({ imageId: LINUX_IMAGE, amount: 1000, name: `cold${n}`, start: false })));
  const started = await api.run({ imageId: LINUX_IMAGE, amount: 20, name: 'warm' });
  run.child.kill('SIGKILL');
  await new Promise((r) => run.child.once('exit', r));
  const atKill = countByStatus(env.KEYFLEET_DATA_DIR!);
  assert.ok((atKill.Pending ?? 0) > 20, `killed while machines were still Pending (${JSON.stringify(atKill)})`);

  run = await startChild(env);
  children.push(run.child);
  api = new Api(run.url);
  await api.signIn();
  for (const deadline = Date.now() + 120_000; ; ) {
    const counts = countByStatus(env.KEYFLEET_DATA_DIR!);
    if (!counts.Pending && !counts.Starting) break;
    assert.ok(Date.now() < deadline, `still provisioning after 2 minutes: ${JSON.stringify(counts)}`);
    await sleep(100);
  }
  const page = await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1000&status=Running');
  assert.deepEqual(
    page.instances.map((i: any) => i.id).sort(),
    [...started].sort(),
    'only the machines created to run are Running',
  );
  assert.equal(
    (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1&status=Stopped')).total,
    stopped.length,
    'every machine created stopped rests Stopped',
  );
  assert.equal(
    withoutHostKey(env.KEYFLEET_DATA_DIR!),
    0,
    'every machine, also those provisioned after the restart, has its host key',
  );
  run.child.kill('SIGTERM');
  await new Promise((r) => run.child.once('exit', r));
});

function countByStatus(dataDir: string): Record<string, number> {
  const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
  try {
    const rows = db.prepare('select status, count(*) as n from instances group by status').all() as Array<{
      status: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

function withoutHostKey(dataDir: string): number {
  const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from instances where host_key_sha256 is null').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function readTask(dataDir: string, taskId: string): { done: number; running: number[]; finished: number[] } {
  const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
  try {
    const rows = db.prepare(`select seq, status from task_items where task_id = ?`).all(taskId) as Array<{
      seq: number;
      status: string;
    }>;
    const finished = rows.filter((r) => r.status === 'succeeded' || r.status === 'failed').map((r) => r.seq);
    const running = rows.filter((r) => r.status === 'running').map((r) => r.seq);
    return { done: finished.length, running, finished };
  } finally {
    db.close();
  }
}
