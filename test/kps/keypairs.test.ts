/**
 * Key pair management and batch binding through the core SDK's generic client (AK/SK): list with limit/marker,
 * show, update description, delete (refused while bound), batch import with per-entry results, batch associate with
 * its rules (≤10, one key pair, servers Running and without a key pair), and a reset of a Stopped server that takes
 * effect at its next start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Kps, kpsWithAkSk, pollTask, sdkError } from './support/huawei.js';
import { loginCode } from './support/instance-files.js';

describe('KPS key pairs and batch binding', () => {
  let kf: Keyfleet;
  let api: Api;
  let kps: Kps;

  before(async () => {
    ({ kf, api } = await startInProcess());
    kps = kpsWithAkSk(kf.url);
  });
  after(async () => {
    await kf?.close();
  });

  const createKey = (name: string) =>
    kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name } } }).then((r) => r.keypair);
  const list = (queryParams: Record<string, string> = {}) =>
    kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs', queryParams });
  const show = (name: string) =>
    kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs/{keypair_name}', pathParams: { keypair_name: name } });

  test("list pages by limit and marker; show; update description; the name rule is KPS's", async () => {
    for (const name of ['page-1', 'page-2', 'page-3'])
      await kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs',
        data: { keypair: { name, public_key: (await sshKeygen('ed25519', name)).publicKey } },
      });
    const first = await list({ limit: '2' });
    assert.deepEqual(
      first.keypairs.map((k: any) => k.keypair.name),
      ['page-1', 'page-2'],
    );
    assert.deepEqual(first.page_info, { next_marker: 'page-2', previous_marker: null, current_count: 2 });
    const second = await list({ limit: '2', marker: first.page_info.next_marker });
    assert.deepEqual(
      second.keypairs.map((k: any) => k.keypair.name),
      ['page-3'],
    );
    assert.deepEqual(second.page_info, { next_marker: null, previous_marker: 'page-2', current_count: 1 });
    assert.deepEqual(Object.keys(first.keypairs[0].keypair).sort(), [
      'fingerprint',
      'frozen_state',
      'is_key_protection',
      'name',
      'public_key',
      'scope',
      'type',
    ]);

    const updated = await kps.call({
      method: 'PUT',
      url: '/v3/{project_id}/keypairs/{keypair_name}',
      pathParams: { keypair_name: 'page-1' },
      data: { keypair: { description: 'web fleet' } },
    });
    assert.deepEqual(updated, { httpStatusCode: 200 });
    const detail = (await show('page-1')).keypair;
    assert.equal(detail.description, 'web fleet');
    assert.equal(detail.algorithm, 'ssh-ed25519');
    assert.equal(detail.is_key_protection, false);
    assert.equal(typeof detail.id, 'number');
    assert.ok(Math.abs(detail.create_time - Date.now()) < 60_000, 'create_time is epoch milliseconds');

    for (const bad of ['has.dot', 'a'.repeat(256), 'spa ce']) {
      const refused = await sdkError(createKey(bad));
      assert.deepEqual([refused.httpStatusCode, refused.errorCode], [400, 'KPS.0002'], bad);
    }
    const dup = await sdkError(createKey('page-1'));
    assert.equal(dup.errorCode, 'KPS.0002');
    assert.match(dup.errorMsg!, /already exists/);
  });

  test('batch import: each entry succeeds or fails alone', async () => {
    const ok = await sshKeygen('ed25519', 'batch-ok');
    const res = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/batch-import',
      data: [
        { keypair: { name: 'batch-ok', public_key: ok.publicKey } },
        { keypair: { name: 'page-1', public_key: ok.publicKey } },
        { keypair: { name: 'bad.name', public_key: ok.publicKey } },
        { keypair: { name: 'no-public-key' } },
      ],
    });
    assert.deepEqual(
      res.succeeded_keypairs.map((k: any) => k.keypair.name),
      ['batch-ok'],
    );
    assert.equal(res.succeeded_keypairs[0].keypair.private_key, undefined);
    assert.deepEqual(
      res.failed_keypairs.map((f: any) => f.keypair_name),
      ['page-1', 'bad.name', 'no-public-key'],
    );
    assert.match(res.failed_keypairs[0].failed_reason, /already exists/);
    assert.match(res.failed_keypairs[1].failed_reason, /\/name/);
    assert.match(res.failed_keypairs[2].failed_reason, /public_key is required/);
  });

  test('batch associate: ≤10 servers, one key pair, Running servers without a key pair; others fail alone', async () => {
    const key = await createKey('batch-key');
    const keyFile = await writePrivateKey(key.private_key);
    const [ready, bound] = await api.run({ imageId: LINUX_IMAGE, amount: 2, password: 'Root-Pass-0006' });
    const [stopped] = await api.run({ imageId: LINUX_IMAGE, start: false });
    await api.waitStatus([ready!, bound!], 'Running');
    await api.waitStatus([stopped!], 'Stopped');
    await api.bind({ action: 'bind', keyPairName: 'page-1', instanceIds: [bound] });

    const entry = (id: string, keypair_name = 'batch-key') => ({
      keypair_name,
      server: { id, auth: { type: 'password', key: 'Root-Pass-0006' } },
    });
    const res = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/batch-associate',
      data: { batch_keypairs: [entry(ready!), entry(bound!), entry(stopped!), entry('i-doesnotexist')] },
    });
    assert.deepEqual(
      res.tasks.map((t: any) => [t.server_id, t.status, t.error_code]),
      [
        [ready, 'SUCCESS', undefined],
        [bound, 'FAILED', 'Instance.AlreadyBound'],
        [stopped, 'FAILED', 'Instance.IncorrectStatus'],
        ['i-doesnotexist', 'FAILED', 'Instance.NotFound'],
      ],
    );
    assert.equal((await pollTask(kps, res.tasks[0].task_id)).task_status, 'SUCCESS_RESET');
    assert.equal(await loginCode(await api.instance(ready!), { identityFile: keyFile }), 0);
    assert.equal((await api.instance(bound!)).keyPairName, 'page-1', 'the refused server was not touched');

    const mixed = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/batch-associate',
        data: { batch_keypairs: [entry(ready!), entry(bound!, 'page-1')] },
      }),
    );
    assert.match(mixed.errorMsg!, /same key pair/);
    const many = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/batch-associate',
        data: { batch_keypairs: Array.from({ length: 11 }, (_, n) => entry(`i-${n}`)) },
      }),
    );
    assert.deepEqual([many.httpStatusCode, many.errorCode], [400, 'KPS.0002']);
    const unknownKey = await sdkError(
      kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs/associate', data: entry(ready!, 'no-such-key') }),
    );
    assert.deepEqual([unknownKey.httpStatusCode, unknownKey.errorCode], [400, 'KPS.6004']);

    // A key pair that is bound cannot be deleted; the message says where.
    const inUse = await sdkError(
      kps.call({
        method: 'DELETE',
        url: '/v3/{project_id}/keypairs/{keypair_name}',
        pathParams: { keypair_name: 'batch-key' },
      }),
    );
    assert.equal(inUse.errorCode, 'KPS.0002');
    assert.match(inUse.errorMsg!, new RegExp(`bound to 1 instance\\(s\\) \\(${ready}\\)`));
    const deleted = await kps.call({
      method: 'DELETE',
      url: '/v3/{project_id}/keypairs/{keypair_name}',
      pathParams: { keypair_name: 'page-3' },
    });
    assert.equal(deleted.httpStatusCode, 204);
    assert.equal((await sdkError(show('page-3'))).errorCode, 'KPS.6004');
  });

  test('reset of a Stopped server needs no credential and takes effect at its next start', async () => {
    const key = await createKey('reset-key');
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: 'Root-Pass-0007', start: false });
    await api.waitStatus([id!], 'Stopped');
    const { task_id } = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'reset-key', server: { id } },
    });
    assert.equal((await pollTask(kps, task_id)).task_status, 'SUCCESS_RESET');
    let inst = await api.instance(id!);
    assert.deepEqual([inst.keyPairName, inst.pendingRestart], ['reset-key', true]);

    await api.call('POST', `/api/v1/instances/${id}/start`);
    await api.waitStatus([id!], 'Running');
    inst = await api.instance(id!);
    assert.equal(inst.pendingRestart, false);
    assert.equal(await loginCode(inst, { identityFile: await writePrivateKey(key.private_key) }), 0);
    assert.equal(await loginCode(inst, { password: 'Root-Pass-0007' }), 255);
  });
});
