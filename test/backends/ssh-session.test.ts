/**
 * The live SSH adapter against real Debian OpenSSH sshd hosts (test/support/sshd-harness.ts): SFTP file edits
 * that StrictModes and the real OpenSSH client accept, PK_OK probes that tell accepted from refused keys, the
 * password method following sshd's config, host key pinning that stops before any credential, bounded failures,
 * secrets kept out of errors, and many probes without leaked sockets.
 *
 * Hosts: host1 for file edits and logins, host2 logs at VERBOSE (the log is the evidence for what was attempted),
 * host3 gets config changes. Tests in this file run in order and share them.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { isCoreError, type CoreError } from '../../src/core/errors.js';
import type { HostKeyPolicy, LiveCredential, LiveTarget } from '../../src/core/ports.js';
import { openSession, probeLogin, tryLogin } from '../../src/backends/ssh/ssh-session.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { establishedConnections, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const run = promisify(execFile);

let hosts: TestHost[] = [];
let host1: TestHost, host2: TestHost, host3: TestHost;
let keysDir: string;
let keyA: { privatePath: string; privateKey: string; publicLine: string };
let keyB: { privatePath: string; privateKey: string; publicLine: string };
let keyRsa: { privatePath: string; privateKey: string; publicLine: string };
/** Every error any test provoked: checked at the end for leaked secrets. */
const provoked: { error: unknown; secrets: string[] }[] = [];

const targetOf = (h: TestHost): LiveTarget => ({ host: h.address, port: h.port, username: h.user });
const pinned = (h: TestHost): HostKeyPolicy => ({ kind: 'pinned', sha256: h.hostKeySha256 });
const passwordOf = (h: TestHost): LiveCredential => ({ kind: 'password', password: h.password });
const AK = '.ssh/authorized_keys';

before(async () => {
  hosts = await startHosts(3);
  [host1, host2, host3] = hosts as [TestHost, TestHost, TestHost];
  keysDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-ssh-test-keys-'));
  [keyA, keyB, keyRsa] = await Promise.all([makeKey('a', 'ed25519'), makeKey('b', 'ed25519'), makeKey('rsa', 'rsa')]);
  await fs.writeFile(path.join(host2.configDir, '10-verbose.conf'), 'LogLevel VERBOSE\n');
  await host2.reload();
});

after(async () => {
  await stopHosts(hosts);
  await fs.rm(keysDir, { recursive: true, force: true });
});

async function makeKey(name: string, type: 'ed25519' | 'rsa') {
  const privatePath = path.join(keysDir, name);
  await run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '3072'] : []),
    '-N',
    '',
    '-C',
    `test-${name}`,
    '-f',
    privatePath,
  ]);
  return {
    privatePath,
    privateKey: await fs.readFile(privatePath, 'utf8'),
    publicLine: (await fs.readFile(`${privatePath}.pub`, 'utf8')).trim(),
  };
}

async function rejectsWith(
  t: TestContext | null,
  work: () => Promise<unknown>,
  code: string,
  secrets: string[] = [],
): Promise<CoreError> {
  try {
    await work();
  } catch (error) {
    provoked.push({ error, secrets });
    assert.ok(isCoreError(error), `expected a CoreError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    t?.diagnostic(`${code}: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** Runs the real OpenSSH client as the host's own user: it must not read or create root's ~/.ssh. */
async function realSshLogin(
  h: TestHost,
  privateKey: string,
  command: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-ssh-client-'));
  await fs.chmod(dir, 0o755);
  const keyPath = path.join(dir, 'id');
  await fs.writeFile(keyPath, privateKey, { mode: 0o600 });
  await fs.chown(keyPath, h.uid, h.gid);
  try {
    const args = [
      '-F',
      '/dev/null',
      '-i',
      keyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(h.port),
      `${h.user}@${h.address}`,
      command,
    ];
    return await new Promise((resolve, reject) => {
      const child = spawn('ssh', args, {
        uid: h.uid,
        gid: h.gid,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: h.home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tcpSocketHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

describe('openSession + SFTP', () => {
  it('logs in with a password; the fingerprint is the one ssh-keygen prints; a missing file reads as null', async (t) => {
    const started = performance.now();
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    t.diagnostic(`first handshake+login: ${(performance.now() - started).toFixed(1)} ms`);
    try {
      const keygen = await run('ssh-keygen', [
        '-l',
        '-f',
        path.join(path.dirname(host1.sshdConfigPath), 'ssh_host_ed25519_key.pub'),
      ]);
      assert.equal(session.hostKeySha256, keygen.stdout.split(' ')[1]);
      assert.equal(session.hostKeySha256, host1.hostKeySha256);
      assert.equal(await session.readFile(AK), null);
      assert.equal(await session.readFile(`${host1.home}/nothing-here`), null);
    } finally {
      session.close();
    }
  });

  it('ensureDir ~/.ssh 0700 + writeFileAtomic 0600: owned by the user, no temp left, and the real ssh client gets in', async () => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      await session.ensureDir('~/.ssh', { mode: 0o700 });
      await session.ensureDir('.ssh', { mode: 0o700 }); // idempotent
      await session.writeFileAtomic(AK, `${keyA.publicLine}\n`, { mode: 0o600 });

      const dirStat = await fs.stat(path.join(host1.home, '.ssh'));
      const fileStat = await fs.stat(path.join(host1.home, AK));
      assert.equal(dirStat.mode, 0o40700);
      assert.equal(fileStat.mode, 0o100600);
      assert.deepEqual(
        [dirStat.uid, dirStat.gid, fileStat.uid, fileStat.gid],
        [host1.uid, host1.gid, host1.uid, host1.gid],
      );
      assert.deepEqual(await fs.readdir(path.join(host1.home, '.ssh')), ['authorized_keys']);
      assert.deepEqual(await session.readFile(AK), {
        content: `${keyA.publicLine}\n`,
        mode: 0o600,
        uid: host1.uid,
        gid: host1.gid,
      });
    } finally {
      session.close();
    }
    const login = await realSshLogin(host1, keyA.privateKey, 'echo in-as-$(id -un)');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout.trim(), `in-as-${host1.user}`);
    const refused = await realSshLogin(host1, keyB.privateKey, 'true');
    assert.equal(refused.code, 255);
  });

  it('writeFileAtomic replaces whole, keeps the exact mode it is given (no umask), and fixes an existing dir', async () => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      await session.writeFileAtomic('notes.txt', 'first\n', { mode: 0o664 });
      await session.writeFileAtomic('notes.txt', 'second ✓\n'.repeat(20_000), {
        mode: 0o640,
        uid: host1.uid,
        gid: host1.gid,
      });
      const local = await fs.stat(path.join(host1.home, 'notes.txt'));
      assert.equal(local.mode, 0o100640);
      const back = await session.readFile(`${host1.home}/notes.txt`);
      assert.equal(back?.content, 'second ✓\n'.repeat(20_000)); // > 64 KiB: several reads
      assert.equal(back?.mode, 0o640);

      await fs.mkdir(path.join(host1.home, 'loose'), { mode: 0o777 });
      await fs.chmod(path.join(host1.home, 'loose'), 0o777);
      await fs.chown(path.join(host1.home, 'loose'), host1.uid, host1.gid);
      await session.ensureDir('loose', { mode: 0o700 });
      assert.equal((await fs.stat(path.join(host1.home, 'loose'))).mode, 0o40700);
    } finally {
      session.close();
    }
  });

  it('a write that cannot complete leaves the target as it was and no temp file behind', async (t) => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      const before = await fs.readFile(path.join(host1.home, 'notes.txt'), 'utf8');
      // A non-root user may not give a file to root: fsetstat fails after the temp file was written.
      await rejectsWith(
        t,
        () => session.writeFileAtomic('notes.txt', 'must not land', { mode: 0o600, uid: 0, gid: 0 }),
        'Live.RemoteError',
      );
      assert.equal(await fs.readFile(path.join(host1.home, 'notes.txt'), 'utf8'), before);
      assert.deepEqual(
        (await fs.readdir(host1.home)).filter((f) => f.includes('keyfleet')),
        [],
      );
      await rejectsWith(t, () => session.ensureDir('no/such/parent', { mode: 0o700 }), 'Live.RemoteError');
      // The session stays usable after a remote error.
      assert.equal((await session.exec('true')).code, 0);
    } finally {
      session.close();
    }
  });

  it('removeFile removes, and is fine when the file is absent', async () => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      await session.removeFile('notes.txt');
      await session.removeFile('notes.txt');
      assert.equal(await session.readFile('notes.txt'), null);
    } finally {
      session.close();
    }
  });

  it('exec returns code, stdout and stderr, delivers stdin, and reports a signal as 128+n', async () => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      assert.deepEqual(await session.exec('cat'), { code: 0, stdout: '', stderr: '' });
      assert.deepEqual(await session.exec('cat', 'line one\nzwei ✓\n'), {
        code: 0,
        stdout: 'line one\nzwei ✓\n',
        stderr: '',
      });
      assert.deepEqual(await session.exec('echo out; echo err >&2; exit 7'), {
        code: 7,
        stdout: 'out\n',
        stderr: 'err\n',
      });
      assert.equal((await session.exec('kill -TERM $$')).code, 128 + os.constants.signals.SIGTERM);
      // Several channels at once on one connection, next to the SFTP channel.
      const [one, two, file] = await Promise.all([
        session.exec('echo 1'),
        session.exec('echo 2'),
        session.readFile(AK),
      ]);
      assert.deepEqual([one.stdout, two.stdout, file?.content], ['1\n', '2\n', `${keyA.publicLine}\n`]);
    } finally {
      session.close();
    }
  });

  it('a hung operation is bounded (Live.Timeout), and the session is closed afterwards', async (t) => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1), { opTimeoutMs: 300 });
    // Unbounded, the command would answer after 30 s, and successfully: the timeout's own error says it was cut.
    const err = await rejectsWith(t, () => session.exec('sleep 30'), 'Live.Timeout');
    assert.match(err.message, /no answer to running a command within 300 ms; the session was closed/);
    // Whatever follows is the same retryable fault, never an internal error.
    await rejectsWith(t, () => session.exec('true'), 'Live.Timeout');
    await rejectsWith(t, () => session.readFile(AK), 'Live.Timeout');
    session.close();
    await rejectsWith(t, () => session.removeFile('nothing'), 'Live.Timeout');
  });

  it('a session closed by its caller refuses further operations as Live.Unreachable', async (t) => {
    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    assert.equal((await session.exec('true')).code, 0);
    session.close();
    const err = await rejectsWith(t, () => session.readFile(AK), 'Live.Unreachable');
    assert.match(err.message, /already closed/);
    await rejectsWith(t, () => session.exec('true'), 'Live.Unreachable');
  });

  it('logs in with a private key as well', async () => {
    const session = await openSession(
      targetOf(host1),
      { kind: 'privateKey', privateKey: keyA.privateKey },
      pinned(host1),
    );
    try {
      assert.equal((await session.exec('id -un')).stdout.trim(), host1.user);
    } finally {
      session.close();
    }
  });
});

describe('probeLogin', () => {
  it('says accepted for the installed key and refused for others (ed25519 and RSA), without a private key', async (t) => {
    const started = performance.now();
    const accepted = await probeLogin(targetOf(host1), pinned(host1), keyA.publicLine);
    t.diagnostic(`one probe: ${(performance.now() - started).toFixed(1)} ms`);
    assert.deepEqual(accepted, {
      keyAccepted: true,
      methods: ['publickey', 'password'],
      hostKeySha256: host1.hostKeySha256,
    });
    assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyB.publicLine)).keyAccepted, false);
    assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyRsa.publicLine)).keyAccepted, false);

    const session = await openSession(targetOf(host1), passwordOf(host1), pinned(host1));
    try {
      await session.writeFileAtomic(AK, `${keyA.publicLine}\n${keyRsa.publicLine}\n`, { mode: 0o600 });
    } finally {
      session.close();
    }
    assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyRsa.publicLine)).keyAccepted, true);
    assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyB.publicLine)).keyAccepted, false);
    assert.deepEqual(await probeLogin(targetOf(host1), pinned(host1), null), {
      keyAccepted: null,
      methods: ['publickey', 'password'],
      hostKeySha256: host1.hostKeySha256,
    });
  });

  it('follows StrictModes like a real login: a world-writable ~/.ssh makes the key refused', async () => {
    const sshDir = path.join(host1.home, '.ssh');
    // World-writable: Debian's sshd tolerates group-writable when the group is the user's private group.
    await fs.chmod(sshDir, 0o777);
    try {
      assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyA.publicLine)).keyAccepted, false);
      assert.notEqual((await realSshLogin(host1, keyA.privateKey, 'true')).code, 0);
    } finally {
      await fs.chmod(sshDir, 0o700);
    }
    assert.equal((await probeLogin(targetOf(host1), pinned(host1), keyA.publicLine)).keyAccepted, true);
  });

  it("'password' is offered while PasswordAuthentication is yes, and not after a drop-in says no + SIGHUP", async () => {
    const session = await openSession(targetOf(host3), passwordOf(host3), pinned(host3));
    try {
      await session.ensureDir('.ssh', { mode: 0o700 });
      await session.writeFileAtomic(AK, `${keyB.publicLine}\n`, { mode: 0o600 });
    } finally {
      session.close();
    }
    assert.deepEqual((await probeLogin(targetOf(host3), pinned(host3), keyB.publicLine)).methods, [
      'publickey',
      'password',
    ]);

    const dropIn = path.join(host3.configDir, '50-keyfleet.conf');
    await fs.writeFile(dropIn, 'PasswordAuthentication no\n');
    const pid = host3.pid;
    await host3.reload(); // SIGHUP to the sshd pid; resolves when the re-exec'd sshd listens again
    assert.equal(host3.pid, pid);
    const off = await probeLogin(targetOf(host3), pinned(host3), keyB.publicLine);
    assert.deepEqual(off, { keyAccepted: true, methods: ['publickey'], hostKeySha256: host3.hostKeySha256 });
    assert.equal((await tryLogin(targetOf(host3), passwordOf(host3), pinned(host3))).ok, false);

    await fs.rm(dropIn);
    await host3.reload();
    assert.deepEqual((await probeLogin(targetOf(host3), pinned(host3), keyB.publicLine)).methods, [
      'publickey',
      'password',
    ]);
  });

  it('refuses a malformed public key line before connecting', async (t) => {
    await rejectsWith(
      t,
      () => probeLogin(targetOf(host1), pinned(host1), 'ssh-ed25519 not-base64!'),
      'PublicKey.Malformed',
    );
    await rejectsWith(t, () => probeLogin(targetOf(host1), pinned(host1), keyA.privateKey), 'PublicKey.Malformed');
  });
});

describe('tryLogin', () => {
  it('ok with the right password or key, ok:false with wrong ones', async () => {
    const pin = pinned(host1);
    assert.deepEqual(await tryLogin(targetOf(host1), passwordOf(host1), pin), {
      ok: true,
      hostKeySha256: host1.hostKeySha256,
    });
    assert.deepEqual(await tryLogin(targetOf(host1), { kind: 'password', password: 'wrong-password-123' }, pin), {
      ok: false,
      hostKeySha256: host1.hostKeySha256,
    });
    assert.equal((await tryLogin(targetOf(host1), { kind: 'privateKey', privateKey: keyA.privateKey }, pin)).ok, true);
    assert.equal((await tryLogin(targetOf(host1), { kind: 'privateKey', privateKey: keyB.privateKey }, pin)).ok, false);
    assert.equal((await tryLogin({ ...targetOf(host1), username: 'nobody-here' }, passwordOf(host1), pin)).ok, false);
  });

  it('openSession with a rejected credential fails as Live.CredentialRejected', async (t) => {
    const wrong = 'Wr0ng-but-secret-passw0rd';
    await rejectsWith(
      t,
      () => openSession(targetOf(host1), { kind: 'password', password: wrong }, pinned(host1)),
      'Live.CredentialRejected',
      [wrong],
    );
    await rejectsWith(
      t,
      () => openSession(targetOf(host1), { kind: 'privateKey', privateKey: keyB.privateKey }, pinned(host1)),
      'Live.CredentialRejected',
      keyB.privateKey.split('\n').filter((l) => l.length > 20),
    );
  });
});

describe('host key pinning', () => {
  /** A password credential that counts how often anything reads the secret. */
  function countingCredential(password: string): { credential: LiveCredential; reads: () => number } {
    let reads = 0;
    const credential = {
      kind: 'password' as const,
      get password() {
        reads++;
        return password;
      },
    };
    return { credential, reads: () => reads };
  }

  async function logSince(h: TestHost, offset: number, until: RegExp): Promise<string> {
    let slice = '';
    await waitFor(() => until.test((slice = h.log().slice(offset))), `sshd log line ${until}`);
    return slice;
  }

  it('a different host key aborts before the credential is read or sent; the server log shows no auth attempt', async (t) => {
    const wrongPin = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    const offset = host2.log().length;
    const counting = countingCredential(host2.password);
    const err = await rejectsWith(
      t,
      () => openSession(targetOf(host2), counting.credential, { kind: 'pinned', sha256: wrongPin }),
      'Live.HostKeyChanged',
      [host2.password],
    );
    assert.match(err.message, new RegExp(`expected ${wrongPin.replace(/[+/]/g, '\\$&')}`));
    assert.ok(err.message.includes(host2.hostKeySha256), err.message);
    assert.equal(counting.reads(), 0, 'the credential must never be read');

    const log = await logSince(host2, offset, /\[preauth\]/);
    t.diagnostic(`sshd log for the refused host key:\n${log.trim()}`);
    assert.doesNotMatch(log, new RegExp(`${host2.user}|password|publickey|Accepted|Failed|userauth`, 'i'));

    await rejectsWith(
      t,
      () => probeLogin(targetOf(host2), { kind: 'pinned', sha256: wrongPin }, keyA.publicLine),
      'Live.HostKeyChanged',
    );
    await rejectsWith(
      t,
      () => tryLogin(targetOf(host2), passwordOf(host2), { kind: 'pinned', sha256: wrongPin }),
      'Live.HostKeyChanged',
      [host2.password],
    );
  });

  it('control: with the right pin the credential is read once and the attempt shows in the same log', async () => {
    const offset = host2.log().length;
    const counting = countingCredential('not-the-password-9x');
    assert.equal((await tryLogin(targetOf(host2), counting.credential, pinned(host2))).ok, false);
    assert.equal(counting.reads(), 1);
    const log = await logSince(host2, offset, new RegExp(`Failed password for ${host2.user}`));
    assert.match(log, new RegExp(`Failed password for ${host2.user}`));
  });

  it('accepts a pin with or without the SHA256: prefix and base64 padding', async () => {
    const bare = host2.hostKeySha256.replace(/^SHA256:/, '');
    assert.equal((await tryLogin(targetOf(host2), passwordOf(host2), { kind: 'pinned', sha256: bare })).ok, true);
    assert.equal(
      (await tryLogin(targetOf(host2), passwordOf(host2), { kind: 'pinned', sha256: `${host2.hostKeySha256}=` })).ok,
      true,
    );
    assert.equal(
      (await tryLogin(targetOf(host2), passwordOf(host2), { kind: 'trust-on-first-use' })).hostKeySha256,
      host2.hostKeySha256,
    );
  });
});

describe('unreachable hosts', () => {
  it('a refused port fails fast as Live.Unreachable, naming host:port and the reason', async (t) => {
    // The refusal itself is the reason given, not the login timeout (60 s here) running out.
    const err = await rejectsWith(
      t,
      () => openSession({ ...targetOf(host1), port: 1 }, passwordOf(host1), pinned(host1), { timeoutMs: 60_000 }),
      'Live.Unreachable',
      [host1.password],
    );
    assert.doesNotMatch(err.message, /no SSH login within/);
    assert.match(err.message, new RegExp(`${host1.address.replace(/\./g, '\\.')}:1\\b.*connection refused`));
    await rejectsWith(
      t,
      () => probeLogin({ ...targetOf(host1), port: 1 }, pinned(host1), keyA.publicLine),
      'Live.Unreachable',
    );
    await rejectsWith(
      t,
      () => tryLogin({ ...targetOf(host1), port: 1 }, passwordOf(host1), pinned(host1)),
      'Live.Unreachable',
      [host1.password],
    );
  });

  it('a server that accepts TCP but never speaks SSH is Live.Timeout within timeoutMs, and the socket is closed', async (t) => {
    let accepted = 0;
    let hungUp = 0;
    const silent = net.createServer((sock) => {
      accepted++;
      sock.on('error', () => undefined);
      sock.on('close', () => hungUp++);
      sock.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.31.250.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const err = await rejectsWith(
        t,
        () =>
          openSession({ host: '127.31.250.1', port, username: 'x' }, passwordOf(host1), pinned(host1), {
            timeoutMs: 300,
          }),
        'Live.Timeout',
        [host1.password],
      );
      assert.match(err.message, /no SSH login within 300 ms \(stalled while handshake\)/);
      await waitFor(() => accepted === 1 && hungUp === 1, 'the client to hang up', 2000);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a host that goes down mid-session: the session reports Live.Unreachable; after restart it answers again', async (t) => {
    const session = await openSession(targetOf(host3), passwordOf(host3), pinned(host3));
    try {
      assert.equal((await session.exec('echo up')).stdout, 'up\n');
      await host3.stop(); // sshd and every live session of the machine are gone
      await waitFor(
        async () => {
          try {
            await session.readFile(AK);
            return false;
          } catch (err) {
            return isCoreError(err) && err.code === 'Live.Unreachable';
          }
        },
        'the session to notice the lost connection',
        3000,
      );
      await rejectsWith(t, () => session.exec('true'), 'Live.Unreachable');
      await rejectsWith(t, () => probeLogin(targetOf(host3), pinned(host3), null), 'Live.Unreachable');
    } finally {
      session.close();
      await host3.restart();
    }
    assert.equal((await probeLogin(targetOf(host3), pinned(host3), keyB.publicLine)).keyAccepted, true);
  });

  it('a name that does not resolve is Live.Unreachable', async (t) => {
    await rejectsWith(
      t,
      () =>
        probeLogin({ host: 'no-such-host.invalid', port: 22, username: 'x' }, { kind: 'trust-on-first-use' }, null, {
          timeoutMs: 3000,
        }),
      'Live.Unreachable',
    );
  });
});

describe('network faults (through a fault proxy)', () => {
  // host1 behind a proxy that cuts (close), stalls (freeze) or damages (corrupt) the traffic at an exact byte.
  let proxy: FaultProxy;
  const viaProxy = (): LiveTarget => ({ host: proxy.host, port: proxy.port, username: host1.user });
  // Far above what a login or an operation takes here (loaded or not), so that only a frozen link runs into it.
  const FAST = { timeoutMs: 1000, opTimeoutMs: 1000 };
  const expected: Record<'close' | 'freeze' | 'corrupt', string> = {
    close: 'Live.Unreachable',
    freeze: 'Live.Timeout',
    corrupt: 'Live.Unreachable',
  };

  before(async () => {
    proxy = await FaultProxy.start('127.66.1.1', { host: host1.address, port: host1.port });
  });
  after(async () => {
    await proxy.close();
  });

  /** Disarmed, with no connection left: a run before may still be closing its own (politely, or frozen). */
  async function quiet(): Promise<void> {
    proxy.arm(null);
    await waitFor(() => proxy.openConnections() === 0, 'the connections of the run before to close');
  }

  /**
   * Runs `work` once cleanly to measure its traffic, then once per fault at `points` offsets spread evenly over it
   * (server to client: every step of a login and of the operation answers): each run either completes or fails
   * with the network fault's own code, never anything else.
   */
  async function sweepLogin(t: TestContext, name: string, work: () => Promise<unknown>): Promise<void> {
    await quiet();
    await work();
    const clean = proxy.counts().s2c;
    for (const kind of ['close', 'freeze'] as const) {
      const points = kind === 'close' ? 8 : 4; // each frozen point waits for the timeout
      const outcomes: string[] = [];
      for (let i = 0; i < points; i++) {
        const afterBytes = Math.floor((clean * i) / points);
        await quiet();
        proxy.arm({ kind, afterBytes, direction: 's2c', scope: 'first' });
        try {
          await work();
          outcomes.push(`${afterBytes}: ok`);
        } catch (error) {
          provoked.push({ error, secrets: [host1.password] });
          assert.ok(isCoreError(error), `${name} ${kind}@${afterBytes}: ${String(error)}`);
          assert.equal(error.code, expected[kind], `${name} ${kind}@${afterBytes}: ${error.message}`);
          assert.ok(error.message.includes(`${proxy.host}:${proxy.port}`), error.message);
          outcomes.push(`${afterBytes}: ${error.code}`);
        }
      }
      t.diagnostic(`${name}, ${kind} (of ${clean} bytes from the server): ${outcomes.join(', ')}`);
      assert.match(outcomes[0]!, new RegExp(expected[kind]), 'a fault before the first byte always fails it');
    }
    proxy.arm(null);
  }

  it('cut or frozen during the login: openSession, probeLogin and tryLogin fail as Live.Unreachable / Live.Timeout', async (t) => {
    await sweepLogin(t, 'openSession', async () =>
      (await openSession(viaProxy(), passwordOf(host1), pinned(host1), FAST)).close(),
    );
    await sweepLogin(t, 'probeLogin', () => probeLogin(viaProxy(), pinned(host1), keyA.publicLine, FAST));
    await sweepLogin(t, 'tryLogin', () => tryLogin(viaProxy(), passwordOf(host1), pinned(host1), FAST));
  });

  /** A session opened cleanly, then the network fails before `step` sends its first byte. */
  async function faultedStep(
    t: TestContext,
    kind: 'close' | 'freeze' | 'corrupt',
    name: string,
    step: (session: Awaited<ReturnType<typeof openSession>>) => Promise<unknown>,
    prepare: (session: Awaited<ReturnType<typeof openSession>>) => Promise<void> = async () => undefined,
  ): Promise<void> {
    await quiet();
    const session = await openSession(viaProxy(), passwordOf(host1), pinned(host1), FAST);
    try {
      await prepare(session);
      proxy.arm({ kind, afterBytes: 0, direction: 'c2s', scope: 'first' });
      const err = await rejectsWith(t, () => step(session), expected[kind], [host1.password]);
      assert.ok(err.message.includes(`${proxy.host}:${proxy.port}`), err.message);
      assert.ok(err.message.includes(name), `the message names the step: ${err.message}`);
      // The session is gone: what follows fails the same retryable way, at once.
      await rejectsWith(t, () => session.readFile(AK), expected[kind]);
      await rejectsWith(t, () => session.exec('true'), expected[kind]);
    } finally {
      session.close();
      proxy.arm(null);
    }
  }

  // corrupt: the first byte of the step's request is damaged, and sshd drops the connection (a MAC that fails).
  for (const kind of ['close', 'freeze', 'corrupt'] as const) {
    it(`${kind}: a session's read, replace and exec fail as ${expected[kind]}, and so does everything after`, async (t) => {
      const before = await fs.readFile(path.join(host1.home, AK), 'utf8');
      await faultedStep(t, kind, 'SFTP read', (s) => s.readFile(AK));
      let prepared: Awaited<ReturnType<Awaited<ReturnType<typeof openSession>>['readForReplace']>> | null = null;
      await faultedStep(
        t,
        kind,
        'SFTP write',
        () => prepared!.replace('must not land\n', { mode: 0o600 }),
        async (s) => {
          prepared = await s.readForReplace(AK);
        },
      );
      await faultedStep(t, kind, 'running a command', (s) => s.exec('echo hi'));
      assert.equal(await fs.readFile(path.join(host1.home, AK), 'utf8'), before, 'the cut write did not land');
      // The temp file the read opened could not be removed over a dead connection: the next change's problem.
      const sshDir = path.join(host1.home, '.ssh');
      for (const f of await fs.readdir(sshDir)) if (f.includes('keyfleet')) await fs.rm(path.join(sshDir, f));
    });
  }

  it('a host key damaged in transit is Live.Unreachable, not Live.HostKeyChanged', async (t) => {
    proxy.arm(null);
    await probeLogin(viaProxy(), pinned(host1), null, FAST);
    const blob = Buffer.from(
      (await fs.readFile(path.join(path.dirname(host1.sshdConfigPath), 'ssh_host_ed25519_key.pub'), 'utf8')).split(
        ' ',
      )[1]!,
      'base64',
    );
    const at = proxy.streamOf(1, 's2c').indexOf(blob);
    assert.ok(at > 0, 'the host key travels in the clear during key exchange');
    for (const scope of ['first', 'all'] as const) {
      // A byte of the key itself: the fingerprint differs from the pin, as it would for a changed key.
      await quiet();
      proxy.arm({ kind: 'corrupt', afterBytes: at + blob.length - 5, direction: 's2c', scope });
      const err = await rejectsWith(t, () => probeLogin(viaProxy(), pinned(host1), null, FAST), 'Live.Unreachable');
      assert.match(err.message, /host key arrived damaged/);
    }
    proxy.arm(null);
    assert.equal((await probeLogin(viaProxy(), pinned(host1), keyA.publicLine, FAST)).keyAccepted, true);
  });
});

describe('secrets', () => {
  it('a malformed private key is refused without quoting it', async (t) => {
    const bogus =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtbGVhaw==\n-----END OPENSSH PRIVATE KEY-----\n';
    await rejectsWith(
      t,
      () => openSession(targetOf(host1), { kind: 'privateKey', privateKey: bogus }, pinned(host1)),
      'PrivateKey.Malformed',
      ['c2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtbGVhaw'],
    );
  });

  it('no credential appears in any error message, stack or details provoked in this file', () => {
    assert.ok(provoked.length >= 10, `only ${provoked.length} errors were provoked`);
    for (const { error, secrets } of provoked) {
      const e = error as CoreError;
      const text = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e.details ?? {})}`;
      for (const secret of [...secrets, host1.password, host2.password, host3.password]) {
        assert.ok(!text.includes(secret), `a secret leaked into: ${e.message}`);
      }
    }
  });
});

describe('fleet-style load', () => {
  it('50 probes, one after another and then all at once, leave no socket open on either side', async () => {
    // A failed name lookup from an earlier test may still be settling (Node resolves both families).
    await waitFor(() => tcpSocketHandles() === 0, 'no TCP socket handles before the run', 3000);
    const jobs = Array.from({ length: 50 }, (_, i) => hosts[i % hosts.length]!);
    const probe = (h: TestHost) => probeLogin(targetOf(h), pinned(h), h === host3 ? keyB.publicLine : keyA.publicLine);

    for (const h of jobs) {
      assert.equal((await probe(h)).keyAccepted, h !== host2);
      assert.equal(tcpSocketHandles(), 0, 'a sequential probe resolves only after its socket closed');
    }

    const parallel = Promise.all(jobs.map(probe));
    // Each probe has its socket from the start: 50 connections really are in flight together.
    assert.equal(tcpSocketHandles(), 50, 'the parallel probes each opened a socket at once');
    const results = await parallel;
    assert.deepEqual(
      results.map((r) => r.keyAccepted),
      jobs.map((h) => h !== host2),
    );

    // Every probe resolves only after its socket closed: nothing left on our side, nor established at the servers.
    assert.equal(tcpSocketHandles(), 0);
    await waitFor(
      () => hosts.every((h) => establishedConnections(h) === 0),
      'sshd to see every connection closed',
      3000,
    );
  });

  it('open sessions are closed by close(): sshd sees the connections go', async () => {
    const socketsBefore = tcpSocketHandles();
    const sessions = await Promise.all(hosts.map((h) => openSession(targetOf(h), passwordOf(h), pinned(h))));
    await Promise.all(sessions.map((s) => s.exec('true')));
    assert.ok(hosts.every((h) => establishedConnections(h) === 1));
    for (const s of sessions) s.close();
    await waitFor(() => hosts.every((h) => establishedConnections(h) === 0), 'sshd to see the sessions closed', 3000);
    await waitFor(() => tcpSocketHandles() === socketsBefore, 'client sockets to close', 3000);
  });
});
