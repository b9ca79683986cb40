/**
 * Task progress as server-sent events (GET /api/v1/tasks/:id/progress), what the CLI's progress bar reads: the
 * task now, an update as items end, then `done` with the final counts; refusals and unknown ids answer as JSON
 * before any stream starts. Driven by a live bind to simulated instances (each item a real SSH change).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';

const REGION = 'cn-hangzhou';
const PASSWORD = 'Progress-Pass-01';

interface Event {
  event: string;
  data: any;
}

async function readEvents(
  url: string,
  token: string,
): Promise<{ status: number; type: string | null; events: Event[]; body?: any }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  if (!res.ok) return { status: res.status, type: res.headers.get('content-type'), events: [], body: await res.json() };
  const text = await res.text(); // the server ends the stream when the task is done
  const events = text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) }));
  return { status: res.status, type: res.headers.get('content-type'), events };
}

describe('task progress stream', () => {
  let kf: Keyfleet;
  let api: Api;
  let ids: string[];

  before(async () => {
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_TASK_CONCURRENCY: '4' } }));
    const types = (await api.call('GET', '/api/v1/instance-types')).instanceTypes;
    ids = await api.run({
      imageId: LINUX_IMAGE,
      instanceType: types[0].id,
      amount: 12,
      password: PASSWORD,
      name: 'progress',
    });
    await api.waitStatus(ids, 'Running');
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'progress-key', type: 'ed25519' });
  });
  after(async () => kf?.close());

  test('progress events as items end, then done with the final counts', async () => {
    const submitted = await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
      action: 'bind',
      keyPairName: 'progress-key',
      instanceIds: [...ids, 'i-doesnotexist0000000'],
      mode: 'live',
      credential: { kind: 'password', password: PASSWORD },
    });
    const r = await readEvents(`${kf.url}/api/v1/tasks/${submitted.task.id}/progress`, api.token!);
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /^text\/event-stream/);
    const progress = r.events.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 3, `several updates while 13 items run 4 at a time: ${progress.length}`);
    const done = progress.map((e) => e.data.task.succeeded + e.data.task.failed);
    assert.deepEqual(
      done,
      [...done].sort((a, b) => a - b),
      'counts only grow',
    );
    const last = r.events.at(-1)!;
    assert.equal(last.event, 'done');
    assert.equal(last.data.task.id, submitted.task.id);
    assert.equal(last.data.task.total, 13);
    assert.equal(last.data.task.succeeded, 12);
    assert.equal(last.data.task.failed, 1);
    assert.equal(last.data.task.status, 'partial');
    assert.ok(last.data.task.finishedAt);
  });

  test('a finished task streams once and ends; unknown ids and missing sessions answer as JSON', async () => {
    const t = (await api.call('GET', '/api/v1/tasks?limit=1')).tasks[0];
    const r = await readEvents(`${kf.url}/api/v1/tasks/${t.id}/progress`, api.token!);
    assert.deepEqual(
      r.events.map((e) => e.event),
      ['progress', 'done'],
    );
    const unknown = await readEvents(
      `${kf.url}/api/v1/tasks/00000000-0000-0000-0000-000000000000/progress`,
      api.token!,
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'Task.NotFound');
    const anonymous = await fetch(`${kf.url}/api/v1/tasks/${t.id}/progress`);
    assert.equal(anonymous.status, 401);
  });
});
