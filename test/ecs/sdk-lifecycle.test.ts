/**
 * The issue's claim, proven the way an Alibaba user would: the official SDKs, pointed at keyfleet with
 * `endpoint: '127.0.0.1:<port>', protocol: 'http'`, run the whole key pair life cycle, and the real OpenSSH client
 * shows who can log in after each step. One scenario, four clients: @alicloud/ecs20140526 7.11.6 (default
 * ACS3-HMAC-SHA256 signing, and signatureAlgorithm 'v2'), @alicloud/pop-core 1.8.0 (GET and POST).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sleep, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import { type EcsDriver, ecsSdkDriver, popCoreDriver, sdkErrorOf } from './support/ecs-clients.js';

const REGION = 'cn-hangzhou';
const FIRST_PASSWORD = 'Initial-Pass-01';
const SECOND_PASSWORD = 'Second-Pass-02';
const MD5_FINGERPRINT = /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/;

const CLIENTS: Array<[tag: string, make: (url: string) => EcsDriver]> = [
  ['v3', (url) => ecsSdkDriver(url, 'default')],
  ['v2', (url) => ecsSdkDriver(url, 'v2')],
  ['popget', (url) => popCoreDriver(url, 'GET')],
  ['poppost', (url) => popCoreDriver(url, 'POST')],
];

describe('ECS API through the official SDKs: key pair life cycle, proven with OpenSSH', () => {
  let kf: Keyfleet;
  let sshPort: number;

  before(async () => {
    const started = await startInProcess();
    kf = started.kf;
    sshPort = Number(started.env.KEYFLEET_SIM_SSH_PORT);
  });
  after(async () => {
    await kf?.close();
  });

  for (const [tag, make] of CLIENTS) {
    test(`${make('http://127.0.0.1:1').label}: create, import, describe, attach (Linux + Windows), reboot, ssh, detach, password, stop/start, delete`, async () => {
      await scenario(make(kf.url), tag);
    });
  }

  async function login(address: string, auth: { identityFile?: string; password?: string }) {
    return sshRun({ host: address, port: sshPort, user: 'root', command: 'echo logged-in', ...auth });
  }

  async function scenario(ecs: EcsDriver, tag: string): Promise<void> {
    // The catalog: every region at this endpoint; at least one Linux and one Windows image.
    const regions = await ecs.describeRegions();
    assert.ok(
      regions.some((r) => r.regionId === REGION && r.endpoint === new URL(kf.url).host),
      JSON.stringify(regions),
    );
    const images = await ecs.describeImages(REGION);
    const linuxImage = images.find((i) => i.osType === 'linux')?.imageId;
    const windowsImage = images.find((i) => i.osType === 'windows')?.imageId;
    assert.ok(linuxImage && windowsImage, JSON.stringify(images));

    // Key pairs: a generated one (its private key is in this answer only) and an imported one, with tags.
    const created = await ecs.createKeyPair(REGION, `${tag}-key`, [{ key: 'suite', value: tag }]);
    assert.equal(created.name, `${tag}-key`);
    assert.match(created.privateKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    assert.match(created.fingerprint, MD5_FINGERPRINT);
    assert.ok(created.id);
    const keyFile = await writePrivateKey(created.privateKey);
    const own = await sshKeygen('ed25519', `${tag}@laptop`);
    const imported = await ecs.importKeyPair(REGION, `${tag}-imported.key`, own.publicKey, [
      { key: 'suite', value: tag },
      { key: 'origin', value: 'ssh-keygen' },
    ]);
    assert.match(imported.fingerprint, MD5_FINGERPRINT);

    // DescribeKeyPairs: wildcard, fingerprint, tags, paging, IncludePublicKey.
    const wild = await ecs.describeKeyPairs(REGION, { name: `${tag}-*`, includePublicKey: true });
    assert.equal(wild.totalCount, 2);
    assert.deepEqual(wild.keyPairs.map((k) => k.name).sort(), [`${tag}-imported.key`, `${tag}-key`]);
    const importedView = wild.keyPairs.find((k) => k.name === `${tag}-imported.key`)!;
    assert.equal(importedView.publicKey, own.publicKey);
    assert.match(importedView.creationTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    assert.deepEqual(importedView.tags, [
      { key: 'origin', value: 'ssh-keygen' },
      { key: 'suite', value: tag },
    ]);
    const byFingerprint = await ecs.describeKeyPairs(REGION, { fingerprint: imported.fingerprint });
    assert.deepEqual(
      byFingerprint.keyPairs.map((k) => k.name),
      [`${tag}-imported.key`],
    );
    assert.equal(byFingerprint.keyPairs[0]!.publicKey, undefined, 'no PublicKey unless asked for');
    const byTag = await ecs.describeKeyPairs(REGION, {
      tags: [
        { key: 'suite', value: tag },
        { key: 'origin', value: 'ssh-keygen' },
      ],
    });
    assert.deepEqual(
      byTag.keyPairs.map((k) => k.name),
      [`${tag}-imported.key`],
    );
    const secondPage = await ecs.describeKeyPairs(REGION, { name: `${tag}-*`, pageNumber: 2, pageSize: 1 });
    assert.deepEqual(
      [secondPage.totalCount, secondPage.pageNumber, secondPage.pageSize, secondPage.keyPairs.length],
      [2, 2, 1, 1],
    );
    const exact = await ecs.describeKeyPairs(REGION, { name: `${tag}-key` });
    assert.deepEqual(
      exact.keyPairs.map((k) => k.fingerprint),
      [created.fingerprint],
    );

    // The fleet: one Linux and one Windows instance, both with a password.
    const [linux] = await ecs.runInstances(REGION, {
      imageId: linuxImage,
      name: `${tag}-web`,
      password: FIRST_PASSWORD,
    });
    const [windows] = await ecs.runInstances(REGION, {
      imageId: windowsImage,
      name: `${tag}-win`,
      password: FIRST_PASSWORD,
    });
    await waitStatus(ecs, [linux!, windows!], 'Running');
    const inst = (await ecs.describeInstances(REGION, { instanceIds: [linux!] })).instances[0]!;
    assert.match(inst.address, /^127\.\d+\.\d+\.\d+$/);
    assert.equal(
      (await login(inst.address, { password: FIRST_PASSWORD })).code,
      0,
      'the first password logs in before any key pair',
    );

    // One call for a Linux and a Windows instance: HTTP 200, partial success, a result per instance.
    const attached = await ecs.attachKeyPair(REGION, created.name, [linux!, windows!]);
    assert.deepEqual([attached.keyPairName, attached.totalCount, attached.failCount], [created.name, '2', '1']);
    assert.deepEqual(
      attached.results.map((r) => [r.instanceId, r.success, r.code]),
      [
        [linux, 'true', '200'],
        [windows, 'false', 'DependencyViolation.WindowsInstance'],
      ],
    );
    assert.equal(attached.results[0]!.message, 'successful');
    const bound = await ecs.describeInstances(REGION, { keyPairName: created.name });
    assert.deepEqual(
      bound.instances.map((i) => [i.id, i.keyPairName, i.osType]),
      [[linux, created.name, 'linux']],
      'DescribeInstances shows the binding at once',
    );

    // A bound key pair cannot be deleted.
    await assert.rejects(
      ecs.deleteKeyPairs(REGION, [created.name]),
      (e) => sdkErrorOf(e).code === 'InvalidParameter.KeypairAlreadyAttachedInstance',
    );

    // RebootInstance applies it: the key logs in, the password no longer does.
    await reboot(ecs, linux!);
    const keyLogin = await login(inst.address, { identityFile: keyFile });
    assert.equal(keyLogin.code, 0, keyLogin.stderr);
    assert.equal(keyLogin.stdout.trim(), 'logged-in');
    assert.equal(
      (await login(inst.address, { password: FIRST_PASSWORD })).code,
      255,
      'password login is off after attach',
    );

    // DetachKeyPair, reboot: the key is refused.
    const detached = await ecs.detachKeyPair(REGION, created.name, [linux!]);
    assert.deepEqual([detached.totalCount, detached.failCount, detached.results[0]!.success], ['1', '0', 'true']);
    assert.equal((await ecs.describeInstances(REGION, { instanceIds: [linux!] })).instances[0]!.keyPairName, '');
    await reboot(ecs, linux!);
    assert.equal(
      (await login(inst.address, { identityFile: keyFile })).code,
      255,
      'the key is refused after detach and reboot',
    );
    assert.equal(
      (await login(inst.address, { password: FIRST_PASSWORD })).code,
      0,
      'the password method is back after detach',
    );

    // ModifyInstanceAttribute Password, reboot: the new password logs in, the old one does not.
    await ecs.modifyPassword(linux!, SECOND_PASSWORD);
    await reboot(ecs, linux!);
    const passwordLogin = await login(inst.address, { password: SECOND_PASSWORD });
    assert.equal(passwordLogin.code, 0, passwordLogin.stderr);
    assert.equal((await login(inst.address, { password: FIRST_PASSWORD })).code, 255, 'the old password is gone');

    // A Stopped instance takes a change at StartInstance.
    await ecs.stopInstance(linux!);
    await waitStatus(ecs, [linux!], 'Stopped');
    const whileStopped = await ecs.attachKeyPair(REGION, `${tag}-imported.key`, [linux!]);
    assert.equal(whileStopped.failCount, '0');
    await ecs.startInstance(linux!);
    await waitStatus(ecs, [linux!], 'Running');
    const importedLogin = await login(inst.address, { identityFile: own.privateKeyPath });
    assert.equal(importedLogin.code, 0, importedLogin.stderr);

    // Clean up through the API: detach, delete the instances, then the key pairs.
    await ecs.detachKeyPair(REGION, `${tag}-imported.key`, [linux!]);
    await ecs.deleteInstance(linux!, true);
    await ecs.deleteInstance(windows!, true);
    await ecs.deleteKeyPairs(REGION, [created.name, `${tag}-imported.key`]);
    assert.equal((await ecs.describeKeyPairs(REGION, { name: `${tag}-*` })).totalCount, 0);
    assert.equal((await ecs.describeInstances(REGION, { instanceIds: [linux!, windows!] })).totalCount, 0);
  }
});

async function reboot(ecs: EcsDriver, id: string): Promise<void> {
  await ecs.rebootInstance(id);
  await waitStatus(ecs, [id], 'Running');
}

/** Polls DescribeInstances until every instance is in `status`. */
async function waitStatus(ecs: EcsDriver, ids: string[], status: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { instances } = await ecs.describeInstances(REGION, { instanceIds: ids });
    if (instances.length === ids.length && instances.every((i) => i.status === status)) return;
    if (Date.now() > deadline)
      throw new Error(`instances are ${instances.map((i) => `${i.id}:${i.status}`).join(', ')}, not ${status}`);
    await sleep(25);
  }
}
