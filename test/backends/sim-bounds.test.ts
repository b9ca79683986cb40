/**
 * The bounds that keep one tenant's instance from stalling or starving the process every tenant's simulated
 * instances share (issue 18): size limits on the guest files the sshd reads, the scrypt cost a guest hash may ask
 * for, the files one reading of sshd_config may visit, SFTP's mode bits and disk quota, connection caps, and the
 * size of what a command sends. Each test asserts the behaviour (refused, ignored, bounded), never a duration.
 */
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';
import {
  ACCOUNT_FILE_MAX_BYTES,
  AUTHORIZED_KEYS_MAX_BYTES,
  AUTHORIZED_KEYS_MAX_LINE,
  SSHD_CONFIG_MAX_BYTES,
} from '../../src/backends/sim/guest-file-limits.js';
import { hostPath, initRootfs } from '../../src/backends/sim/rootfs.js';
import {
  hashPassword,
  MAX_SCRYPT_WORK,
  readShadowHash,
  verifyGuestPassword,
  verifyPassword,
} from '../../src/backends/sim/shadow.js';
import { isRevoked, readAuthorizedKeys } from '../../src/backends/sim/sshd-authorized-keys.js';
import { effectiveSshdConfig, validateSshdConfig } from '../../src/backends/sim/sshd-config.js';
import { MAX_CONFIG_FILES, SshdConfigUnusable } from '../../src/backends/sim/sshd-config-files.js';
import { lookupUser } from '../../src/backends/sim/sshd-passwd.js';

const PASSWORD = 'correct horse battery staple';
const ROOT = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };

let workDir: string;
let nextRoot = 1;

before(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-sim-bounds-'));
});

after(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

async function newRoot(): Promise<string> {
  const rootDir = path.join(workDir, `root-${nextRoot++}`);
  await initRootfs(rootDir, { hostname: 'bounds', rootPasswordHash: await hashPassword(PASSWORD) });
  return rootDir;
}

async function write(rootDir: string, guestPath: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const file = hostPath(rootDir, guestPath);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content, { mode });
  await fs.chmod(file, mode);
}

function keyLine(comment: string): { line: string; blob: Buffer } {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  const [, base64] = pair.public.trim().split(' ');
  return { line: pair.public.trim(), blob: Buffer.from(base64!, 'base64') };
}

/** Valid-looking key lines of other keys, `bytes` long in all. */
function filler(bytes: number): string {
  const other = keyLine('filler').line;
  return `${other}\n`.repeat(Math.ceil(bytes / (other.length + 1))).slice(0, bytes);
}

describe('authorized_keys and RevokedKeys are read up to their size limit', () => {
  test('a key within the first MiB is accepted; a key listed past it is not', async () => {
    const rootDir = await newRoot();
    const early = keyLine('early');
    const late = keyLine('late');
    const content = `${early.line}\n${filler(AUTHORIZED_KEYS_MAX_BYTES)}\n${late.line}\n`;
    await write(rootDir, '/root/.ssh/authorized_keys', content, 0o600);
    const warnings: string[] = [];
    const keys = await readAuthorizedKeys(rootDir, ROOT, await effectiveSshdConfig(rootDir), (m) => warnings.push(m));
    assert.ok(keys.some((k) => k.blob.equals(early.blob)));
    assert.ok(!keys.some((k) => k.blob.equals(late.blob)));
    assert.ok(keys.length * 60 < AUTHORIZED_KEYS_MAX_BYTES, 'no more lines than fit in the limit were parsed');
    assert.match(warnings.join('\n'), /only its first 1048576 bytes are read/);
  });

  test('a line longer than any real key listing is skipped, the next line still counts', async () => {
    const rootDir = await newRoot();
    const good = keyLine('good');
    const long = keyLine('long');
    const longLine = `environment="X=${'a'.repeat(AUTHORIZED_KEYS_MAX_LINE)}" ${long.line}`;
    await write(rootDir, '/root/.ssh/authorized_keys', `${longLine}\n${good.line}\n`, 0o600);
    const keys = await readAuthorizedKeys(rootDir, ROOT, await effectiveSshdConfig(rootDir), () => {});
    assert.deepEqual(
      keys.map((k) => k.blob.equals(good.blob)),
      [true],
    );
  });

  test('a RevokedKeys file over the limit revokes every key (fails closed)', async () => {
    const rootDir = await newRoot();
    const key = keyLine('k');
    await write(rootDir, '/etc/ssh/revoked_keys', filler(AUTHORIZED_KEYS_MAX_BYTES + 1));
    await write(rootDir, '/etc/ssh/sshd_config.d/10-revoked.conf', 'RevokedKeys /etc/ssh/revoked_keys\n');
    const config = await effectiveSshdConfig(rootDir);
    assert.equal(await isRevoked(rootDir, config, key.blob), true);
    await write(rootDir, '/etc/ssh/revoked_keys', filler(10_000));
    assert.equal(await isRevoked(rootDir, config, key.blob), false);
  });
});

describe('account files are read up to their size limit', () => {
  test('an oversized /etc/passwd has no accounts; an oversized /etc/shadow has no hash', async () => {
    const rootDir = await newRoot();
    assert.equal((await lookupUser(rootDir, 'root'))?.uid, 0);
    assert.notEqual(await readShadowHash(rootDir, 'root'), null);
    const padding = `${'#'.repeat(99)}\n`.repeat(ACCOUNT_FILE_MAX_BYTES / 100 + 1);
    await write(rootDir, '/etc/passwd', `root:x:0:0:root:/root:/bin/bash\n${padding}`);
    const shadow = await fs.readFile(hostPath(rootDir, '/etc/shadow'), 'utf8');
    await write(rootDir, '/etc/shadow', `${shadow}${padding}`, 0o600);
    assert.equal(await lookupUser(rootDir, 'root'), null);
    assert.equal(await readShadowHash(rootDir, 'root'), null);
  });
});

describe('sshd_config: size and Include limits', () => {
  test('a config file over the limit makes the config unusable: logins refused, sshd -t fails', async () => {
    const rootDir = await newRoot();
    const big = `${'# padding\n'.repeat(SSHD_CONFIG_MAX_BYTES / 10 + 1)}PasswordAuthentication no\n`;
    await write(rootDir, '/etc/ssh/sshd_config.d/50-big.conf', big);
    await assert.rejects(effectiveSshdConfig(rootDir), SshdConfigUnusable);
    const check = await validateSshdConfig(rootDir);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.message, /50-big\.conf: file larger than 262144 bytes/);
  });

  test('Include fan-out (each level includes the next four times) stops at the total-files limit', async () => {
    const rootDir = await newRoot();
    // 4 + 16 + 64 + 256 + 1024 visits at depth 5, far below the depth limit.
    for (let level = 0; level < 5; level++) {
      const next = `/etc/ssh/level${level + 1}.conf`;
      await write(rootDir, `/etc/ssh/level${level}.conf`, `Include ${Array(4).fill(next).join(' ')}\n`);
    }
    await write(rootDir, '/etc/ssh/level5.conf', 'PermitRootLogin yes\n');
    await write(rootDir, '/etc/ssh/sshd_config.d/a.conf', 'Include /etc/ssh/level0.conf\n');
    await assert.rejects(effectiveSshdConfig(rootDir), SshdConfigUnusable);
    const check = await validateSshdConfig(rootDir);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.message, new RegExp(`more than ${MAX_CONFIG_FILES} configuration files`));
  });

  test('a config of many drop-ins below the limit is read whole', async () => {
    const rootDir = await newRoot();
    for (let i = 0; i < 40; i++) await write(rootDir, `/etc/ssh/sshd_config.d/${String(i).padStart(2, '0')}.conf`, '');
    await write(rootDir, '/etc/ssh/sshd_config.d/99-last.conf', 'PasswordAuthentication no\n');
    assert.equal((await effectiveSshdConfig(rootDir)).passwordAuthentication, false);
    assert.deepEqual(await validateSshdConfig(rootDir), { ok: true });
  });
});

describe('password hashes from the guest: the cost is capped', () => {
  const scryptHash = (password: string, N: number, r: number, p: number): string => {
    const salt = randomBytes(16);
    const key = scryptSync(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
    return `$scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  };

  test('a correct password with a hash at the cap matches; above the cap it never does', async () => {
    const atCap = scryptHash(PASSWORD, 1 << 15, 8, 1);
    assert.equal((1 << 15) * 8, MAX_SCRYPT_WORK);
    assert.equal(await verifyPassword(PASSWORD, atCap), true);
    // Twice the work, but cheap memory (N=2^11) so the test itself stays light.
    const aboveCap = scryptHash(PASSWORD, 1 << 11, 1, 256);
    assert.equal(await verifyPassword(PASSWORD, aboveCap), false);
    assert.equal(
      await verifyPassword(
        PASSWORD,
        '$scrypt$N=1048576,r=32,p=16$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ),
      false,
    );
  });

  test('concurrent verifications of one instance all get their own answer', async () => {
    const rootDir = await newRoot();
    const hash = await readShadowHash(rootDir, 'root');
    const answers = await Promise.all(
      ['wrong', PASSWORD, 'also wrong', PASSWORD].map((p) => verifyGuestPassword(rootDir, p, hash)),
    );
    assert.deepEqual(answers, [false, true, false, true]);
  });
});
