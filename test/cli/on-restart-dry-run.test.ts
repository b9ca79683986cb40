/**
 * `keyfleet bind … --dry-run` in on-restart mode (the default) prints, per instance, what its next boot would
 * write against what it has now: the risks, then the unified diffs of authorized_keys and of the sshd drop-in,
 * plain in a pipe; the instance keeps its state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { cli, cliEnvFor } from './support/run-cli.js';

describe('keyfleet bind --dry-run (on-restart)', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;

  before(async () => {
    ({ kf, api } = await startInProcess());
    env = cliEnvFor(kf.url);
  });
  after(async () => kf?.close());

  test('prints the next boot as diffs with the risk, and records nothing', async () => {
    await api.createKeyPair('cli-boot', 'ed25519');
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'cli-boot', password: 'Cli-Boot-Pass-01' });
    await api.waitStatus([id!], 'Running');

    const out = await cli(['bind', id!, '--key-pair', 'cli-boot', '--dry-run'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /dry run: would bind \(takes effect at the next restart\); nothing recorded/);
    assert.match(out.stdout, new RegExp(`^== ${id}$`, 'm'));
    assert.match(out.stdout, /^! PasswordOffBeforeKeyProven: Password login would be turned off at its next restart/m);
    // The instance has no authorized_keys yet: the diff is from nothing (--- /dev/null).
    assert.match(out.stdout, /^--- \/dev\/null\n\+\+\+ b\/root\/.ssh\/authorized_keys$/m);
    assert.match(out.stdout, /^\+ssh-ed25519 /m);
    assert.match(out.stdout, /^--- a\/etc\/ssh\/sshd_config.d\/10-keyfleet.conf$/m);
    assert.match(out.stdout, /^-PasswordAuthentication yes$/m);
    assert.match(out.stdout, /^\+PasswordAuthentication no$/m);
    assert.equal(out.stdout.includes('\u001b['), false, 'no colour codes in a pipe');

    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, null, 'nothing recorded');
    assert.equal(inst.pendingRestart, false);
  });
});
