/**
 * An on-restart dry run shows the change (issue 20): per instance, what its boot step would write at the next start
 * or restart against what the instance's files hold now, as unified diffs with the risks, worded for a change the
 * machine applies itself. Proven on the real simulated fleet: the dry run records nothing and writes no byte (a
 * restart afterwards leaves the old state; the real OpenSSH client shows the key does not log in), and its diffs,
 * applied with patch(1) to what the instance had, give exactly what the real bind then writes at the restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess, tempDir } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

const pexec = promisify(execFile);
const AK = '/root/.ssh/authorized_keys';
const DROP_IN = '/etc/ssh/sshd_config.d/10-keyfleet.conf';
const PASSWORD = 'Boot-Diff-Pass-01';

/** The text patch(1) makes of `before` with `diff` (headers renamed to one file): the diff is a real diff. */
async function patched(before: string | null, diff: string): Promise<string> {
  const dir = tempDir();
  const file = path.join(dir, 'f');
  await fs.writeFile(file, before ?? '');
  await fs.writeFile(path.join(dir, 'p'), diff.replace(/^--- .*\n\+\+\+ .*\n/, '--- a/f\n+++ b/f\n'));
  await pexec('patch', ['-s', file, path.join(dir, 'p')]);
  return fs.readFile(file, 'utf8');
}

describe('on-restart dry run: the next boot as diffs and risks, nothing recorded', () => {
  let kf: Keyfleet;
  let api: Api;
  let dataDir: string;
  let keyFile: string;
  let publicKey: string;

  /** A file of a simulated instance, read from its disk (what its sshd reads at the next login). */
  const disk = (id: string, guestPath: string) =>
    fs.readFile(path.join(dataDir, 'sim', 'instances', id, guestPath), 'utf8').catch(() => null);
  const login = (inst: any, auth: { identityFile?: string; password?: string }) =>
    sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo logged-in', ...auth });
  const dryRun = async (body: Record<string, unknown>) => {
    const r = await api.bind({ keyPairName: 'bd-key', mode: 'on-restart', dryRun: true, ...body });
    assert.equal(r.task.status, 'succeeded', JSON.stringify(r.items));
    return r.items[0];
  };

  before(async () => {
    let env: Record<string, string>;
    ({ kf, api, env } = await startInProcess());
    dataDir = env.KEYFLEET_DATA_DIR!;
    const made = await api.createKeyPair('bd-key', 'ed25519');
    keyFile = await writePrivateKey(made.privateKey);
    publicKey = made.keyPair.publicKey;
  });
  after(async () => kf?.close());

  test('bind on a password-only instance: the key added, password login off, the risk worded for a restart; a restart after it changes nothing', async () => {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'bd-pw', password: PASSWORD });
    await api.waitStatus([id!], 'Running');
    const akBefore = await disk(id!, AK);
    const dropBefore = await disk(id!, DROP_IN);

    const item = await dryRun({ action: 'bind', instanceIds: [id] });
    assert.match(item.note, /^dry run: would bind \(takes effect at the next restart\); nothing recorded$/);
    const preview = item.dryRun;
    assert.ok(preview, `the item carries its diffs: ${JSON.stringify(item)}`);
    assert.equal(preview.authorizedKeysPath, AK);
    assert.equal(preview.dropInPath, DROP_IN);
    const body = publicKey.split(' ')[1]!;
    assert.ok(
      preview.authorizedKeysDiff.split('\n').some((l: string) => l.startsWith('+ssh-ed25519 ') && l.includes(body)),
      `the key's line is added: ${preview.authorizedKeysDiff}`,
    );
    assert.match(preview.dropInDiff, /^-PasswordAuthentication yes$/m);
    assert.match(preview.dropInDiff, /^\+PasswordAuthentication no$/m);
    assert.deepEqual(
      preview.risks.map((r: any) => r.code),
      ['PasswordOffBeforeKeyProven'],
    );
    const risk = preview.risks[0].message;
    assert.match(risk, /at its next restart/);
    assert.match(risk, /cannot be proven before it takes effect/);
    assert.doesNotMatch(risk, /fresh login and restores/, 'no promise a restart-applied change cannot keep');

    // Nothing recorded, no byte written: a restart now applies the old state, and the key does not log in.
    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, null);
    assert.equal(inst.pendingRestart, false);
    assert.equal(await disk(id!, AK), akBefore);
    assert.equal(await disk(id!, DROP_IN), dropBefore);
    await api.restart(id!);
    assert.equal((await login(inst, { identityFile: keyFile })).code, 255, 'the key does not log in');
    assert.equal((await login(inst, { password: PASSWORD })).stdout.trim(), 'logged-in', 'the password still does');

    // The real bind, applied at the restart, writes exactly what the dry run showed.
    const real = await api.bind({ action: 'bind', keyPairName: 'bd-key', instanceIds: [id] });
    assert.equal(real.task.status, 'succeeded', JSON.stringify(real.items));
    await api.restart(id!);
    assert.equal(await disk(id!, AK), await patched(akBefore, preview.authorizedKeysDiff));
    assert.equal(await disk(id!, DROP_IN), await patched(dropBefore, preview.dropInDiff));
    assert.equal((await login(inst, { identityFile: keyFile })).code, 0, 'now the key logs in');
  });

  test('unbind of the only key: its line removed, password login back, RemovesLastKey; the binding stays', async () => {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'bd-bound', password: PASSWORD });
    await api.waitStatus([id!], 'Running');
    await api.bind({ action: 'bind', keyPairName: 'bd-key', instanceIds: [id] });
    await api.restart(id!);
    const akBefore = await disk(id!, AK);

    const item = await dryRun({ action: 'unbind', instanceIds: [id] });
    const preview = item.dryRun;
    assert.ok(preview, JSON.stringify(item));
    assert.match(preview.authorizedKeysDiff, /^-ssh-ed25519 /m);
    assert.match(preview.dropInDiff, /^\+PasswordAuthentication yes$/m);
    assert.deepEqual(
      preview.risks.map((r: any) => r.code),
      ['RemovesLastKey'],
    );
    assert.match(
      preview.risks[0].message,
      /removes the last key from \/root\/.ssh\/authorized_keys at its next restart/,
    );
    assert.match(preview.risks[0].message, /password login would be turned on/);

    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, 'bd-key', 'the binding is unchanged');
    assert.equal(inst.pendingRestart, false);
    await api.restart(id!);
    assert.equal(await disk(id!, AK), akBefore);
    assert.equal((await login(inst, { identityFile: keyFile })).code, 0, 'the key still logs in after a restart');
  });

  test('a Stopped instance is read from its disk; an instance whose disk is gone says the preview is unavailable', async () => {
    const [stopped, gone] = await api.run({ imageId: LINUX_IMAGE, amount: 2, name: 'bd-off', password: PASSWORD });
    await api.waitStatus([stopped!, gone!], 'Running');
    for (const id of [stopped, gone]) await api.call('POST', `/api/v1/instances/${id}/stop`);
    await api.waitStatus([stopped!, gone!], 'Stopped');

    const item = await dryRun({ action: 'bind', instanceIds: [stopped] });
    assert.match(item.note, /takes effect at the next start/);
    assert.match(item.dryRun.authorizedKeysDiff, /^\+ssh-ed25519 /m);
    assert.match(item.dryRun.dropInDiff, /^\+PasswordAuthentication no$/m);
    assert.match(item.dryRun.risks[0].message, /turned off at its next start/);
    assert.equal((await api.instance(stopped!)).keyPairName, null);

    // A live dry run of a Stopped instance takes the same path: the change would wait for its next start.
    const live = await dryRun({
      action: 'bind',
      instanceIds: [stopped],
      mode: 'live',
      credential: { kind: 'password', password: PASSWORD },
    });
    assert.match(live.note, /instance is Stopped: takes effect at its next start/);
    assert.equal(live.dryRun.authorizedKeysDiff, item.dryRun.authorizedKeysDiff);

    await fs.rm(path.join(dataDir, 'sim', 'instances', gone!), { recursive: true, force: true });
    const unavailable = await dryRun({ action: 'bind', instanceIds: [gone] });
    assert.equal(unavailable.dryRun, undefined);
    assert.match(unavailable.note, /nothing recorded; preview unavailable: the machine's disk is not there to read/);
    assert.equal((await api.instance(gone!)).keyPairName, null);
  });
});
