/**
 * The README's Tour, run as written: the block after the `<!-- tour` marker is taken from README.md and run line
 * for line by bash, in a fresh directory, against a fresh keyfleet, so the README and this test cannot drift apart.
 *
 * What the test does itself, and only that: the repository is installed already, so the line `npm ci` is skipped
 * (it would replace the node_modules every test shares); the directory the Tour runs in is fresh and holds links to
 * the repository's package.json and bin/ (so `npm start` and `$PWD/bin/keyfleet.js` mean what they mean in a clone,
 * while the Tour's files and `.keyfleet` data dir land in it); keyfleet's HTTP and SSH ports come from
 * test/support/keyfleet.ts's testEnv (free ports, not 8080 and 2222, which other keyfleets on this machine may
 * hold); aliases are expanded as in the interactive shell a person types into; and the shell stops at the first
 * failing line (`set -euo pipefail`). The Tour's two SSH lines are real OpenSSH logins with the key pair: the
 * test checks what they printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { tempDir, testEnv } from '../support/keyfleet.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The Tour block: the first ```bash fence after the marker comment. */
function tourBlock(readme: string): string[] {
  const marker = readme.indexOf('<!-- tour');
  assert.ok(marker >= 0, 'README.md has no <!-- tour --> marker');
  const fence = /```bash\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  assert.ok(fence, 'no ```bash block after the tour marker');
  return fence[1]!.split('\n');
}

let shell: ReturnType<typeof spawn> | null = null;
after(() => {
  // The Tour leaves keyfleet running in the background, as it would for a person: end the shell's process group.
  if (shell?.pid) {
    try {
      process.kill(-shell.pid, 'SIGTERM');
    } catch {}
  }
});

test("the README's Tour runs as written on a fresh data dir, and its SSH logins work", {
  timeout: 15 * 60_000,
}, async () => {
  const lines = tourBlock(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.ok(
    lines.some((l) => /^npm start\b/.test(l)),
    'the Tour starts keyfleet',
  );
  const script = lines.filter((l) => l.trim().replace(/\s+#.*$/, '') !== 'npm ci');
  assert.equal(script.length, lines.length - 1, 'exactly one `npm ci` line is skipped');

  const dir = tempDir();
  fs.symlinkSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'));
  const ports = await testEnv({ dataDir: path.join(dir, '.keyfleet') });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KEYFLEET_PORT: ports.KEYFLEET_PORT!,
    KEYFLEET_SIM_SSH_PORT: ports.KEYFLEET_SIM_SSH_PORT!,
    KEYFLEET_SIM_BOOT_MS: ports.KEYFLEET_SIM_BOOT_MS!,
    KEYFLEET_LOG_LEVEL: 'info',
  };
  const wrapped = ['set -euo pipefail', 'shopt -s expand_aliases', ...script].join('\n');
  fs.writeFileSync(path.join(dir, 'tour.sh'), wrapped);

  shell = spawn('/bin/bash', ['tour.sh'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  shell.stdout!.on('data', (d) => (stdout += d));
  shell.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => shell!.on('exit', resolve));
  const log = fs.existsSync(path.join(dir, 'keyfleet.log'))
    ? fs.readFileSync(path.join(dir, 'keyfleet.log'), 'utf8')
    : '';
  assert.equal(
    code,
    0,
    `the Tour stopped\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n--- keyfleet.log\n${log.slice(-4000)}`,
  );

  // The on-restart bind, then the live one: each proven by the Tour's own OpenSSH login with laptop.pem.
  const out = stdout.split('\n');
  assert.ok(out.includes('hello'), stdout);
  const live = out.indexOf('root');
  assert.ok(live >= 0, stdout);
  assert.deepEqual(out.slice(live, live + 3), ['root', 'note', 'hi']);
  // What the Tour wrote: the ids files, one bare id per line; the private key 0600.
  const fleet = fs.readFileSync(path.join(dir, 'fleet.txt'), 'utf8').split('\n').filter(Boolean);
  assert.equal(fleet.length, 60);
  for (const id of fleet) assert.match(id, /^i-[a-z0-9]+$/);
  assert.equal(fs.statSync(path.join(dir, 'laptop.pem')).mode & 0o777, 0o600);
  assert.match(stdout, /succeeded, 0 failed of 60/, 'the batch bind of fleet.txt');
  assert.doesNotMatch(stderr, /EPIPE|\n\s+at /, 'no stack trace anywhere');
});
