/**
 * A credential sent for a live operation stays in memory for that task only: held while the task runs, gone when
 * it ends, whether its items succeeded or failed. Tasks are paced (2 items/s) so "while it runs" can be observed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, sleep, startInProcess } from '../support/keyfleet.js';

const ROOT_PW = 'Held-Pass-0001';

describe('a live credential lives as long as its task', () => {
  let kf: Keyfleet;
  let api: Api;
  let ids: string[];

  before(async () => {
    ({ kf, api } = await startInProcess({ bootMs: 0, extra: { KEYFLEET_TASK_ITEMS_PER_SECOND: '2' } }));
    ids = await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'held', password: ROOT_PW });
    await api.waitStatus(ids, 'Running');
    await api.createKeyPair('held-key', 'ed25519');
  });

  after(async () => {
    await kf?.close();
  });

  /** Submits without waiting, then samples the task's credentialHeld (GET /api/v1/tasks/:id) until it ends. */
  async function runAndWatch(
    action: 'bind' | 'unbind',
    password: string,
  ): Promise<{ task: any; heldWhileRunning: boolean }> {
    const { task } = await api.call('POST', '/api/v1/regions/cn-hangzhou/bindings', {
      action,
      keyPairName: 'held-key',
      instanceIds: ids,
      mode: 'live',
      verify: false,
      credential: { kind: 'password', password },
    });
    let heldWhileRunning = false;
    for (const deadline = Date.now() + 60_000; ; ) {
      // The answer reads the task, then whether the credential is held: a task read as running that was held then.
      const { task: current, credentialHeld } = await api.call('GET', `/api/v1/tasks/${task.id}`);
      if (current.finishedAt) return { task: current, heldWhileRunning };
      heldWhileRunning ||= credentialHeld === true;
      assert.ok(Date.now() < deadline, 'the task did not finish in a minute');
      await sleep(20);
    }
  }

  test('held while the task runs, forgotten when it succeeds', async () => {
    const { task, heldWhileRunning } = await runAndWatch('bind', ROOT_PW);
    assert.equal(task.status, 'succeeded');
    assert.equal(task.succeeded, 3);
    assert.ok(heldWhileRunning, 'the task ran with its credential in memory');
    assert.equal(
      (await api.call('GET', `/api/v1/tasks/${task.id}`)).credentialHeld,
      false,
      'the credential is gone once the task ended',
    );
    assert.equal((await api.call('GET', `/api/v1/tasks/${task.id}`)).credentialHeld, false);
  });

  test('forgotten when every item fails too', async () => {
    const { task, heldWhileRunning } = await runAndWatch('unbind', 'Wrong-Pass-0002');
    assert.equal(task.failed, 3, 'the wrong password fails each item');
    assert.ok(heldWhileRunning);
    assert.equal((await api.call('GET', `/api/v1/tasks/${task.id}`)).credentialHeld, false);
  });
});
