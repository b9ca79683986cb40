/**
 * Registered real hosts (issue 5, first slice; ADR 9) against real Debian OpenSSH sshd hosts from the harness,
 * through the native API as a user would: register (host key pinned on first use), live bind proven by a real
 * `ssh -i`, unbind, hand-added lines kept, a changed host key refused, a broken sshd drop-in rolled back, and the
 * lock-out guard. How the hosts are prepared (and sshd reloaded for their non-root user): support/registered-hosts.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, type Api, tempDir } from '../support/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import {
  akPath,
  cli,
  dirOf,
  dropIn,
  login,
  REGION,
  type RegisteredFleet,
  startRegisteredFleet,
  tempFilesIn,
} from './support/registered-hosts.js';

const run = promisify(execFile);

describe('registered real hosts: live bind/unbind on real sshd', () => {
  let fleet: RegisteredFleet;
  let kf: Keyfleet;
  let api: Api;
  let host1: TestHost, host2: TestHost, host3: TestHost;
  let mgmt: RegisteredFleet['mgmt'];
  let hand: RegisteredFleet['hand'];
  let ids: Map<string, string>;

  const registerBody = (h: TestHost, name: string, extra: Record<string, unknown> = {}) =>
    fleet.registerBody(h, name, extra);
  const register = (h: TestHost, name: string, extra: Record<string, unknown> = {}) => fleet.register(h, name, extra);

  async function change(body: Record<string, unknown>) {
    const r = await api.bind({ mode: 'live', ...body });
    assert.equal(r.items.length, 1);
    return r.items[0];
  }

  before(async () => {
    fleet = await startRegisteredFleet(3);
    ({ kf, api, mgmt, hand, ids } = fleet);
    [host1, host2, host3] = fleet.hosts as [TestHost, TestHost, TestHost];
  });

  after(async () => {
    await fleet?.close();
  });

  test('register: the host key is pinned on first use and shown; the management key is never shown; no power control', async () => {
    // A host key given up front that the host does not have: nothing is registered.
    const wrong = await api.raw(
      'POST',
      `/api/v1/regions/${REGION}/hosts`,
      registerBody(host1, 'web1-wrong', { hostKeySha256: host2.hostKeySha256 }),
    );
    assert.equal(wrong.body.code, 'Live.HostKeyChanged');
    // A management key the host does not accept: nothing is registered either.
    const other = await sshKeygen('ed25519', 'not-authorised');
    const refused = await api.raw(
      'POST',
      `/api/v1/regions/${REGION}/hosts`,
      registerBody(host1, 'web1-refused', { managementPrivateKey: await fs.readFile(other.privateKeyPath, 'utf8') }),
    );
    assert.equal(refused.body.code, 'Live.CredentialRejected');
    const r = await register(host1, 'web1');
    assert.equal(r.hostKeySha256, host1.hostKeySha256, 'the pinned key is the one sshd serves');
    assert.equal(r.pinnedOnFirstUse, true);
    assert.equal(r.instance.backend, 'host');
    assert.equal(r.instance.status, 'Running');
    assert.equal(r.instance.hostKeySha256, host1.hostKeySha256);
    assert.deepEqual(r.instance.host, {
      homeDir: host1.home,
      // Root's keys are read from root's home unless the host says otherwise (revoke-everywhere reads them).
      rootKeysFile: null,
      dropInPath: dropIn(host1),
      reloadCommand: registerBody(host1, 'x').reloadCommand,
      validateCommand: `/usr/sbin/sshd -t -f ${host1.sshdConfigPath}`,
      managementUser: host1.user,
      hasManagementKey: true,
      passwordLogin: 'managed',
      sudo: false,
    });
    const keyBody = mgmt.privateKey.split('\n')[1]!;
    assert.ok(!JSON.stringify(r).includes(keyBody), 'the management key is not in the answer');
    assert.ok(!JSON.stringify(await api.instance(r.instance.id)).includes(keyBody));

    const started = await api.raw('POST', `/api/v1/instances/${r.instance.id}/stop`);
    assert.equal(started.body.code, 'Instance.IncorrectStatus');
    assert.match(started.body.message, /registered host/);
  });

  test('live bind with the held management key: the bound key logs in, the management and hand-added keys still do, password is off; unbind reverses it', async () => {
    const id = ids.get('web1')!;
    const { privateKey } = await api.createKeyPair('host-kp1', 'ed25519');
    const kpFile = await writePrivateKey(privateKey);
    assert.equal((await login(host1, { password: host1.password })).code, 0, 'password login works before');

    const onRestart = await api.bind({
      action: 'bind',
      keyPairName: 'host-kp1',
      instanceIds: [id],
      mode: 'on-restart',
    });
    assert.equal(onRestart.items[0].errorCode, 'Instance.LiveOnly', 'a registered host is never restarted by keyfleet');

    const bound = await change({ action: 'bind', keyPairName: 'host-kp1', instanceIds: [id] });
    assert.equal(bound.status, 'succeeded', JSON.stringify(bound));
    assert.match(bound.note, /key 'host-kp1' accepted/);
    const keyLogin = await login(host1, { identityFile: kpFile });
    assert.equal(keyLogin.code, 0, keyLogin.stderr);
    assert.equal((await login(host1, { identityFile: mgmt.privateKeyPath })).code, 0, 'the management key still works');
    assert.equal((await login(host1, { identityFile: hand.privateKeyPath })).code, 0, 'the hand-added key still works');
    assert.equal((await login(host1, { password: host1.password })).code, 255, 'password login is off');
    const ak = await fs.readFile(akPath(host1), 'utf8');
    assert.ok(ak.includes('# added by hand') && ak.includes(hand.publicKey), 'hand-added lines survive');
    const st = await fs.stat(akPath(host1));
    assert.equal(st.uid, host1.uid);
    assert.equal(st.mode & 0o777, 0o600);
    assert.match(await fs.readFile(dropIn(host1), 'utf8'), /PasswordAuthentication no/);
    assert.equal((await api.instance(id)).keyPairName, 'host-kp1');
    assert.deepEqual(tempFilesIn(host1), [], 'no temp file left by the write');

    // Bound again: nothing to change, and the temp file opened with the read is gone again.
    const mtime = (await fs.stat(akPath(host1))).mtimeMs;
    const again = await change({ action: 'bind', keyPairName: 'host-kp1', instanceIds: [id] });
    assert.equal(again.status, 'succeeded', JSON.stringify(again));
    assert.equal((await fs.stat(akPath(host1))).mtimeMs, mtime, 'authorized_keys was not rewritten');
    assert.deepEqual(tempFilesIn(host1), [], 'no temp file left when nothing changed');

    const unbound = await change({ action: 'unbind', instanceIds: [id] });
    assert.equal(unbound.status, 'succeeded', JSON.stringify(unbound));
    assert.equal((await login(host1, { identityFile: kpFile })).code, 255, 'the unbound key is refused');
    assert.equal((await login(host1, { identityFile: mgmt.privateKeyPath })).code, 0);
    assert.equal((await login(host1, { identityFile: hand.privateKeyPath })).code, 0);
    assert.equal((await login(host1, { password: host1.password })).code, 0, 'password login is back');
    assert.ok((await fs.readFile(akPath(host1), 'utf8')).includes(hand.publicKey));
  });

  test('lock-out guard: removing the key keyfleet logs in with, when nothing else authorises it, is refused', async () => {
    const id = ids.get('web1')!;
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'host-mgmt', publicKey: mgmt.publicKey });
    assert.equal((await change({ action: 'bind', keyPairName: 'host-mgmt', instanceIds: [id] })).status, 'succeeded');
    // The hand-installed copy goes: keyfleet's block is now the only way in for the management key.
    const withoutHandCopy = (await fs.readFile(akPath(host1), 'utf8'))
      .split('\n')
      .filter((l) => !(l.startsWith(mgmt.publicKey.split(' ').slice(0, 2).join(' ')) && !l.includes('keyfleet:')))
      .join('\n');
    await fs.writeFile(akPath(host1), withoutHandCopy);
    const before = await fs.readFile(akPath(host1), 'utf8');

    const unbind = await change({ action: 'unbind', instanceIds: [id] });
    assert.equal(unbind.status, 'failed');
    assert.equal(unbind.errorCode, 'Live.LockoutRefused');
    const replace = await change({ action: 'bind', keyPairName: 'host-kp1', instanceIds: [id] });
    assert.equal(replace.errorCode, 'Live.LockoutRefused', 'replacing it is the same removal');
    assert.equal(await fs.readFile(akPath(host1), 'utf8'), before, 'nothing was changed');
    assert.deepEqual(tempFilesIn(host1), [], 'and nothing prepared was left behind');
    assert.equal((await login(host1, { identityFile: mgmt.privateKeyPath })).code, 0);
    assert.equal((await api.instance(id)).keyPairName, 'host-mgmt');
  });

  test('a broken sshd configuration: validation fails, keyfleet rolls its drop-in and authorized_keys back, sshd keeps serving', async () => {
    const id = (await register(host2, 'web2')).instance.id;
    const { privateKey } = await api.createKeyPair('host-kp2', 'ed25519');
    const kpFile = await writePrivateKey(privateKey);
    // Sorts after keyfleet's drop-in: `sshd -t` fails once keyfleet has written (never reloaded, so sshd still runs).
    await fs.writeFile(path.join(host2.configDir, '99-broken.conf'), 'NoSuchKeyword yes\n');
    const akBefore = await fs.readFile(akPath(host2), 'utf8');

    const item = await change({ action: 'bind', keyPairName: 'host-kp2', instanceIds: [id] });
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'Live.RemoteError');
    assert.match(item.errorMessage, /sshd refused the new configuration and it was rolled back/);
    assert.equal(existsSync(dropIn(host2)), false, "keyfleet's drop-in was removed again");
    assert.equal(await fs.readFile(akPath(host2), 'utf8'), akBefore, 'authorized_keys restored');
    assert.equal((await login(host2, { identityFile: mgmt.privateKeyPath })).code, 0, 'sshd still serves');
    assert.equal((await login(host2, { identityFile: kpFile })).code, 255);
    assert.equal((await login(host2, { password: host2.password })).code, 0);
    assert.equal((await api.instance(id)).keyPairName, null);

    await fs.rm(path.join(host2.configDir, '99-broken.conf'));
    const retried = await change({ action: 'bind', keyPairName: 'host-kp2', instanceIds: [id] });
    assert.equal(retried.status, 'succeeded', JSON.stringify(retried));
    assert.equal((await login(host2, { identityFile: kpFile })).code, 0);
  });

  test('a changed host key stops the operation before anything is written', async () => {
    const id = (await register(host3, 'web3')).instance.id;
    const keyFile = path.join(dirOf(host3), 'ssh_host_ed25519_key');
    await host3.stop();
    await fs.rm(keyFile);
    await fs.rm(`${keyFile}.pub`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    await fs.chown(keyFile, host3.uid, host3.gid);
    await host3.restart();
    const akBefore = await fs.readFile(akPath(host3), 'utf8');

    const item = await change({ action: 'bind', keyPairName: 'host-kp1', instanceIds: [id] });
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'Live.HostKeyChanged');
    assert.equal(await fs.readFile(akPath(host3), 'utf8'), akBefore);
    assert.equal(existsSync(dropIn(host3)), false);
    assert.equal(
      (await api.instance(id)).hostKeySha256,
      host3.hostKeySha256,
      'the pin is kept, not replaced by what the host now shows',
    );
  });

  test('lock-out guard: a host managed by password only cannot have password login turned off', async () => {
    const again = await api.raw('POST', `/api/v1/regions/${REGION}/hosts`, registerBody(host3, 'web3-again'));
    assert.equal(again.body.code, 'Instance.AlreadyRegistered', 'a host is registered once');
    await api.call('DELETE', `/api/v1/instances/${ids.get('web3')}`);
    assert.ok(existsSync(akPath(host3)), 'deregistering does not touch the host');
    const r = await register(host3, 'web3-password', { managementPrivateKey: undefined });
    assert.equal(r.instance.host.hasManagementKey, false);
    assert.notEqual(r.hostKeySha256, host3.hostKeySha256, 'the new host key was pinned');
    const item = await change({
      action: 'bind',
      keyPairName: 'host-kp1',
      instanceIds: [r.instance.id],
      credential: { kind: 'password', password: host3.password },
    });
    assert.equal(item.errorCode, 'Live.LockoutRefused');
    assert.equal(existsSync(dropIn(host3)), false);
    assert.equal((await login(host3, { password: host3.password })).code, 0);
    // Without any credential, a host with no management key says so.
    const none = await change({ action: 'unbind', instanceIds: [r.instance.id] });
    assert.equal(none.errorCode, 'Live.CredentialRequired');
  });

  test('errors never carry the management key', async () => {
    const bad = await api.raw(
      'POST',
      `/api/v1/regions/${REGION}/hosts`,
      registerBody(host1, 'web-bad', {
        managementPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n',
      }),
    );
    assert.equal(bad.body.code, 'PrivateKey.Malformed');
    assert.ok(!JSON.stringify(bad.body).includes('not-a-key'));
  });

  test('CLI: hosts import registers an inventory with a row per host; hosts add takes the host key up front', async () => {
    const env = {
      KEYFLEET_ENDPOINT: kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    await api.call('DELETE', `/api/v1/instances/${ids.get('web2')}`);
    const dir = tempDir();
    const keyFile = path.join(dir, 'mgmt');
    await fs.writeFile(keyFile, mgmt.privateKey, { mode: 0o600 });
    const csv = path.join(dir, 'fleet.csv');
    await fs.writeFile(
      csv,
      `name,address,port,user\nweb2-cli,${host2.address},${host2.port},${host2.user}\nweb1-dup,${host1.address},${host1.port},${host1.user}\n`,
    );
    const b = registerBody(host2, 'x');
    const shared = [
      '--management-key',
      keyFile,
      '--drop-in',
      b.dropInPath,
      '--reload-command',
      b.reloadCommand,
      '--validate-command',
      b.validateCommand,
    ];
    const imported = await cli(['--json', 'hosts', 'import', csv, ...shared], env);
    assert.equal(imported.code, 3, imported.stderr);
    const out = JSON.parse(imported.stdout);
    assert.equal(out.registered, 1);
    assert.equal(out.hosts[0].hostKeySha256, host2.hostKeySha256);
    assert.equal(out.hosts[1].error.code, 'Instance.AlreadyRegistered');
    const inst = await api.instance(out.hosts[0].instanceId);
    assert.equal(inst.host.homeDir, `/home/${host2.user}`, 'the default home');

    await api.call('DELETE', `/api/v1/instances/${out.hosts[0].instanceId}`);
    const added = await cli(
      [
        'hosts',
        'add',
        'web2-add',
        '--address',
        host2.address,
        '--port',
        String(host2.port),
        '--login-user',
        host2.user,
        '--home-dir',
        host2.home,
        '--host-key',
        host2.hostKeySha256,
        ...shared,
      ],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`${host2.hostKeySha256.replace(/[+/]/g, '\\$&')} \\(as given\\)`));
    assert.match(added.stdout, /held, sealed/);
  });
});
