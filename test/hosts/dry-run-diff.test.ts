/**
 * A live dry run shows the change (issue 20): per machine, the unified diff of authorized_keys and of the sshd
 * drop-in, read from the machine, and the risks. Proven on Debian sshd hosts (the harness, addresses 127.43.x.y)
 * and on simulated instances: the dry run changes no byte, and its diff applied with patch(1) to what the machine
 * had gives exactly what the real change then writes. The CLI prints the diffs, plain when not on a terminal.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, LINUX_IMAGE, tempDir } from '../support/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import { akPath, cli, dropIn, REGION, type RegisteredFleet, startRegisteredFleet } from './support/registered-hosts.js';

const pexec = promisify(execFile);

/** The text patch(1) makes of `before` with `diff` (headers renamed to one file): the diff is a real diff. */
async function patched(before: string | null, diff: string): Promise<string> {
  const dir = tempDir();
  const file = path.join(dir, 'f');
  await fs.writeFile(file, before ?? '');
  await fs.writeFile(path.join(dir, 'p'), diff.replace(/^--- .*\n\+\+\+ .*\n/, '--- a/f\n+++ b/f\n'));
  await pexec('patch', ['-s', file, path.join(dir, 'p')]);
  return fs.readFile(file, 'utf8');
}

const readOrNull = (p: string) => fs.readFile(p, 'utf8').catch(() => null);

describe('dry run shows the change: diffs and risks per machine', () => {
  let fleet: RegisteredFleet;
  let key: { privateKeyPath: string; publicKey: string };

  before(async () => {
    fleet = await startRegisteredFleet(1, { hosts: { addressPrefix: '127.43' } });
    key = await sshKeygen('ed25519', 'dry-run-key');
    await fleet.api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'dr-key', publicKey: key.publicKey });
    await fleet.register(fleet.hosts[0]!, 'dr-host');
  });
  after(async () => fleet?.close());

  test('Debian sshd host: the dry run writes nothing; its diffs, applied, give exactly what the bind and unbind write', async () => {
    const h = fleet.hosts[0]!;
    const id = fleet.ids.get('dr-host')!;
    for (const action of ['bind', 'unbind'] as const) {
      const akBefore = await readOrNull(akPath(h));
      const dropBefore = await readOrNull(dropIn(h));
      const dry = await fleet.api.bind({
        action,
        keyPairName: 'dr-key',
        instanceIds: [id],
        mode: 'live',
        dryRun: true,
      });
      assert.equal(dry.task.status, 'succeeded', JSON.stringify(dry.items));
      const preview = dry.items[0].dryRun;
      assert.ok(preview, `the item carries its diffs: ${JSON.stringify(dry.items[0])}`);
      assert.equal(await readOrNull(akPath(h)), akBefore, 'a dry run changes no byte of authorized_keys');
      assert.equal(await readOrNull(dropIn(h)), dropBefore, 'nor of the drop-in');

      assert.equal(preview.authorizedKeysPath, akPath(h));
      assert.equal(preview.dropInPath, dropIn(h));
      const body = key.publicKey.split(' ')[1]!;
      const sign = action === 'bind' ? '+' : '-';
      assert.ok(
        preview.authorizedKeysDiff.split('\n').some((l: string) => l.startsWith(sign) && l.includes(body)),
        `the key's line is ${action === 'bind' ? 'added' : 'removed'}: ${preview.authorizedKeysDiff}`,
      );
      assert.match(
        preview.dropInDiff,
        action === 'bind' ? /^\+PasswordAuthentication no$/m : /^\+PasswordAuthentication yes$/m,
      );
      assert.deepEqual(
        preview.risks.map((r: any) => r.code),
        action === 'bind' ? ['PasswordOffBeforeKeyProven'] : [],
        'binding a key never used here turns the password off before it is proven; the unbind leaves the hand-added and management keys',
      );
      const akWanted = await patched(akBefore, preview.authorizedKeysDiff);
      const dropWanted = await patched(dropBefore, preview.dropInDiff);

      const real = await fleet.api.bind({ action, keyPairName: 'dr-key', instanceIds: [id], mode: 'live' });
      assert.equal(real.task.status, 'succeeded', JSON.stringify(real.items));
      assert.equal(real.items[0].dryRun, undefined, 'a real change carries no preview');
      assert.equal(await readOrNull(akPath(h)), akWanted, 'authorized_keys is what the dry run said');
      assert.equal(await readOrNull(dropIn(h)), dropWanted, 'and so is the drop-in');
    }
  });

  test('simulated instance: the unbind that removes the last key says so; the bind before it turns the password off unproven', async () => {
    const api = fleet.api;
    const made = await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'dr-sim', type: 'ed25519' });
    const keyFile = await writePrivateKey(made.privateKey);
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: 'Dry-Run-Pass-01' });
    await api.waitStatus([id!], 'Running');
    const inst = await api.instance(id!);
    const password = { kind: 'password', password: 'Dry-Run-Pass-01' };
    const catKeys = async () =>
      (
        await sshRun({
          host: inst.address,
          port: inst.sshPort,
          user: 'root',
          command: 'cat /root/.ssh/authorized_keys',
          identityFile: keyFile,
        })
      ).stdout;

    const dryBind = await api.bind({
      action: 'bind',
      keyPairName: 'dr-sim',
      instanceIds: [id],
      mode: 'live',
      credential: password,
      dryRun: true,
    });
    const bindPreview = dryBind.items[0].dryRun;
    assert.deepEqual(
      bindPreview.risks.map((r: any) => r.code),
      ['PasswordOffBeforeKeyProven'],
    );
    assert.match(bindPreview.authorizedKeysDiff, /^\+# >>> keyfleet managed keys/m);
    assert.equal((await api.instance(id!)).keyPairName, null, 'nothing recorded');
    const real = await api.bind({
      action: 'bind',
      keyPairName: 'dr-sim',
      instanceIds: [id],
      mode: 'live',
      credential: password,
    });
    assert.equal(real.task.status, 'succeeded', JSON.stringify(real.items));
    const after = await catKeys();
    // The file did not exist (or was empty) before: the diff from nothing is the whole new file.
    assert.equal(await patched(null, bindPreview.authorizedKeysDiff), after);

    const dryUnbind = await api.bind({
      action: 'unbind',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'privateKey', privateKey: made.privateKey },
      dryRun: true,
    });
    const unbindPreview = dryUnbind.items[0].dryRun;
    assert.deepEqual(
      unbindPreview.risks.map((r: any) => r.code),
      ['RemovesLastKey'],
    );
    assert.match(unbindPreview.risks[0].message, /password login would be turned on/);
    assert.match(unbindPreview.authorizedKeysDiff, /^-ssh-ed25519 /m);
    assert.equal(await catKeys(), after, 'the key still logs in: the dry run changed nothing');

    // The CLI shows the same diffs, without colour codes when its output is not a terminal.
    const env = {
      KEYFLEET_ENDPOINT: fleet.kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    const out = await cli(['unbind', id!, '--live', '--private-key', keyFile, '--dry-run'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`^== ${id}$`, 'm'));
    assert.match(out.stdout, /^! RemovesLastKey: /m);
    assert.match(out.stdout, /^--- a\/root\/.ssh\/authorized_keys$/m);
    assert.match(out.stdout, /^-ssh-ed25519 /m);
    assert.match(out.stdout, /^\+PasswordAuthentication yes$/m);
    assert.equal(out.stdout.includes('\u001b['), false, 'no colour codes in a pipe');
  });
});
