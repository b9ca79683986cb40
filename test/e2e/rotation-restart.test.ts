/**
 * A rotation survives `kill -9` (issue 19): keyfleet is killed while a wave runs (its task paced so a wave takes
 * a while); started again on the same data directory, it finishes that wave's task and goes on with the next waves.
 * No wave is started twice: each wave has one task, keyfleet made exactly one bind task of B per wave, and each
 * instance was bound to B exactly once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Api, LINUX_IMAGE, sleep, startChild, testEnv } from '../support/keyfleet.js';

const children: Array<{ kill(sig: NodeJS.Signals): boolean; exitCode: number | null }> = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

test('kill -9 mid-rotation: restarted, it continues and no wave starts twice', { timeout: 300_000 }, async () => {
  // 10 items/s: a wave of 5 takes about half a second, so the kill lands while wave 2 runs.
  const env = await testEnv({
    bootMs: 0,
    extra: { KEYFLEET_TASK_ITEMS_PER_SECOND: '10', KEYFLEET_ROTATION_POLL_MS: '100' },
  });
  let run = await startChild(env);
  children.push(run.child);
  let api = new Api(run.url);
  await api.signIn();
  await api.createKeyPair('rs-a', 'ed25519');
  await api.createKeyPair('rs-b', 'ed25519');
  const ids = await api.run({ imageId: LINUX_IMAGE, amount: 30, name: 'rs' });
  await api.waitStatus(ids, 'Running', 120_000);
  const bound = await api.bind({ action: 'bind', keyPairName: 'rs-a', instanceIds: ids });
  assert.equal(bound.task.succeeded, 30);

  const created = await api.call('POST', '/api/v1/regions/cn-hangzhou/rotations', {
    fromKeyPairName: 'rs-a',
    toKeyPairName: 'rs-b',
    mode: 'on-restart',
    canary: 5,
    waveSize: 5,
  });
  const id = created.rotation.id;
  assert.equal(created.rotation.waveCount, 6);
  for (;;) {
    const d = await api.call('GET', `/api/v1/rotations/${id}`);
    assert.notEqual(d.rotation.status, 'completed', 'finished before the kill: pacing did not work');
    if (d.waves[1].status === 'running') break;
    await sleep(20);
  }
  run.child.kill('SIGKILL');
  await new Promise((r) => run.child.once('exit', r));

  run = await startChild(env);
  children.push(run.child);
  api = new Api(run.url);
  await api.signIn();
  let d: any;
  const deadline = Date.now() + 600_000; // a hang guard with room for a loaded machine, not a speed check
  for (;;) {
    d = await api.call('GET', `/api/v1/rotations/${id}`);
    if (d.rotation.status !== 'running') break;
    assert.ok(Date.now() < deadline, JSON.stringify(d));
    await sleep(100);
  }
  assert.equal(d.rotation.status, 'completed', JSON.stringify(d));
  assert.equal(d.rotation.succeeded, 30);
  assert.deepEqual(
    d.waves.map((w: any) => [w.status, w.attempt, w.succeeded]),
    Array.from({ length: 6 }, () => ['done', 1, 5]),
  );
  const waveTasks = d.waves.map((w: any) => w.taskId);
  assert.equal(new Set(waveTasks).size, 6, 'a task per wave');

  // Exactly one bind task of B per wave: no claim made a second task, even one rolled back half-way.
  const tasks = (await api.call('GET', '/api/v1/tasks?limit=1000')).tasks.filter(
    (t: any) => t.kind === 'bind' && t.keyPairName === 'rs-b',
  );
  assert.deepEqual(tasks.map((t: any) => t.id).sort(), [...waveTasks].sort());
  for (const t of tasks) assert.equal(t.status, 'succeeded');
  for (const instanceId of ids) {
    const h = await api.call('GET', `/api/v1/instances/${instanceId}/history`);
    const toB = h.events.filter((e: any) => e.action === 'bind' && e.keyPairName === 'rs-b');
    assert.equal(toB.length, 1, `${instanceId} bound to B once: ${JSON.stringify(h.events)}`);
  }
});
