/**
 * Fan-out over registered real hosts (issue 5) against Debian sshd hosts from the harness, managed the way a fleet
 * is: keyfleet logs in as root with its management key and edits another user's authorized_keys.
 *  - one call changes many hosts live, each with its own result; the proof logs in as the managed user;
 *  - a dry run says per host what would change and changes nothing;
 *  - verification off writes without a second connection;
 *  - a host's password-login policy: 'managed' turns password login off/on through the drop-in with an
 *    asynchronous reload (kill -HUP, as `systemctl reload ssh` does), 'unmanaged' never touches sshd;
 *  - a host that is down is retried with backoff: it succeeds when it comes back, fails alone when it does not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const HAND_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHandAddedHandAddedHandAddedHandAdded0000 hand-added';

describe('fan-out over real hosts managed as root', () => {
  let kf: Keyfleet;
  let api: Api;
  let hosts: TestHost[] = [];
  let mgmt: { privateKeyPath: string; publicKey: string };
  let userKey: { privateKeyPath: string; publicKey: string };
  const ids = new Map<TestHost, string>();

  const akPath = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
  const dropIn = (h: TestHost) => path.join(h.configDir, '10-keyfleet.conf');
  const keyLogin = (h: TestHost) =>
    sshRun({ host: h.address, port: h.port, user: h.user, command: 'echo in', identityFile: userKey.privateKeyPath });
  const passwordLogin = (h: TestHost) =>
    sshRun({ host: h.address, port: h.port, user: h.user, command: 'echo in', password: h.password });
  const idsOf = (hs: TestHost[]) => hs.map((h) => ids.get(h)!);

  async function register(h: TestHost, passwordPolicy: 'managed' | 'unmanaged'): Promise<void> {
    const dir = path.dirname(h.home);
    const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
      name: `fan-${h.name}`,
      address: h.address,
      port: h.port,
      loginUser: h.user,
      homeDir: h.home,
      managementUser: 'root',
      managementPrivateKey: await fs.readFile(mgmt.privateKeyPath, 'utf8'),
      passwordLogin: passwordPolicy,
      dropInPath: dropIn(h),
      // What Debian's ssh.service does on reload: a signal, answered by sshd after the command has returned.
      reloadCommand: `kill -HUP $(cat ${dir}/sshd.pid)`,
      validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
    });
    assert.equal(r.instance.host.passwordLogin, passwordPolicy);
    assert.equal(r.instance.host.managementUser, 'root');
    ids.set(h, r.instance.id);
  }

  before(async () => {
    hosts = await startHosts(7, { user: 'kff' });
    mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    userKey = await sshKeygen('ed25519', 'fan-out-user');
    for (const h of hosts) {
      await allowRootLogin(h, mgmt.publicKey);
      await fs.mkdir(path.join(h.home, '.ssh'), { mode: 0o700 });
      await fs.writeFile(akPath(h), `# the user's own\n${HAND_LINE}\n`, { mode: 0o600 });
      await fs.chown(path.join(h.home, '.ssh'), h.uid, h.gid);
      await fs.chown(akPath(h), h.uid, h.gid);
    }
    ({ kf, api } = await startInProcess());
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'fan-key', publicKey: userKey.publicKey });
    for (const h of hosts.slice(0, 4)) await register(h, 'unmanaged');
    for (const h of hosts.slice(4)) await register(h, 'managed');
  });

  after(async () => {
    await kf?.close();
    await stopHosts(hosts);
  });

  test('one call binds four hosts live, one result each; the proof logs in as the managed user, not root', async () => {
    const four = hosts.slice(0, 4);
    const r = await api.bind({ action: 'bind', keyPairName: 'fan-key', instanceIds: idsOf(four), mode: 'live' });
    assert.equal(r.task.total, 4);
    assert.deepEqual(
      r.items.map((i: any) => i.status),
      ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
      JSON.stringify(r.items),
    );
    for (const item of r.items) assert.match(item.note, /verified by login: key 'fan-key' accepted/);
    for (const h of four) {
      assert.equal((await keyLogin(h)).code, 0, `${h.name}: the bound key logs in`);
      const st = await fs.stat(akPath(h));
      assert.equal(st.uid, h.uid, 'owner kept');
      assert.equal(st.mode & 0o777, 0o600, 'mode kept');
      const text = await fs.readFile(akPath(h), 'utf8');
      assert.ok(text.includes(HAND_LINE), 'the hand-added line stays');
      // 'unmanaged': sshd is not touched, password login still works.
      assert.equal(existsSync(dropIn(h)), false, `${h.name}: no drop-in on an unmanaged host`);
    }
    assert.equal((await passwordLogin(four[0]!)).code, 0, 'password login untouched on an unmanaged host');
  });

  test('a dry run says per host what would change, and changes nothing', async () => {
    const four = hosts.slice(0, 4);
    const before = await Promise.all(four.map((h) => fs.readFile(akPath(h), 'utf8')));
    const instBefore = await Promise.all(idsOf(four).map((id) => api.call('GET', `/api/v1/instances/${id}`)));
    const r = await api.bind({
      action: 'unbind',
      keyPairName: 'fan-key',
      instanceIds: idsOf(four),
      mode: 'live',
      dryRun: true,
    });
    for (const item of r.items) {
      assert.equal(item.status, 'succeeded');
      assert.match(item.note, /^dry run: keyfleet's block emptied; 1 key\(s\) leave the block$/);
    }
    assert.deepEqual(await Promise.all(four.map((h) => fs.readFile(akPath(h), 'utf8'))), before, 'files unchanged');
    const instAfter = await Promise.all(idsOf(four).map((id) => api.call('GET', `/api/v1/instances/${id}`)));
    assert.deepEqual(
      instAfter.map((i) => i.instance.keyPairName),
      instBefore.map((i) => i.instance.keyPairName),
    );
    assert.equal((await keyLogin(four[1]!)).code, 0, 'the key still logs in');
    // A dry bind to a host already bound: nothing would change.
    const again = await api.bind({
      action: 'bind',
      keyPairName: 'fan-key',
      instanceIds: idsOf(four.slice(0, 1)),
      mode: 'live',
      dryRun: true,
    });
    assert.match(again.items[0].note, /^dry run: keyfleet's block already as wanted$/);
  });

  test('verification off: written with one connection per host, and the result holds', async () => {
    const two = hosts.slice(0, 2);
    const r = await api.bind({
      action: 'unbind',
      keyPairName: 'fan-key',
      instanceIds: idsOf(two),
      mode: 'live',
      verify: false,
    });
    for (const item of r.items) {
      assert.equal(item.status, 'succeeded', JSON.stringify(item));
      assert.match(item.note, /without a login proof/);
    }
    for (const h of two) {
      assert.notEqual((await keyLogin(h)).code, 0, `${h.name}: key refused after the unbind`);
      assert.ok((await fs.readFile(akPath(h), 'utf8')).includes(HAND_LINE));
    }
  });

  test("'managed' hosts: password login follows the key through the drop-in, proven across an asynchronous reload", async () => {
    const [h5, h6] = [hosts[4]!, hosts[5]!];
    const r = await api.bind({ action: 'bind', keyPairName: 'fan-key', instanceIds: idsOf([h5, h6]), mode: 'live' });
    for (const item of r.items) {
      assert.equal(item.status, 'succeeded', JSON.stringify(item));
      assert.match(item.note, /password method off/);
    }
    for (const h of [h5, h6]) {
      assert.match(await fs.readFile(dropIn(h), 'utf8'), /PasswordAuthentication no/);
      assert.equal((await keyLogin(h)).code, 0);
      assert.notEqual((await passwordLogin(h)).code, 0, `${h.name}: password refused while a key pair is bound`);
    }
    const u = await api.bind({ action: 'unbind', keyPairName: 'fan-key', instanceIds: idsOf([h5]), mode: 'live' });
    assert.equal(u.items[0].status, 'succeeded', JSON.stringify(u.items[0]));
    assert.match(u.items[0].note, /removed key refused, password method offered/);
    assert.equal((await passwordLogin(h5)).code, 0, 'password login back after the unbind');
  });

  test('a host that is down is retried with backoff: it succeeds when it comes back, fails alone when it does not', async () => {
    const [back, gone, up] = [hosts[6]!, hosts[3]!, hosts[2]!];
    await back.stop();
    await gone.stop();
    const submitted = await api.call('POST', `/api/v1/regions/${REGION}/bindings`, {
      action: 'bind',
      keyPairName: 'fan-key',
      instanceIds: idsOf([back, gone, up]),
      mode: 'live',
    });
    await new Promise((r) => setTimeout(r, 300));
    await back.restart();
    let task = submitted.task;
    for (let n = 0; !task.finishedAt && n < 300; n++) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await api.call('GET', `/api/v1/tasks/${task.id}`)).task;
    }
    const items = (await api.call('GET', `/api/v1/tasks/${task.id}/items`)).items;
    const byId = new Map(items.map((i: any) => [i.instanceId, i]));
    assert.equal((byId.get(ids.get(back)) as any).status, 'succeeded', JSON.stringify(items));
    assert.equal((byId.get(ids.get(up)) as any).status, 'succeeded');
    const failed = byId.get(ids.get(gone)) as any;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, 'Live.Unreachable');
    assert.equal(task.status, 'partial');
    assert.equal((await keyLogin(back)).code, 0, 'the host that came back has the key');
    await gone.restart();
  });
});
