/**
 * One core, three faces: a change made through one face is visible at once through the others, driven by the
 * official SDKs (Huawei core client for KPS, Alibaba ecs20140526 for ECS) and the native API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ecsSdkDriver } from '../ecs/support/ecs-clients.js';
import { kpsWithAkSk, pollTask, projectIdOf } from '../kps/support/huawei.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

describe('every face sees the same fleet', () => {
  let kf: Keyfleet;
  let api: Api;
  let ids: string[];

  before(async () => {
    ({ kf, api } = await startInProcess());
    ids = await api.run({ imageId: LINUX_IMAGE, amount: 2, password: 'Cross-Face-01' });
    await api.waitStatus(ids, 'Running');
  });
  after(async () => kf?.close());

  test('bound live through KPS: ECS DescribeInstances and the native API show it at once, and the key logs in', async () => {
    const kps = kpsWithAkSk(kf.url, { projectId: await projectIdOf(kf.url) });
    const created = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'kps-made' } },
    });
    const assoc = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'kps-made', server: { id: ids[0], auth: { type: 'password', key: 'Cross-Face-01' } } },
    });
    const done = await pollTask(kps, assoc.task_id);
    assert.equal(done.task_status, 'SUCCESS_RESET');

    const ecs = ecsSdkDriver(kf.url, 'default');
    const described = await ecs.describeInstances('cn-hangzhou', { instanceIds: [ids[0]!] });
    assert.equal(described.instances[0]!.keyPairName, 'kps-made');
    const native = await api.instance(ids[0]!);
    assert.equal(native.keyPairName, 'kps-made');
    assert.equal(native.pendingRestart, false, 'applied live');
    const keyFile = await writePrivateKey(created.keypair.private_key);
    assert.equal(
      (
        await sshRun({
          host: native.address,
          port: native.sshPort,
          user: 'root',
          identityFile: keyFile,
          command: 'echo ok',
        })
      ).code,
      0,
    );
  });

  test('attached through ECS: KPS shows the key pair, the native API shows the binding pending a restart, the audit names both faces', async () => {
    const ecs = ecsSdkDriver(kf.url, 'v2');
    await ecs.createKeyPair('cn-hangzhou', 'ecs-made');
    const r = await ecs.attachKeyPair('cn-hangzhou', 'ecs-made', [ids[1]!]);
    assert.equal(r.failCount, '0');
    const native = await api.instance(ids[1]!);
    assert.equal(native.keyPairName, 'ecs-made');
    assert.equal(native.pendingRestart, true);
    const kps = kpsWithAkSk(kf.url, { projectId: await projectIdOf(kf.url) });
    const shown = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/keypairs/{keypair_name}',
      pathParams: { keypair_name: 'ecs-made' },
    });
    assert.equal(shown.keypair.name, 'ecs-made');
    const audit = await api.call('GET', '/api/v1/audit?action=keypair:Bind');
    const faces = new Set(audit.entries.map((e: any) => e.face));
    assert.ok(faces.has('kps') && faces.has('ecs'), `audit shows both faces: ${[...faces].join(', ')}`);
  });
});
