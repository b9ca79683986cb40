/**
 * The product's claim, proven as a user would: bind and unbind change who can log in, checked with the real
 * OpenSSH client against the simulated fleet, through the native API, in both modes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import { type Api, LINUX_IMAGE, startInProcess, tempDir, WINDOWS_IMAGE } from '../support/keyfleet.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';

const pexec = promisify(execFile);

describe('bind and unbind change who can log in (real OpenSSH client)', () => {
  let kf: Keyfleet;
  let api: Api;

  before(async () => {
    ({ kf, api } = await startInProcess());
  });
  after(async () => {
    await kf?.close();
  });

  async function ssh(inst: any, auth: { identityFile?: string; password?: string }) {
    return sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo logged-in', ...auth });
  }

  test('on-restart: bind → restart → key in, password out; unbind → restart → key refused; reset password → restart → password in', async () => {
    const { privateKey, keyPair } = await api.createKeyPair('restart-key');
    const keyFile = await writePrivateKey(privateKey);
    const [linuxA, linuxB] = await api.run({
      imageId: LINUX_IMAGE,
      amount: 2,
      name: 'web',
      password: 'Initial-Pass-01',
    });
    const [windows] = await api.run({ imageId: WINDOWS_IMAGE, name: 'win' });
    await api.waitStatus([linuxA!, linuxB!, windows!], 'Running');

    // One call for Linux and Windows instances: partial success, with a reason per instance.
    const r = await api.bind({ action: 'bind', keyPairName: 'restart-key', instanceIds: [linuxA, linuxB, windows] });
    assert.equal(r.task.status, 'partial');
    assert.deepEqual(
      r.items.map((i: any) => i.status),
      ['succeeded', 'succeeded', 'failed'],
    );
    assert.equal(r.items[2].errorCode, 'Instance.WindowsNotSupported');

    let a = await api.instance(linuxA!);
    assert.equal(a.keyPairName, 'restart-key', 'the binding shows at once');
    assert.equal(a.pendingRestart, true, 'and waits for a restart');
    assert.equal(
      (await ssh(a, { identityFile: keyFile })).code,
      255,
      'before the restart the key is not on the machine',
    );
    assert.equal(
      (await ssh(a, { password: 'Initial-Pass-01' })).stdout.trim(),
      'logged-in',
      'and the password still works',
    );

    await api.restart(linuxA!);
    a = await api.instance(linuxA!);
    assert.equal(a.pendingRestart, false);
    assert.equal(a.passwordLogin, false);
    const keyLogin = await ssh(a, { identityFile: keyFile });
    assert.equal(keyLogin.code, 0, keyLogin.stderr);
    assert.equal(keyLogin.stdout.trim(), 'logged-in');
    const pw = await ssh(a, { password: 'Initial-Pass-01' });
    assert.equal(pw.code, 255, 'password login is turned off by the binding');

    // The key pair cannot be deleted while bound, and the error says where.
    const del = await api.raw('DELETE', `/api/v1/regions/cn-hangzhou/key-pairs/${keyPair.name}`);
    assert.equal(del.status, 409);
    assert.equal(del.body.code, 'KeyPair.InUse');
    assert.match(del.body.message, new RegExp(linuxA!));

    const u = await api.bind({ action: 'unbind', keyPairName: 'restart-key', instanceIds: [linuxA] });
    assert.equal(u.task.status, 'succeeded');
    a = await api.instance(linuxA!);
    assert.equal(a.keyPairName, null);
    assert.equal(a.pendingRestart, true);
    assert.equal((await ssh(a, { identityFile: keyFile })).code, 0, 'until the restart the key still works');
    await api.restart(linuxA!);
    assert.equal((await ssh(a, { identityFile: keyFile })).code, 255, 'after the restart the key is refused');

    await api.call('POST', `/api/v1/instances/${linuxA}/reset-password`, { password: 'Reset-Pass-0002' });
    await api.restart(linuxA!);
    const after = await ssh(a, { password: 'Reset-Pass-0002' });
    assert.equal(after.code, 0, after.stderr);
    assert.equal((await ssh(a, { password: 'Initial-Pass-01' })).code, 255, 'the old password is gone');

    // linuxB was bound too and has not been restarted: still pending.
    assert.equal((await api.instance(linuxB!)).pendingRestart, true);
  });

  test('a stopped instance takes the change when it starts', async () => {
    const { privateKey } = await api.createKeyPair('stopped-key', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const [id] = await api.run({ imageId: LINUX_IMAGE, start: false });
    await api.waitStatus([id!], 'Stopped');
    await api.bind({ action: 'bind', keyPairName: 'stopped-key', instanceIds: [id] });
    await api.call('POST', `/api/v1/instances/${id}/start`);
    await api.waitStatus([id!], 'Running');
    const inst = await api.instance(id!);
    assert.equal(inst.pendingRestart, false);
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 0);
  });

  test('live: bind with the root password, key works at once with no restart; unbind with the private key, refused at once; hand-added lines survive', async () => {
    const { privateKey } = await api.createKeyPair('live-key');
    const keyFile = await writePrivateKey(privateKey);
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: 'Live-Pass-0001' });
    await api.waitStatus([id!], 'Running');
    let inst = await api.instance(id!);

    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'live-key',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'password', password: 'Live-Pass-0001' },
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
    assert.match(bound.items[0].note, /verified by login/);
    inst = await api.instance(id!);
    assert.equal(inst.pendingRestart, false, 'nothing waits for a restart');
    assert.equal((await ssh(inst, { identityFile: keyFile })).stdout.trim(), 'logged-in');
    assert.equal((await ssh(inst, { password: 'Live-Pass-0001' })).code, 255, 'password login is off at once');

    // Someone adds a key by hand (over SFTP, as a person with access would).
    const other = tempDir();
    await pexec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hand-added', '-f', path.join(other, 'k')]);
    const handLine = fs.readFileSync(path.join(other, 'k.pub'), 'utf8').trim();
    await appendOverSftp(inst, keyFile, handLine);

    const unbound = await api.bind({
      action: 'unbind',
      keyPairName: 'live-key',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'privateKey', privateKey },
    });
    assert.equal(unbound.task.status, 'succeeded', JSON.stringify(unbound.items));
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 255, 'the key is refused at once');
    const hand = await ssh(inst, { identityFile: path.join(other, 'k') });
    assert.equal(hand.code, 0, 'the hand-added key still logs in');
    const pw = await ssh(inst, { password: 'Live-Pass-0001' });
    assert.equal(pw.code, 0, 'the password method is back (this instance had a password)');
  });

  test('live changes refuse without a credential and fail per instance with a clear code; nothing changes', async () => {
    await api.createKeyPair('live-nocred');
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: 'Live-Pass-0002' });
    await api.waitStatus([id!], 'Running');
    const r = await api.bind({ action: 'bind', keyPairName: 'live-nocred', instanceIds: [id], mode: 'live' });
    assert.equal(r.items[0].errorCode, 'Live.CredentialRequired');
    const wrong = await api.bind({
      action: 'bind',
      keyPairName: 'live-nocred',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'password', password: 'Wrong-Pass-0002' },
    });
    assert.equal(wrong.items[0].errorCode, 'Live.CredentialRejected');
    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, null);
    assert.equal((await ssh(inst, { password: 'Live-Pass-0002' })).code, 0);
  });
});

/** Appends a line to root's authorized_keys with the OpenSSH sftp client (get, append locally, put). */
async function appendOverSftp(inst: any, keyFile: string, line: string): Promise<void> {
  const dir = tempDir();
  const local = path.join(dir, 'authorized_keys');
  const base = [
    '-q',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-i',
    keyFile,
    '-P',
    String(inst.sshPort),
  ];
  const batch = path.join(dir, 'get');
  fs.writeFileSync(batch, `get /root/.ssh/authorized_keys ${local}\n`);
  await pexec('sftp', [...base, '-b', batch, `root@${inst.address}`]);
  fs.appendFileSync(local, line + '\n');
  fs.writeFileSync(batch, `put ${local} /root/.ssh/authorized_keys\n`);
  await pexec('sftp', [...base, '-b', batch, `root@${inst.address}`]);
}
