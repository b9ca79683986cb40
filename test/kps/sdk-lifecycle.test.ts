/**
 * The claim, as a Huawei user would see it: the official SDKs (core SDK with AK/SK, and with an IAM token
 * from the IAM SDK) create a key pair, associate it to a Running simulated instance with its root password, poll
 * the task to success, and the real OpenSSH client logs in with the key at once. A line added by hand to
 * authorized_keys survives the disassociate (with the private key), after which the key is refused at once and the
 * password method is back. The binding shows through the native API too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { iamToken, type Kps, kpsWithAkSk, kpsWithToken, pollTask, projectIdOf, sdkError } from './support/huawei.js';
import { appendAuthorizedKey, loginCode, readAuthorizedKeys } from './support/instance-files.js';

describe('KPS life cycle through the official Huawei SDKs', () => {
  let kf: Keyfleet;
  let api: Api;
  let projectId: string;

  before(async () => {
    ({ kf, api } = await startInProcess());
    projectId = await projectIdOf(kf.url);
  });
  after(async () => {
    await kf?.close();
  });

  async function runningInstance(password: string): Promise<any> {
    const [id] = await api.run({ imageId: LINUX_IMAGE, password });
    await api.waitStatus([id!], 'Running');
    return api.instance(id!);
  }

  const associate = (kps: Kps, keypair_name: string, id: string, auth?: { type: string; key: string }) =>
    kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name, server: { id, ...(auth ? { auth } : {}) } },
    });
  const disassociate = (kps: Kps, id: string, auth: { type: string; key: string }) =>
    kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs/disassociate', data: { server: { id, auth } } });

  test('AK/SK: create → associate with the root password → key login at once; hand-added line; disassociate with the private key → key refused, line kept, password back', async () => {
    const kps = kpsWithAkSk(kf.url); // the project id is resolved by the SDK through GET /v3/projects?name=
    const created = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'sdk-aksk', type: 'ssh', scope: 'user' } },
    });
    assert.equal(created.httpStatusCode, 200);
    assert.match(created.keypair.private_key, /BEGIN OPENSSH PRIVATE KEY/);
    assert.match(created.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const keyFile = await writePrivateKey(created.keypair.private_key);

    const inst = await runningInstance('Root-Pass-0001');
    const bound = await associate(kps, 'sdk-aksk', inst.id, { type: 'password', key: 'Root-Pass-0001' });
    assert.equal(bound.httpStatusCode, 202);
    assert.match(bound.task_id, /^[0-9a-f-]{36}$/);
    const done = await pollTask(kps, bound.task_id);
    assert.deepEqual(
      { status: done.task_status, server: done.server_id },
      { status: 'SUCCESS_RESET', server: inst.id },
    );

    assert.equal(await loginCode(inst, { identityFile: keyFile }), 0, 'the key logs in at once, no restart');
    assert.equal(
      await loginCode(inst, { password: 'Root-Pass-0001' }),
      255,
      'password login is off while the key pair is bound',
    );
    const native = await api.instance(inst.id);
    assert.equal(native.keyPairName, 'sdk-aksk', 'the native API shows the KPS binding');
    assert.equal(native.pendingRestart, false);

    const hand = await sshKeygen('ed25519', 'hand-added');
    await appendAuthorizedKey(inst, { identityFile: keyFile }, hand.publicKey);

    const unbound = await disassociate(kps, inst.id, { type: 'keypair', key: created.keypair.private_key });
    assert.equal((await pollTask(kps, unbound.task_id)).task_status, 'SUCCESS_UNBIND');
    assert.equal(await loginCode(inst, { identityFile: keyFile }), 255, 'the key is refused at once');
    assert.equal(await loginCode(inst, { identityFile: hand.privateKeyPath }), 0, 'the hand-added key still logs in');
    assert.equal(await loginCode(inst, { password: 'Root-Pass-0001' }), 0, 'the password login method is restored');
    const file = await readAuthorizedKeys(inst, { password: 'Root-Pass-0001' });
    assert.ok(file?.includes(hand.publicKey), 'the hand-added line is still in authorized_keys');
    assert.ok(!file?.includes(created.keypair.public_key.split(' ')[1]), 'the key pair is gone from authorized_keys');
    assert.equal((await api.instance(inst.id)).keyPairName, null);
  });

  test('IAM token: password token from the IAM SDK, then associate (bind), replace with the current private key, disassociate', async () => {
    const { token, body } = await iamToken(kf.url);
    assert.ok(token && token.length >= 16, 'the IAM SDK returns X-Subject-Token');
    assert.equal(body.httpStatusCode, 201);
    assert.equal(body.token.project.id, projectId, "the token is scoped to the region's project");
    assert.equal(body.token.project.name, 'cn-hangzhou');
    const kps = kpsWithToken(kf.url, token, projectId);

    const first = (
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name: 'sdk-token-a' } } })
    ).keypair;
    const second = (
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name: 'sdk-token-b' } } })
    ).keypair;
    const [firstFile, secondFile] = await Promise.all([
      writePrivateKey(first.private_key),
      writePrivateKey(second.private_key),
    ]);
    const inst = await runningInstance('Root-Pass-0002');

    const bind = await associate(kps, 'sdk-token-a', inst.id, { type: 'password', key: 'Root-Pass-0002' });
    assert.equal((await pollTask(kps, bind.task_id)).task_status, 'SUCCESS_RESET');
    assert.equal(await loginCode(inst, { identityFile: firstFile }), 0);

    // Replace: log in with the private key of the key pair bound now. A finished replace reports *_RESET (API.md §4.5).
    const replace = await associate(kps, 'sdk-token-b', inst.id, { type: 'keypair', key: first.private_key });
    assert.equal((await pollTask(kps, replace.task_id)).task_status, 'SUCCESS_RESET');
    assert.equal(await loginCode(inst, { identityFile: secondFile }), 0, 'the new key logs in');
    assert.equal(await loginCode(inst, { identityFile: firstFile }), 255, 'the replaced key is refused at once');
    assert.equal((await api.instance(inst.id)).keyPairName, 'sdk-token-b');

    const unbind = await disassociate(kps, inst.id, { type: 'keypair', key: second.private_key });
    assert.equal((await pollTask(kps, unbind.task_id)).task_status, 'SUCCESS_UNBIND');
    assert.equal(await loginCode(inst, { identityFile: secondFile }), 255);
    assert.equal(await loginCode(inst, { password: 'Root-Pass-0002' }), 0);

    // The token is scoped to its project: another region's project is refused.
    const other = kpsWithToken(kf.url, token, await projectIdOf(kf.url, 'cn-shanghai'));
    const refused = await sdkError(other.call({ method: 'GET', url: '/v3/{project_id}/keypairs' }));
    assert.equal(refused.httpStatusCode, 403);
    assert.equal(refused.errorCode, 'KPS.9003');
    assert.match(refused.errorMsg!, /scoped to project/);
    assert.ok(refused.requestId, 'the SDK reads X-Request-Id');
  });
});
