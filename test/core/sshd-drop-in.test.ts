/**
 * The sshd drop-in: the product rule, the rendered text, and OpenSSH's own verdict on it (`sshd -t` accepts it;
 * `sshd -T` shows it wins over cloud-init's drop-in and over the main file) when /usr/sbin/sshd is installed.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  desiredLoginMethods,
  passwordAuthenticationIn,
  renderSshdDropIn,
  SSHD_DROP_IN_PATH,
} from '../../src/core/binding/sshd-drop-in.js';

const SSHD = '/usr/sbin/sshd';
const DROP_IN_NAME = path.posix.basename(SSHD_DROP_IN_PATH);

const directives = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('desiredLoginMethods', () => {
  it('a bound key pair turns password login off; no key pair turns it back on', () => {
    assert.deepEqual(desiredLoginMethods(true), { passwordAuthentication: false });
    assert.deepEqual(desiredLoginMethods(false), { passwordAuthentication: true });
  });
});

describe('renderSshdDropIn', () => {
  it('password off: PasswordAuthentication and keyboard-interactive both off', () => {
    const text = renderSshdDropIn({ passwordAuthentication: false });
    assert.deepEqual(directives(text), ['PasswordAuthentication no', 'KbdInteractiveAuthentication no']);
    assert.equal(passwordAuthenticationIn(text), false);
  });

  it('password on: only PasswordAuthentication yes, keyboard-interactive left to the host', () => {
    const text = renderSshdDropIn({ passwordAuthentication: true });
    assert.deepEqual(directives(text), ['PasswordAuthentication yes']);
    assert.equal(passwordAuthenticationIn(text), true);
  });

  it('starts with a comment header naming keyfleet, ends with a newline, and is deterministic', () => {
    for (const passwordAuthentication of [true, false]) {
      const text = renderSshdDropIn({ passwordAuthentication });
      assert.match(text, /^# Managed by keyfleet/);
      assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'));
      assert.equal(
        text,
        renderSshdDropIn({ passwordAuthentication }),
        'live apply compares contents to detect a change',
      );
    }
  });
});

describe('SSHD_DROP_IN_PATH', () => {
  it('lives in sshd_config.d and sorts before the distro and cloud-init drop-ins, so its value is read first', () => {
    assert.equal(path.posix.dirname(SSHD_DROP_IN_PATH), '/etc/ssh/sshd_config.d');
    assert.match(DROP_IN_NAME, /\.conf$/);
    const others = ['50-cloud-init.conf', '50-redhat.conf', '60-cloudimg-settings.conf'];
    assert.deepEqual([...others, DROP_IN_NAME].sort(), [DROP_IN_NAME, ...others]);
  });
});

describe('passwordAuthenticationIn', () => {
  it('reads the first value, any keyword case, with a space or =', () => {
    assert.equal(passwordAuthenticationIn('passwordauthentication=no\nPasswordAuthentication yes\n'), false);
    assert.equal(passwordAuthenticationIn('# PasswordAuthentication no\n  PASSWORDAUTHENTICATION   yes\n'), true);
    assert.equal(passwordAuthenticationIn('PasswordAuthentication = no\n'), false);
  });

  it('returns null when the text sets none, or only inside a Match block', () => {
    assert.equal(passwordAuthenticationIn('# nothing\n'), null);
    assert.equal(passwordAuthenticationIn('Match User root\n  PasswordAuthentication no\n'), null);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// OpenSSH's verdict

interface Sandbox {
  dir: string;
  hostKey: string;
  write(name: string, text: string): string;
  cleanup(): void;
}

function sandbox(): Sandbox {
  const dir = mkdtempSync(path.join(tmpdir(), 'kf-sshd-'));
  mkdirSync(path.join(dir, 'sshd_config.d'));
  const hostKey = path.join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  return {
    dir,
    hostKey,
    write(name, text) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A main config shaped like Debian's: the Include first, then settings that would say the opposite. */
function mainConfig(box: Sandbox, laterPasswordSetting: 'yes' | 'no'): string {
  return box.write(
    'sshd_config',
    [
      `Include ${box.dir}/sshd_config.d/*.conf`,
      `PasswordAuthentication ${laterPasswordSetting}`,
      'KbdInteractiveAuthentication yes',
      'UsePAM yes',
      '',
    ].join('\n'),
  );
}

function sshd(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SSHD, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function effective(stdout: string, keyword: string): string | undefined {
  return stdout
    .split('\n')
    .find((l) => l.startsWith(`${keyword} `))
    ?.split(' ')[1];
}

/** OpenSSH itself judges the drop-in; `npm test` installs openssh-server, so its absence is a failure, not a skip. */
function skipWithoutSshd(_t: TestContext): boolean {
  assert.ok(
    existsSync(SSHD),
    `${SSHD} is not installed (npm test installs openssh-server), so OpenSSH cannot check the drop-in`,
  );
  return false;
}

describe('OpenSSH accepts the drop-in', () => {
  for (const passwordAuthentication of [false, true]) {
    it(`sshd -t accepts the rendered drop-in (password ${passwordAuthentication ? 'on' : 'off'})`, (t) => {
      if (skipWithoutSshd(t)) return;
      const box = sandbox();
      try {
        box.write(`sshd_config.d/${DROP_IN_NAME}`, renderSshdDropIn({ passwordAuthentication }));
        const config = mainConfig(box, passwordAuthentication ? 'no' : 'yes');
        const r = sshd(['-t', '-f', config, '-h', box.hostKey]);
        assert.equal(r.code, 0, `sshd -t refused the drop-in: ${r.stderr}`);
      } finally {
        box.cleanup();
      }
    });
  }

  it('sshd -T: the drop-in wins over a later main-file setting and over 50-cloud-init.conf', (t) => {
    if (skipWithoutSshd(t)) return;
    const box = sandbox();
    try {
      const context = ['-C', 'user=root,host=x,addr=127.0.0.1'];
      box.write('sshd_config.d/50-cloud-init.conf', 'PasswordAuthentication yes\n');
      box.write(`sshd_config.d/${DROP_IN_NAME}`, renderSshdDropIn({ passwordAuthentication: false }));
      const off = sshd(['-T', '-f', mainConfig(box, 'yes'), '-h', box.hostKey, ...context]);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(effective(off.stdout, 'passwordauthentication'), 'no');
      assert.equal(effective(off.stdout, 'kbdinteractiveauthentication'), 'no');

      box.write('sshd_config.d/50-cloud-init.conf', 'PasswordAuthentication no\n');
      box.write(`sshd_config.d/${DROP_IN_NAME}`, renderSshdDropIn({ passwordAuthentication: true }));
      const on = sshd(['-T', '-f', mainConfig(box, 'no'), '-h', box.hostKey, ...context]);
      assert.equal(on.code, 0, on.stderr);
      assert.equal(effective(on.stdout, 'passwordauthentication'), 'yes');
      assert.equal(
        effective(on.stdout, 'kbdinteractiveauthentication'),
        'yes',
        'password on leaves keyboard-interactive to the host',
      );
    } finally {
      box.cleanup();
    }
  });
});
