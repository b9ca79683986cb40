/**
 * An on-restart change is proven once the machine has booted: a publickey probe (the host key pinned) shows that
 * the bound key is accepted and password login is as the state says, and every face that shows bindings says
 * "verified at <time>" or "not verified: <why>". The failures are the ones a real image causes: an sshd drop-in
 * read before keyfleet's that points AuthorizedKeysFile elsewhere, or turns password login back on. Each verdict is
 * checked against what the real OpenSSH client can do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { openStore } from '../../src/store/open-store.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  type Api,
  LINUX_IMAGE,
  startInProcess,
  tempDir,
} from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');
const PASSWORD = 'Proof-Pass-0001';

describe('proof after boot (on-restart changes)', () => {
  let kf: Keyfleet;
  let api: Api;
  let dataDir: string;
  let cliEnv: Record<string, string>;

  before(async () => {
    let env: Record<string, string>;
    ({ kf, api, env } = await startInProcess());
    dataDir = env.KEYFLEET_DATA_DIR!;
    cliEnv = {
      KEYFLEET_ENDPOINT: kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
  });
  after(async () => {
    await kf?.close();
  });

  /** Restarts and waits until the instance runs and its boot's proof is recorded. */
  async function restart(id: string): Promise<any> {
    await api.restart(id);
    await kf.core.instances.settle();
    return api.instance(id);
  }

  async function runOne(name: string): Promise<string> {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name, password: PASSWORD });
    await api.waitStatus([id!], 'Running');
    await kf.core.instances.settle();
    return id!;
  }

  /** A file on the instance's disk, written behind keyfleet's back (as the image or an administrator would). */
  function writeOnDisk(id: string, guestPath: string, content: string): void {
    const file = path.join(dataDir, 'sim', 'instances', id, guestPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: 0o644 });
  }

  const ssh = (inst: any, auth: { identityFile?: string; password?: string }) =>
    sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo in', ...auth });

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, ...cliEnv }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  }

  test('bind on restart → waiting for the next restart → reboot → verified at a time (native API and CLI); unbind → the removed key is proven refused', async () => {
    const { privateKey } = await api.createKeyPair('proof-key', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const id = await runOne('proof-ok');

    let inst = await api.instance(id);
    assert.equal(typeof inst.verifiedAt, 'string', 'a first boot is proven too');
    assert.equal(inst.verification, 'no key pair; password login on');

    await api.bind({ action: 'bind', keyPairName: 'proof-key', instanceIds: [id] });
    inst = await api.instance(id);
    assert.equal(inst.pendingRestart, true);
    assert.equal(inst.verifiedAt, null, 'a change waiting for the restart is not proven');
    assert.equal(inst.verification, 'waiting for the next restart');

    const before = Date.now();
    inst = await restart(id);
    assert.equal(inst.pendingRestart, false);
    assert.equal(typeof inst.verifiedAt, 'string', `verified: ${inst.verification}`);
    const at = Date.parse(inst.verifiedAt);
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `verifiedAt ${inst.verifiedAt} is the proof's time`);
    assert.equal(inst.verification, "key 'proof-key' accepted; password login off");
    // What the proof says is what a real client finds.
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 0);
    assert.equal((await ssh(inst, { password: PASSWORD })).code, 255);

    const listed = await api.call('GET', `/api/v1/regions/cn-hangzhou/instances?search=${id}`);
    assert.equal(listed.instances[0].verifiedAt, inst.verifiedAt, 'the list shows the same proof');

    const show = await cli(['instances', 'show', id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      new RegExp(
        `Proof\\s+verified at ${inst.verifiedAt.replace(/\.\d+Z$/, 'Z')} \\(key 'proof-key' accepted; password login off\\)`,
      ),
    );
    const ls = await cli(['instances', 'ls', '--search', id]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /verified at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);

    await api.bind({ action: 'unbind', keyPairName: 'proof-key', instanceIds: [id] });
    assert.equal((await api.instance(id)).verification, 'waiting for the next restart');
    assert.match((await cli(['instances', 'show', id])).stdout, /Proof\s+not verified: waiting for the next restart/);
    inst = await restart(id);
    assert.equal(typeof inst.verifiedAt, 'string', `verified: ${inst.verification}`);
    assert.equal(inst.verification, 'no key pair: the removed key refused; password login on');
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 255);
  });

  test("an image whose sshd reads keys from elsewhere: the bound key is refused after the boot and the instance says 'not verified' and why", async () => {
    const { privateKey } = await api.createKeyPair('elsewhere-key', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const id = await runOne('proof-elsewhere');
    // Read before keyfleet's 10-keyfleet.conf, so its value wins (sshd takes the first).
    writeOnDisk(id, 'etc/ssh/sshd_config.d/00-central-keys.conf', 'AuthorizedKeysFile /etc/ssh/authorized_keys/%u\n');
    await api.bind({ action: 'bind', keyPairName: 'elsewhere-key', instanceIds: [id] });

    const inst = await restart(id);
    assert.equal(inst.pendingRestart, false, 'the boot applied the binding');
    assert.equal(inst.verifiedAt, null);
    assert.equal(inst.verification, "proof failed: key 'elsewhere-key' refused");
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 255, 'and indeed the key does not log in');
    const show = await cli(['instances', 'show', id]);
    assert.match(show.stdout, /Proof\s+not verified: proof failed: key 'elsewhere-key' refused/);
  });

  test('a cloud drop-in that turns password login back on: not verified, password login still offered', async () => {
    const { privateKey } = await api.createKeyPair('cloud-key', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const id = await runOne('proof-cloud');
    writeOnDisk(id, 'etc/ssh/sshd_config.d/00-cloudimg.conf', 'PasswordAuthentication yes\n');
    await api.bind({ action: 'bind', keyPairName: 'cloud-key', instanceIds: [id] });

    const inst = await restart(id);
    assert.equal(inst.verifiedAt, null);
    assert.equal(inst.verification, 'proof failed: password login is still offered');
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 0, 'the key logs in');
    assert.equal((await ssh(inst, { password: PASSWORD })).code, 0, 'but so does the password the binding turned off');
  });

  test('a stopped instance: the change waits for the next start, then the start is proven', async () => {
    await api.createKeyPair('start-key', 'ed25519');
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'proof-stopped', start: false });
    await api.waitStatus([id!], 'Stopped');
    assert.equal((await api.instance(id!)).verification, 'waiting for the first boot');
    await api.bind({ action: 'bind', keyPairName: 'start-key', instanceIds: [id] });
    assert.equal((await api.instance(id!)).verification, 'waiting for the next start');
    await api.call('POST', `/api/v1/instances/${id}/start`);
    await api.waitStatus([id!], 'Running');
    await kf.core.instances.settle();
    const inst = await api.instance(id!);
    assert.equal(typeof inst.verifiedAt, 'string', `verified: ${inst.verification}`);
    assert.equal(inst.verification, "key 'start-key' accepted; password login off");
  });
});

describe('proof after boot across a restart of keyfleet', () => {
  test('a boot whose proof was cut short by keyfleet stopping is proven when keyfleet starts again', async () => {
    const dataDir = tempDir();
    const simPort = 20000 + Math.floor(Math.random() * 20000);
    const first = await startInProcess({ dataDir, simPort });
    await first.api.createKeyPair('resume-key', 'ed25519');
    const [id] = await first.api.run({ imageId: LINUX_IMAGE, name: 'proof-resume', keyPairName: 'resume-key' });
    await first.api.waitStatus([id!], 'Running');
    await first.kf.core.instances.settle();
    const accountId = (await first.api.call('GET', '/api/v1/whoami')).accountId;
    await first.kf.close();
    // What a keyfleet that stopped between the boot and its proof leaves behind.
    const store = await openStore({ dataDir });
    const inst = (await store.instances.get(accountId, id!))!;
    assert.equal(inst.status, 'Running');
    await store.instances.update({ ...inst, verifiedAt: null, verification: 'waiting for the boot to be proven' });
    await store.close();

    const second = await startInProcess({ dataDir, simPort });
    try {
      assert.equal((await second.api.instance(id!)).status, 'Running', 'the machine kept running (no boot)');
      await second.kf.core.instances.settle();
      const after = await second.api.instance(id!);
      assert.equal(typeof after.verifiedAt, 'string', `verified: ${after.verification}`);
      assert.equal(after.verification, "key 'resume-key' accepted; password login off");
    } finally {
      await second.kf.close();
    }
  });
});
