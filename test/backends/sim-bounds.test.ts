/**
 * The bounds that keep one tenant's instance from stalling or starving the process every tenant's simulated
 * instances share (issue 18): size limits on the guest files the sshd reads, the scrypt cost a guest hash may ask
 * for, the files one reading of sshd_config may visit, SFTP's mode bits and disk quota, connection caps, and the
 * size of what a command sends. Each test asserts the behaviour (refused, ignored, bounded), never a duration.
 */
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';
import { createDiskQuota } from '../../src/backends/sim/disk-quota.js';
import { isCoreError } from '../../src/core/errors.js';
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
  setShadowHash,
  verifyGuestPassword,
  verifyPassword,
} from '../../src/backends/sim/shadow.js';
import { CAT_CHUNK } from '../../src/backends/sim/sshd-commands.js';
import { MAX_READ, READDIR_BATCH, SFTP_MAX_HANDLES } from '../../src/backends/sim/sshd-sftp.js';
import { createSimSshFleet, type SimSshFleet } from '../../src/backends/sim/ssh-server.js';
import { isRevoked, MAX_LISTINGS_OF_ONE_KEY, readAuthorizedKeys } from '../../src/backends/sim/sshd-authorized-keys.js';
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

  test('asked about one key, only its listings are parsed, and at most MAX_LISTINGS_OF_ONE_KEY of them', async () => {
    const rootDir = await newRoot();
    const wanted = keyLine('wanted');
    const content = `${filler(10_000)}\n${`${wanted.line}\n`.repeat(MAX_LISTINGS_OF_ONE_KEY + 10)}`;
    await write(rootDir, '/root/.ssh/authorized_keys', content, 0o600);
    const config = await effectiveSshdConfig(rootDir);
    const keys = await readAuthorizedKeys(rootDir, ROOT, config, () => {}, wanted.blob);
    assert.equal(keys.length, MAX_LISTINGS_OF_ONE_KEY);
    assert.ok(keys.every((k) => k.blob.equals(wanted.blob)));
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

  test('setting a password in an oversized /etc/shadow is a coded refusal; the file is left as it is', async () => {
    const rootDir = await newRoot();
    const padding = `${'#'.repeat(99)}\n`.repeat(ACCOUNT_FILE_MAX_BYTES / 100 + 1);
    await write(rootDir, '/etc/shadow', `root:*:1:0:99999:7:::\n${padding}`, 0o600);
    const before = await fs.readFile(hostPath(rootDir, '/etc/shadow'));
    await assert.rejects(setShadowHash(rootDir, 'root', await hashPassword('new-pass')), (err: unknown) => {
      assert.ok(isCoreError(err));
      assert.equal(err.code, 'Instance.GuestFileTooLarge');
      assert.equal(err.kind, 'IncorrectState');
      assert.match(
        err.message,
        /^The instance's \/etc\/shadow is larger than 1048576 bytes.*password of root was not changed/,
      );
      assert.ok(!err.message.includes(rootDir), 'no host path in the message');
      return true;
    });
    assert.ok((await fs.readFile(hostPath(rootDir, '/etc/shadow'))).equals(before));
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
    assert.match(
      check.ok ? '' : check.message,
      /50-big\.conf: the configuration files are larger than 262144 bytes in all/,
    );
  });

  test('config files that are small one by one but large together make the config unusable', async () => {
    const rootDir = await newRoot();
    const part = '# padding\n'.repeat(SSHD_CONFIG_MAX_BYTES / 40);
    for (const name of ['a', 'b', 'c', 'd', 'e']) await write(rootDir, `/etc/ssh/sshd_config.d/${name}.conf`, part);
    await assert.rejects(effectiveSshdConfig(rootDir), SshdConfigUnusable);
    assert.equal((await validateSshdConfig(rootDir)).ok, false);
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

describe('disk quota', () => {
  test('growth is refused past the quota and allowed again once files are deleted and re-measured', async () => {
    const rootDir = await newRoot();
    const kept = createDiskQuota({ bytes: 1024 * 1024, entries: 1000, remeasureMs: Number.POSITIVE_INFINITY });
    assert.equal(await kept.allowGrowth(rootDir, 600 * 1024), true);
    assert.equal(await kept.allowGrowth(rootDir, 600 * 1024), false, 'reservations add up');
    const quota = createDiskQuota({ bytes: 1024 * 1024, entries: 1000, remeasureMs: 0 });
    await write(rootDir, '/tmp/big', Buffer.alloc(900 * 1024));
    assert.equal(await quota.allowGrowth(rootDir, 200 * 1024), false, 'existing files count');
    await fs.rm(hostPath(rootDir, '/tmp/big'));
    assert.equal(await quota.allowGrowth(rootDir, 200 * 1024), true, 're-measured after the deletion');
  });

  test('a sparse file counts by its apparent size; a rootfs with too many entries counts as full', async () => {
    const rootDir = await newRoot();
    await fs.truncate(await touch(rootDir, '/tmp/sparse'), 2 * 1024 * 1024);
    assert.equal(
      await createDiskQuota({ bytes: 2 * 1024 * 1024, entries: 1000, remeasureMs: 0 }).allowGrowth(rootDir, 1),
      false,
    );
    const fewEntries = createDiskQuota({ bytes: 1024 ** 3, entries: 5, remeasureMs: 0 });
    assert.equal(await fewEntries.allowGrowth(rootDir, 1), false);
  });
});

async function touch(rootDir: string, guestPath: string): Promise<string> {
  await write(rootDir, guestPath, '');
  return hostPath(rootDir, guestPath);
}

describe('the simulated sshd with its connection limits and SFTP bounds', () => {
  let address = '127.20.7.1';
  const QUOTA = 4 * 1024 * 1024;
  let fleet: SimSshFleet;
  let port: number;
  let rootDir: string;
  let key: { line: string; privateKey: string };
  let nextId = 1;

  before(async () => {
    fleet = createSimSshFleet({
      limits: {
        maxConnections: 4,
        maxUnauthenticated: 2,
        loginGraceMs: 60_000,
        diskQuota: { bytes: QUOTA, entries: 1000, remeasureMs: 0 },
      },
    });
    port = await freePort(address);
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    key = { line: pair.public.trim(), privateKey: pair.private };
  });

  after(async () => {
    await fleet.stopAll();
  });

  /** A fresh instance served at `address` (each test its own: the fleet serves one instance there at a time). */
  async function serveFresh(): Promise<void> {
    rootDir = await newRoot();
    await write(rootDir, '/root/.ssh/authorized_keys', `${key.line}\n`, 0o600);
    const n = nextId++;
    address = `127.20.7.${10 + n}`;
    await fleet.serve({ instanceId: `i-bounds${n}`, rootDir, address, port });
  }

  async function login(): Promise<ssh2.Client> {
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({ host: address, port, username: 'root', privateKey: key.privateKey, readyTimeout: 10_000 });
    });
    return client;
  }

  async function sftpOf(client: ssh2.Client): Promise<ssh2.SFTPWrapper> {
    return new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  }

  const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

  /** A raw TCP connection that says nothing: resolves with the server's banner, or null when closed without one. */
  function silentConnection(): Promise<{ socket: net.Socket; banner: string | null }> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: address, port });
      socket.on('error', () => {});
      socket.once('data', (data) => resolve({ socket, banner: data.toString('latin1') }));
      socket.once('close', () => resolve({ socket, banner: null }));
    });
  }

  test('SFTP chmod and open drop setuid, setgid and sticky bits', async () => {
    await serveFresh();
    const client = await login();
    try {
      const sftp = await sftpOf(client);
      await call<void>((cb) => sftp.writeFile('/tmp/tool', 'x', { mode: 0o4755 }, cb));
      assert.equal((await fs.stat(hostPath(rootDir, '/tmp/tool'))).mode & 0o7777, 0o755);
      await call<void>((cb) => sftp.chmod('/tmp/tool', 0o6777, cb));
      assert.equal((await fs.stat(hostPath(rootDir, '/tmp/tool'))).mode & 0o7777, 0o777);
      const handle = await call<Buffer>((cb) => sftp.open('/tmp/tool', 'r+', cb));
      await call<void>((cb) => sftp.fchmod(handle, 0o7755, cb));
      await call<void>((cb) => sftp.close(handle, cb));
      assert.equal((await fs.stat(hostPath(rootDir, '/tmp/tool'))).mode & 0o7777, 0o755);
    } finally {
      client.end();
    }
  });

  test('SFTP writes and resizes past the disk quota fail with "No space left on device"', async () => {
    await serveFresh();
    const client = await login();
    try {
      const sftp = await sftpOf(client);
      const handle = await call<Buffer>((cb) => sftp.open('/tmp/sparse', 'w', cb));
      await assert.rejects(
        call<void>((cb) => sftp.write(handle, Buffer.from('x'), 0, 1, 2 ** 40, cb)),
        /No space left on device/,
      );
      await assert.rejects(
        call<void>((cb) => sftp.fsetstat(handle, { size: 2 ** 40 }, cb)),
        /No space left on device/,
      );
      await call<void>((cb) => sftp.close(handle, cb));
      assert.equal((await fs.stat(hostPath(rootDir, '/tmp/sparse'))).size, 0);
      await assert.rejects(
        call<void>((cb) => sftp.writeFile('/tmp/big', Buffer.alloc(QUOTA), cb)),
        /No space left on device/,
      );
      assert.ok((await fs.stat(hostPath(rootDir, '/tmp/big'))).size < QUOTA);
      // Room comes back once files are removed: the quota is measured again.
      await call<void>((cb) => sftp.unlink('/tmp/big', cb));
      await call<void>((cb) => sftp.writeFile('/tmp/half', Buffer.alloc(QUOTA / 2), cb));
      assert.equal((await fs.stat(hostPath(rootDir, '/tmp/half'))).size, QUOTA / 2);
    } finally {
      client.end();
    }
  });

  test('SFTP: open handles are capped per session; a closed one frees its slot', async () => {
    await serveFresh();
    const client = await login();
    try {
      const sftp = await sftpOf(client);
      const opened: Buffer[] = [];
      for (let i = 0; i < SFTP_MAX_HANDLES; i++) opened.push(await call<Buffer>((cb) => sftp.opendir('/tmp', cb)));
      await assert.rejects(
        call<Buffer>((cb) => sftp.open(`/tmp/one-more`, 'w', cb)),
        /Too many open handles/,
      );
      await assert.rejects(
        call<Buffer>((cb) => sftp.opendir('/', cb)),
        /Too many open handles/,
      );
      await assert.rejects(fs.stat(hostPath(rootDir, '/tmp/one-more')), { code: 'ENOENT' });
      await call<void>((cb) => sftp.close(opened.pop()!, cb));
      const again = await call<Buffer>((cb) => sftp.open('/tmp/one-more', 'w', cb));
      await call<void>((cb) => sftp.close(again, cb));
    } finally {
      client.end();
    }
  });

  test('SFTP: READDIR answers in batches and lists every entry once; READ answers at most MAX_READ bytes', async () => {
    await serveFresh();
    for (let i = 0; i < 250; i++) await write(rootDir, `/tmp/d/f${i}`, '');
    await write(rootDir, '/tmp/big', Buffer.alloc(3 * MAX_READ, 'b'));
    const client = await login();
    try {
      const sftp = await sftpOf(client);
      const dir = await call<Buffer>((cb) => sftp.opendir('/tmp/d', cb));
      const names: string[] = [];
      for (;;) {
        const batch = await call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb as never)).catch(
          (err: { code?: number }) => {
            if (err.code === 1) return null; // EOF
            throw err;
          },
        );
        if (batch === null) break;
        assert.ok(batch.length <= READDIR_BATCH);
        names.push(...batch.map((e) => e.filename));
      }
      // ssh2's client leaves out `.` and `..`.
      assert.deepEqual(names.sort(), Array.from({ length: 250 }, (_, i) => `f${i}`).sort());
      // One READ asking for three times MAX_READ (ssh2's client would otherwise split it itself).
      (sftp as unknown as { _maxReadLen: number })._maxReadLen = 3 * MAX_READ;
      const file = await call<Buffer>((cb) => sftp.open('/tmp/big', 'r', cb));
      const buf = Buffer.alloc(3 * MAX_READ);
      const got = await call<number>((cb) => sftp.read(file, buf, 0, buf.length, 0, cb as never));
      assert.equal(got, MAX_READ);
    } finally {
      client.end();
    }
  });

  test('SFTP: a client that pipelines READs and reads no answer is stopped by the window; all are answered later', async () => {
    await serveFresh();
    await write(rootDir, '/tmp/big', Buffer.alloc(MAX_READ, 'r'));
    const client = await login();
    try {
      const channel = await call<ssh2.ClientChannel>((cb) => client.subsys('sftp', cb));
      const packet = (type: number, body: Buffer) => {
        const head = Buffer.alloc(5);
        head.writeUInt32BE(body.length + 1, 0);
        head[4] = type;
        return Buffer.concat([head, body]);
      };
      const u32 = (n: number) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(n, 0);
        return b;
      };
      const str = (t: string | Buffer) => Buffer.concat([u32(Buffer.byteLength(t)), Buffer.from(t)]);
      // Replies, parsed as they come: [type, request id, payload].
      let incoming: Buffer = Buffer.alloc(0);
      const replies: Array<{ type: number; id: number; body: Buffer }> = [];
      let answered = 0;
      const waiters: Array<() => void> = [];
      channel.on('data', (d: Buffer) => {
        incoming = incoming.length === 0 ? d : Buffer.concat([incoming, d]);
        while (incoming.length >= 4 && incoming.length >= 4 + incoming.readUInt32BE(0)) {
          const len = incoming.readUInt32BE(0);
          const type = incoming[4]!;
          const id = type === 2 ? 0 : incoming.readUInt32BE(5);
          if (id >= 10) answered++;
          replies.push({ type, id, body: incoming.subarray(9, 4 + len) });
          incoming = incoming.subarray(4 + len);
        }
        for (const w of waiters.splice(0)) w();
      });
      const until = async (test: () => boolean) => {
        while (!test()) await new Promise<void>((r) => waiters.push(r));
      };
      channel.write(packet(1, u32(3))); // INIT, version 3
      channel.write(packet(3, Buffer.concat([u32(1), str('/tmp/big'), u32(1), u32(0)]))); // OPEN read
      await until(() => replies.some((r) => r.id === 1));
      const handle = replies.find((r) => r.id === 1)!.body;
      assert.equal(replies.find((r) => r.id === 1)!.type, 102, 'a handle');
      const handleBytes = handle.subarray(4, 4 + handle.readUInt32BE(0));
      // 80 READs of 64 KiB: 5 MiB of answers, and the client reads nothing (ssh2's client stops opening its window
      // once 2 MiB wait unread), so answers back up on the server. Then 300 STATs of 30 KiB paths: 9 MB of requests, far more than the window it grants.
      channel.pause();
      const big = 80;
      const count = big + 300;
      for (let i = 0; i < big; i++)
        channel.write(packet(5, Buffer.concat([u32(10 + i), str(handleBytes), Buffer.alloc(8), u32(MAX_READ)])));
      while (channel.readableLength < 2 * 1024 * 1024) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      for (let i = big; i < count; i++)
        channel.write(packet(17, Buffer.concat([u32(10 + i), str(`/tmp/${'x'.repeat(30 * 1024)}`)])));
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(channel.writableLength > 0, 'the server stopped opening the window: requests wait on the client side');
      channel.resume();
      await until(() => answered === count);
      const answers = replies.filter((r) => r.id >= 10).sort((x, y) => x.id - y.id);
      assert.ok(answers.slice(0, big).every((r) => r.type === 103 && r.body.length === 4 + MAX_READ));
      assert.ok(
        answers.slice(big).every((r) => r.type === 101),
        'the STATs answered with a status',
      );
      channel.end();
    } finally {
      client.end();
    }
  });

  /** Runs `command` and collects its exit code, stdout and stderr. */
  function exec(client: ssh2.Client, command: string): Promise<{ code: number; out: Buffer; err: string }> {
    return new Promise((resolve, reject) =>
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        let errText = '';
        channel.on('data', (d: Buffer) => out.push(d));
        channel.stderr.on('data', (d: Buffer) => {
          errText += d.toString();
        });
        channel.on('exit', (code: number) =>
          channel.once('close', () => resolve({ code, out: Buffer.concat(out), err: errText })),
        );
      }),
    );
  }

  test('cat streams a file of many chunks whole, byte for byte, and then the next argument', async () => {
    await serveFresh();
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await write(rootDir, '/tmp/large', content);
    await write(rootDir, '/tmp/small', 'tail\n');
    const client = await login();
    try {
      const result = await exec(client, 'cat /tmp/large /tmp/missing /tmp/small');
      assert.ok(content.length > 40 * CAT_CHUNK);
      assert.equal(result.out.length, content.length + 5);
      assert.ok(result.out.subarray(0, content.length).equals(content));
      assert.equal(result.out.subarray(content.length).toString(), 'tail\n');
      assert.equal(result.code, 1);
      assert.equal(result.err, 'cat: /tmp/missing: No such file or directory\n');
    } finally {
      client.end();
    }
  });

  test('a shell whose client sends commands without reading (window shut) runs every one once it reads', async () => {
    await serveFresh();
    await write(rootDir, '/tmp/large', Buffer.alloc(1024 * 1024, 'a'));
    const client = await login();
    try {
      const received = await new Promise<{ bytes: number; code: number }>((resolve, reject) =>
        client.shell(false, (err, channel) => {
          if (err) return reject(err);
          let bytes = 0;
          channel.on('data', (d: Buffer) => {
            bytes += d.length;
          });
          channel.on('exit', (code: number) => channel.once('close', () => resolve({ bytes, code })));
          channel.pause();
          // 40 lines of 1 MiB output each, more than the lines a session queues and far more than the window.
          for (let i = 0; i < 40; i++) channel.write('cat /tmp/large\n');
          channel.end('exit 3\n');
          setTimeout(() => channel.resume(), 200);
        }),
      );
      assert.equal(received.code, 3);
      assert.ok(received.bytes >= 40 * 1024 * 1024, `all output arrived (${received.bytes} bytes)`);
    } finally {
      client.end();
    }
  });

  test('connections past the unauthenticated cap are closed before the banner; a login frees a slot', async () => {
    await serveFresh();
    const first = await silentConnection();
    const second = await silentConnection();
    assert.match(first.banner ?? '', /^SSH-2\.0-/);
    assert.match(second.banner ?? '', /^SSH-2\.0-/);
    const third = await silentConnection();
    assert.equal(third.banner, null, 'closed at once, as sshd past MaxStartups');
    const closed = new Promise((resolve) => first.socket.once('close', resolve));
    first.socket.destroy();
    await closed;
    const client = await login();
    // The logged-in client no longer counts as a startup: another silent one is served.
    const fourth = await silentConnection();
    assert.match(fourth.banner ?? '', /^SSH-2\.0-/);
    for (const c of [second, fourth]) c.socket.destroy();
    client.end();
  });

  test('connections past the per-instance cap are closed, logged in or not', async () => {
    await serveFresh();
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await login());
    const extra = await silentConnection();
    assert.equal(extra.banner, null);
    for (const c of clients) c.end();
  });

  test('a connection that does not log in within the grace time is dropped', async () => {
    const graceFleet = createSimSshFleet({ limits: { loginGraceMs: 50 } });
    const graceRoot = await newRoot();
    await graceFleet.serve({ instanceId: 'i-grace', rootDir: graceRoot, address: '127.20.7.2', port });
    try {
      const socket = net.connect({ host: '127.20.7.2', port }).resume();
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('close', resolve));
    } finally {
      await graceFleet.stopAll();
    }
  });
});

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: address, port: 0 }, () => {
      const { port: p } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(p));
    });
  });
}
