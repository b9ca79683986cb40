/**
 * A host managed by a user that is not root (issue 5: "how keyfleet itself authenticates"): the harness user logs
 * in with keyfleet's management key and has passwordless sudo; the sshd drop-in directory, the host key (read by
 * `sshd -t`) and the sshd process (reloaded with kill -HUP) belong to root. With `sudo: true` the whole live
 * change goes through `sudo -n`; without it the change fails on the drop-in and the authorized_keys edit made
 * before is undone; with sudo set but no sudoers rule, sudo's refusal is reported and nothing changes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const sudoersFile = (h: TestHost) => `/etc/sudoers.d/keyfleet-test-${h.user}`;

describe('hosts managed through sudo by a non-root management user', () => {
  let kf: Keyfleet;
  let api: Api;
  let hosts: TestHost[] = [];
  let withSudo: TestHost, withoutSudo: TestHost, noRule: TestHost;
  let mgmt: { privateKeyPath: string; publicKey: string };
  let userKey: { privateKeyPath: string; publicKey: string };
  const ids = new Map<TestHost, string>();

  const akPath = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
  const dropIn = (h: TestHost) => path.join(h.configDir, '10-keyfleet.conf');
  const keyLogin = (h: TestHost) =>
    sshRun({ host: h.address, port: h.port, user: h.user, command: 'echo in', identityFile: userKey.privateKeyPath });
  const passwordLogin = (h: TestHost) =>
    sshRun({ host: h.address, port: h.port, user: h.user, command: 'echo in', password: h.password });
  const bind = async (h: TestHost, action: 'bind' | 'unbind') =>
    (await api.bind({ action, keyPairName: 'sudo-key', instanceIds: [ids.get(h)], mode: 'live' })).items[0];

  before(async () => {
    hosts = await startHosts(3, { user: 'kfu' });
    [withSudo, withoutSudo, noRule] = hosts as [TestHost, TestHost, TestHost];
    mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    userKey = await sshKeygen('ed25519', 'sudo-user');
    for (const h of hosts) {
      await fs.mkdir(path.join(h.home, '.ssh'), { mode: 0o700 });
      await fs.writeFile(akPath(h), `${mgmt.publicKey}\n`, { mode: 0o600 });
      await fs.chown(path.join(h.home, '.ssh'), h.uid, h.gid);
      await fs.chown(akPath(h), h.uid, h.gid);
    }
    for (const h of [withSudo, withoutSudo])
      await fs.writeFile(sudoersFile(h), `${h.user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    ({ kf, api } = await startInProcess());
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'sudo-key', publicKey: userKey.publicKey });
    for (const [h, sudo] of [
      [withSudo, true],
      [withoutSudo, false],
      [noRule, true],
    ] as const) {
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `sudo-${h.name}`,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        managementPrivateKey: await fs.readFile(mgmt.privateKeyPath, 'utf8'),
        sudo,
        dropInPath: dropIn(h),
        reloadCommand: `kill -HUP $(cat ${path.dirname(h.home)}/sshd.pid)`,
        validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
      });
      assert.equal(r.instance.host.sudo, sudo);
      ids.set(h, r.instance.id);
    }
  });

  after(async () => {
    await kf?.close();
    for (const h of hosts) await fs.rm(sudoersFile(h), { force: true });
    await stopHosts(hosts);
  });

  test("the drop-in directory and sshd are root's: the management user cannot write or reload them itself", async () => {
    const st = await fs.stat(withSudo.configDir);
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o022, 0, 'not writable by others');
  });

  test('with sudo: bind writes the block (owner kept) and a root-owned drop-in, validates, reloads, and is proven', async () => {
    const item = await bind(withSudo, 'bind');
    assert.equal(item.status, 'succeeded', JSON.stringify(item));
    assert.match(item.note, /verified by login: key 'sudo-key' accepted, password method off/);
    const ak = await fs.stat(akPath(withSudo));
    assert.equal(ak.uid, withSudo.uid, "authorized_keys still the user's");
    assert.equal(ak.mode & 0o777, 0o600);
    const drop = await fs.stat(dropIn(withSudo));
    assert.equal(drop.uid, 0, "the new drop-in is root's, like its directory");
    assert.match(await fs.readFile(dropIn(withSudo), 'utf8'), /PasswordAuthentication no/);
    assert.deepEqual(
      (await fs.readdir(path.dirname(akPath(withSudo)))).filter((f) => f.includes('keyfleet-tmp')),
      [],
      'no temp file left',
    );
    assert.equal((await keyLogin(withSudo)).code, 0);
    assert.notEqual((await passwordLogin(withSudo)).code, 0, 'password login off');
  });

  test('with sudo: unbind brings the password method back; a drift scan reads the host through sudo', async () => {
    const item = await bind(withSudo, 'unbind');
    assert.equal(item.status, 'succeeded', JSON.stringify(item));
    assert.notEqual((await keyLogin(withSudo)).code, 0);
    assert.equal((await passwordLogin(withSudo)).code, 0);
    const scan = await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [ids.get(withSudo)] });
    assert.equal(scan.results[0].status, 'in-sync', JSON.stringify(scan.results[0]));
  });

  test('without sudo: the drop-in cannot be written, the authorized_keys edit is undone, nothing else changes', async () => {
    const before = await fs.readFile(akPath(withoutSudo), 'utf8');
    const item = await bind(withoutSudo, 'bind');
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'Live.RemoteError');
    assert.match(item.errorMessage, /10-keyfleet\.conf/);
    assert.equal(await fs.readFile(akPath(withoutSudo), 'utf8'), before, 'authorized_keys restored');
    assert.equal(existsSync(dropIn(withoutSudo)), false);
    assert.equal((await passwordLogin(withoutSudo)).code, 0);
  });

  test("sudo set but no sudoers rule: sudo's refusal is reported, nothing changes", async () => {
    const before = await fs.readFile(akPath(noRule), 'utf8');
    const item = await bind(noRule, 'bind');
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'Live.RemoteError');
    assert.match(item.errorMessage, /sudo refused .*password is required.*NOPASSWD/);
    assert.equal(await fs.readFile(akPath(noRule), 'utf8'), before);
    assert.equal(existsSync(dropIn(noRule)), false);
  });
});
