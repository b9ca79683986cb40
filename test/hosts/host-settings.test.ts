/**
 * Changing how keyfleet reaches a registered host (PATCH /api/v1/instances/:id/host) against a real sshd host:
 * after a deliberate host key change every operation stops (Live.HostKeyChanged) until the operator re-pins —
 * with the new fingerprint given (checked against the host) or by pinning what the host presents now (shown);
 * a management key is replaced only after it really logs in; every change is audited, no key is ever returned.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const run = promisify(execFile);
const REGION = 'cn-hangzhou';

describe('re-pinning a host key and rotating the management key', () => {
  let kf: Keyfleet;
  let api: Api;
  let host: TestHost;
  let id: string;
  let mgmt: { privateKeyPath: string; publicKey: string };
  let userKey: { privateKeyPath: string; publicKey: string };
  const akPath = () => path.join(host.home, '.ssh', 'authorized_keys');
  const keyLogin = () =>
    sshRun({
      host: host.address,
      port: host.port,
      user: host.user,
      command: 'echo in',
      identityFile: userKey.privateKeyPath,
    });
  const bind = async (action: 'bind' | 'unbind') =>
    (await api.bind({ action, keyPairName: 'pin-key', instanceIds: [id], mode: 'live' })).items[0];
  const patch = (body: Record<string, unknown>) => api.raw('PATCH', `/api/v1/instances/${id}/host`, body);

  async function rotateHostKey(): Promise<string> {
    const keyFile = path.join(path.dirname(host.home), 'ssh_host_ed25519_key');
    await host.stop();
    await fs.rm(keyFile);
    await fs.rm(`${keyFile}.pub`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    await host.restart();
    return (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).stdout.split(' ')[1]!;
  }

  before(async () => {
    [host] = (await startHosts(1, { user: 'kfp' })) as [TestHost];
    mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    userKey = await sshKeygen('ed25519', 'pin-user');
    await allowRootLogin(host, mgmt.publicKey);
    await fs.mkdir(path.join(host.home, '.ssh'), { mode: 0o700 });
    await fs.writeFile(akPath(), '', { mode: 0o600 });
    await fs.chown(path.join(host.home, '.ssh'), host.uid, host.gid);
    await fs.chown(akPath(), host.uid, host.gid);
    ({ kf, api } = await startInProcess());
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'pin-key', publicKey: userKey.publicKey });
    const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
      name: 'pinned',
      address: host.address,
      port: host.port,
      loginUser: host.user,
      homeDir: host.home,
      managementUser: 'root',
      managementPrivateKey: await fs.readFile(mgmt.privateKeyPath, 'utf8'),
      passwordLogin: 'unmanaged',
    });
    id = r.instance.id;
    assert.equal(r.hostKeySha256, host.hostKeySha256);
  });

  after(async () => {
    await kf?.close();
    await stopHosts([host]);
  });

  test('after a host key change: operations stop; a wrong fingerprint is refused; the right one, or repin, restores them', async () => {
    const old = host.hostKeySha256;
    const fresh = await rotateHostKey();
    assert.notEqual(fresh, old);
    const stopped = await bind('bind');
    assert.equal(stopped.errorCode, 'Live.HostKeyChanged');
    assert.equal(await fs.readFile(akPath(), 'utf8'), '', 'nothing written');

    // A fingerprint given up front must be what the host presents: the old one is not.
    const wrong = await patch({ hostKeySha256: old });
    assert.equal(wrong.status, 403, JSON.stringify(wrong.body));
    assert.equal(wrong.body.code, 'Live.HostKeyChanged');
    assert.equal((await api.instance(id)).hostKeySha256, old, 'pin unchanged');
    assert.equal(
      (await patch({ hostKeySha256: fresh, repinHostKey: true })).body.code,
      'Input.Invalid',
      'one or the other',
    );

    const given = await patch({ hostKeySha256: fresh });
    assert.equal(given.status, 200, JSON.stringify(given.body));
    assert.deepEqual(
      [given.body.hostKeySha256, given.body.previousHostKeySha256, given.body.pinnedOnFirstUse],
      [fresh, old, false],
    );
    const ok = await bind('bind');
    assert.equal(ok.status, 'succeeded', JSON.stringify(ok));
    assert.equal((await keyLogin()).code, 0);

    // Rotated again: pin what the host presents now, and show it.
    const third = await rotateHostKey();
    const seen = await patch({ repinHostKey: true });
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.deepEqual(
      [seen.body.hostKeySha256, seen.body.previousHostKeySha256, seen.body.pinnedOnFirstUse],
      [third, fresh, true],
    );
    assert.equal((await bind('unbind')).status, 'succeeded');
  });

  test('rotating the management key: a key the host refuses is not kept; an accepted one replaces the old', async () => {
    const next = await sshKeygen('ed25519', 'keyfleet-management-2');
    const refused = await patch({ managementPrivateKey: await fs.readFile(next.privateKeyPath, 'utf8') });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'Live.CredentialRejected');
    assert.equal((await bind('bind')).status, 'succeeded', 'the old key is still the one used');

    // The operator authorises the new key on the host, rotates, then withdraws the old one.
    await allowRootLogin(host, `${next.publicKey}\n${mgmt.publicKey}`);
    const rotated = await patch({
      managementPrivateKey: await fs.readFile(next.privateKeyPath, 'utf8'),
      passwordLogin: 'unmanaged',
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.instance.host.hasManagementKey, true);
    assert.ok(!JSON.stringify(rotated.body).includes('PRIVATE KEY'), 'no key in the answer');
    await allowRootLogin(host, next.publicKey);
    const after = await bind('unbind');
    assert.equal(after.status, 'succeeded', JSON.stringify(after));
    assert.notEqual((await keyLogin()).code, 0);

    const audit = await api.call('GET', '/api/v1/audit?action=instance:UpdateHost&limit=50');
    const results = audit.entries.map((e: any) => e.result);
    assert.ok(results.includes('success') && results.includes('failure'), JSON.stringify(results));
    assert.ok(audit.entries.every((e: any) => e.resources.some((r: string) => r.endsWith(`instance/${id}`))));
    assert.ok(!JSON.stringify(audit).includes('PRIVATE KEY'));
  });

  test('settings only (no contact) and bad input: clear errors, nothing changed', async () => {
    const before = await api.instance(id);
    assert.equal((await patch({})).status, 400, 'an empty change is refused');
    assert.equal((await patch({ dropInPath: 'relative/path' })).body.code, 'Input.Invalid');
    assert.equal((await patch({ hostKeySha256: 'MD5:nope' })).body.code, 'Input.Invalid');
    assert.equal((await patch({ managementPrivateKey: 'not a key' })).body.code, 'PrivateKey.Malformed');
    assert.deepEqual((await api.instance(id)).host, before.host);
    const r = await patch({ passwordLogin: 'managed', validateCommand: '/usr/sbin/sshd -t -f /etc/ssh/sshd_config' });
    assert.equal(r.status, 200);
    assert.equal(r.body.instance.host.passwordLogin, 'managed');
    assert.equal(
      (await api.raw('PATCH', '/api/v1/instances/i-doesnotexist000000/host', { sudo: true })).body.code,
      'Instance.NotFound',
    );
  });
});
