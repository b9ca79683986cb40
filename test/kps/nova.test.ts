/**
 * The Nova-compatible key pair calls through Huawei's ECS SDK (`/v2.1/{project_id}/os-keypairs`): create (generate
 * and import, with the microversion header), list with limit/marker, show, delete, and the SDK's view of an error.
 * The ECS client is built with a Region only, so it first resolves the project through IAM (capture 07). Key pairs
 * are shared with KPS and the native API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  NovaCreateKeypairOption,
  NovaCreateKeypairRequest,
  NovaCreateKeypairRequestBody,
  NovaDeleteKeypairRequest,
  NovaListKeypairsRequest,
  NovaShowKeypairRequest,
  type EcsClient,
} from '@huaweicloud/huaweicloud-sdk-ecs';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { ecsClient, type Kps, kpsWithAkSk, sdkError } from './support/huawei.js';

describe('Nova os-keypairs through the ECS SDK', () => {
  let kf: Keyfleet;
  let api: Api;
  let ecs: EcsClient;
  let kps: Kps;

  before(async () => {
    ({ kf, api } = await startInProcess());
    ecs = ecsClient(kf.url);
    kps = kpsWithAkSk(kf.url);
  });
  after(async () => {
    await kf?.close();
  });

  const create = (option: NovaCreateKeypairOption, version?: string) => {
    const req = new NovaCreateKeypairRequest().withBody(new NovaCreateKeypairRequestBody(option));
    return ecs.novaCreateKeypair(version ? req.withOpenStackAPIVersion(version) : req) as Promise<any>;
  };

  test('create (generated) returns a usable private key; import with the microversion header; both show everywhere', async () => {
    const generated = await create(new NovaCreateKeypairOption('nova-gen'));
    assert.equal(generated.httpStatusCode, 200);
    assert.equal(generated.keypair.name, 'nova-gen');
    assert.equal(generated.keypair.type, 'ssh');
    assert.match(generated.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.match(generated.keypair.private_key, /BEGIN OPENSSH PRIVATE KEY/);

    const pair = await sshKeygen('ed25519', 'user@host');
    const imported = await create(
      new NovaCreateKeypairOption('nova-imported').withPublicKey(pair.publicKey).withType('ssh').withUserId('someone'),
      'compute 2.10',
    );
    assert.equal(imported.keypair.private_key, undefined);
    assert.equal(imported.keypair.public_key, pair.publicKey);

    const viaKps = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/keypairs/{keypair_name}',
      pathParams: { keypair_name: 'nova-gen' },
    });
    assert.equal(viaKps.keypair.fingerprint, generated.keypair.fingerprint, 'KPS sees the Nova key pair');
    const native = await api.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs/nova-imported');
    assert.equal(native.keyPair.publicKey, pair.publicKey, 'and so does the native API');

    // The generated key really works: bind it through KPS, log in with the key Nova returned.
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: 'Root-Pass-0005' });
    await api.waitStatus([id!], 'Running');
    await api.bind({
      action: 'bind',
      keyPairName: 'nova-gen',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'password', password: 'Root-Pass-0005' },
    });
    const inst = await api.instance(id!);
    const login = await sshRun({
      host: inst.address,
      port: inst.sshPort,
      identityFile: await writePrivateKey(generated.keypair.private_key),
      command: 'echo ok',
    });
    assert.equal(login.stdout.trim(), 'ok', login.stderr);
  });

  test('list with limit and marker; show; a KPS-made key pair is listed too', async () => {
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'kps-made', public_key: (await sshKeygen('ed25519', 'kps')).publicKey } },
    });
    const all = (await ecs.novaListKeypairs(new NovaListKeypairsRequest())) as any;
    const names = all.keypairs.map((k: any) => k.keypair.name);
    assert.deepEqual(names, ['nova-gen', 'nova-imported', 'kps-made']);
    for (const k of all.keypairs)
      assert.deepEqual(Object.keys(k.keypair).sort(), ['fingerprint', 'name', 'public_key', 'type']);

    const page = (await ecs.novaListKeypairs(
      new NovaListKeypairsRequest().withLimit(1).withMarker('nova-gen').withOpenStackAPIVersion('compute 2.35'),
    )) as any;
    assert.deepEqual(
      page.keypairs.map((k: any) => k.keypair.name),
      ['nova-imported'],
    );

    const shown = (await ecs.novaShowKeypair(new NovaShowKeypairRequest('nova-imported'))) as any;
    assert.equal(shown.keypair.name, 'nova-imported');
    assert.equal(shown.keypair.deleted, false);
    assert.equal(typeof shown.keypair.id, 'number');
    assert.match(shown.keypair.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });

  test('errors: unknown key pair → 404 the SDK can read; name taken → 409; delete → 204 and gone', async () => {
    const missing = await sdkError(ecs.novaShowKeypair(new NovaShowKeypairRequest('does-not-exist')));
    assert.equal(missing.httpStatusCode, 404);
    assert.equal(missing.errorCode, 'KPS.6004');
    assert.match(missing.errorMsg!, /does-not-exist/);
    assert.ok(missing.requestId);

    const taken = await sdkError(
      create(new NovaCreateKeypairOption('nova-imported').withPublicKey((await sshKeygen()).publicKey)),
    );
    assert.equal(taken.httpStatusCode, 409);

    const deleted = (await ecs.novaDeleteKeypair(new NovaDeleteKeypairRequest('kps-made'))) as any;
    assert.equal(deleted.httpStatusCode, 204);
    assert.equal((await sdkError(ecs.novaShowKeypair(new NovaShowKeypairRequest('kps-made')))).httpStatusCode, 404);
    const inUse = await sdkError(ecs.novaDeleteKeypair(new NovaDeleteKeypairRequest('nova-gen')));
    assert.equal(inUse.httpStatusCode, 409, 'a bound key pair cannot be deleted');
    assert.match(inUse.errorMsg!, /bound to 1 instance/);
  });
});
