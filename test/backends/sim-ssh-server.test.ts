/**
 * The simulated fleet's sshd, exercised with the real OpenSSH client (ssh, sftp -b, ssh-keyscan) and with ssh2's
 * Client (what keyfleet itself uses). Each test gets its own instance: a fresh rootfs served on 127.20.0.<n>.
 * Also here: the file semantics the sshd relies on (sshd_config reading, hostPath, shadow) and a scale check that
 * starts 1000 listeners and reports their memory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';
import { hostPath, initRootfs, readHostKey } from '../../src/backends/sim/rootfs.js';
import { hashPassword, readShadowHash, setShadowHash, verifyPassword } from '../../src/backends/sim/shadow.js';
import { effectiveSshdConfig, validateSshdConfig } from '../../src/backends/sim/sshd-config.js';
import { createSimSshFleet, type SimSshFleet } from '../../src/backends/sim/ssh-server.js';
import { sftpBatch, sshKeygen, sshRun } from '../support/openssh.js';
import { ListOnlyAgent } from '../contract/sshd-probes.js';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';

let workDir: string;
let fleet: SimSshFleet;
let port: number;
let goodKey: { privateKeyPath: string; publicKey: string };
let strangerKey: { privateKeyPath: string; publicKey: string };
const warnings: string[] = [];
let nextHost = 1;

interface TestInstance {
  id: string;
  rootDir: string;
  address: string;
  file(guestPath: string): string;
  write(guestPath: string, content: string, mode?: number): Promise<void>;
}

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

/** A provisioned, Running instance whose root may log in with goodKey or PASSWORD. */
async function startInstance(): Promise<TestInstance> {
  const n = nextHost++;
  const id = `i-test${n}`;
  const rootDir = path.join(workDir, id);
  await initRootfs(rootDir, { hostname: `host-${n}`, rootPasswordHash: await hashPassword(PASSWORD) });
  const inst: TestInstance = {
    id,
    rootDir,
    address: `127.20.0.${n}`,
    file: (guestPath) => hostPath(rootDir, guestPath),
    async write(guestPath, content, mode = 0o644) {
      await fs.mkdir(path.dirname(hostPath(rootDir, guestPath)), { recursive: true });
      await fs.writeFile(hostPath(rootDir, guestPath), content, { mode });
      await fs.chmod(hostPath(rootDir, guestPath), mode);
    },
  };
  await inst.write('/root/.ssh/authorized_keys', `# keys\n${goodKey.publicKey}\n`, 0o600);
  await fleet.serve({ instanceId: id, rootDir, address: inst.address, port });
  return inst;
}

const withKey = (inst: TestInstance, command: string, key = goodKey) =>
  sshRun({ host: inst.address, port, user: 'root', identityFile: key.privateKeyPath, command });
const withPassword = (inst: TestInstance, command: string, password = PASSWORD) =>
  sshRun({ host: inst.address, port, user: 'root', password, command });

before(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-sim-sshd-'));
  fleet = createSimSshFleet({ logger: { warn: (msg) => warnings.push(msg) } });
  port = await freePort('127.20.0.1');
  goodKey = await sshKeygen('ed25519', 'good');
  strangerKey = await sshKeygen('ed25519', 'stranger');
});

after(async () => {
  await fleet.stopAll();
  await fs.rm(workDir, { recursive: true, force: true });
});

describe('logging in with the OpenSSH client', () => {
  test('a key listed in authorized_keys logs in and runs a command', async () => {
    const inst = await startInstance();
    const r = await withKey(inst, 'echo ok');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  test('RSA (rsa-sha2) and ECDSA keys log in too', async () => {
    const inst = await startInstance();
    const rsa = await sshKeygen('rsa', 'rsa');
    const ecdsa = await sshKeygen('ecdsa', 'ecdsa');
    await inst.write('/root/.ssh/authorized_keys', `${rsa.publicKey}\n${ecdsa.publicKey}\n`, 0o600);
    for (const key of [rsa, ecdsa]) {
      const r = await withKey(inst, 'echo ok', key);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('an unknown key is refused', async () => {
    const inst = await startInstance();
    const r = await withKey(inst, 'echo ok', strangerKey);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey,password\)/);
  });

  test('a key with options (command=, no-pty) still logs in; a forced command replaces the one asked for', async () => {
    const inst = await startInstance();
    await inst.write('/root/.ssh/authorized_keys', `no-pty,command="echo forced" ${goodKey.publicKey}\n`, 0o600);
    const r = await withKey(inst, 'echo asked');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'forced\n');
  });

  test('a key line with malformed options does not authorise', async () => {
    const inst = await startInstance();
    await inst.write('/root/.ssh/authorized_keys', `bogus-option,no-pty ${goodKey.publicKey}\n`, 0o600);
    assert.equal((await withKey(inst, 'true')).code, 255);
  });

  test('removing the key from authorized_keys makes the next login fail (no restart)', async () => {
    const inst = await startInstance();
    assert.equal((await withKey(inst, 'true')).code, 0);
    await inst.write('/root/.ssh/authorized_keys', '# emptied\n', 0o600);
    const r = await withKey(inst, 'true');
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied/);
  });

  test('StrictModes: a world-writable authorized_keys is ignored, as sshd does', async () => {
    const inst = await startInstance();
    await fs.chmod(inst.file('/root/.ssh/authorized_keys'), 0o666);
    assert.equal((await withKey(inst, 'true')).code, 255);
    assert.ok(warnings.some((w) => w.includes('bad ownership or modes for file /root/.ssh/authorized_keys')));
    await fs.chmod(inst.file('/root/.ssh/authorized_keys'), 0o600);
    assert.equal((await withKey(inst, 'true')).code, 0);
  });

  test('password login works while allowed and is refused after a PasswordAuthentication no drop-in (no restart)', async () => {
    const inst = await startInstance();
    const ok = await withPassword(inst, 'echo pw');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'pw\n');
    assert.equal((await withPassword(inst, 'true', 'wrong password')).code, 255);

    await inst.write('/etc/ssh/sshd_config.d/10-keyfleet.conf', '# keyfleet\nPasswordAuthentication no\n');
    const refused = await withPassword(inst, 'echo pw');
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /Permission denied \(publickey\)/);
    assert.equal((await withKey(inst, 'true')).code, 0, 'keys still work');

    await fs.rm(inst.file('/etc/ssh/sshd_config.d/10-keyfleet.conf'));
    assert.equal((await withPassword(inst, 'true')).code, 0);
  });

  test('the first value read wins: drop-ins in lexical order, before the main file', async () => {
    const inst = await startInstance();
    await inst.write('/etc/ssh/sshd_config.d/20-yes.conf', 'PasswordAuthentication yes\n');
    await inst.write('/etc/ssh/sshd_config.d/30-no.conf', 'PasswordAuthentication no\n');
    assert.equal((await withPassword(inst, 'true')).code, 0, '20-yes is read before 30-no');

    await inst.write('/etc/ssh/sshd_config.d/05-no.conf', 'passwordauthentication=no\n');
    assert.equal(
      (await withPassword(inst, 'true')).code,
      255,
      '05-no is read first (keyword case-insensitive, = form)',
    );
  });

  test('PermitRootLogin prohibit-password: keys work, passwords are refused', async () => {
    const inst = await startInstance();
    await inst.write('/etc/ssh/sshd_config.d/01-root.conf', 'PermitRootLogin prohibit-password\n');
    assert.equal((await withKey(inst, 'true')).code, 0);
    const r = await withPassword(inst, 'true');
    assert.equal(r.code, 255);
    // sshd still lists password: its method list never depends on the account (test/contract/sshd-semantics.test.ts).
    assert.match(r.stderr, /Permission denied \(publickey,password\)/);
  });

  test('a stopped instance refuses connections; serving again brings it back', async () => {
    const inst = await startInstance();
    await fleet.stop(inst.id);
    const r = await withKey(inst, 'true');
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Connection refused/);
    await fleet.serve({ instanceId: inst.id, rootDir: inst.rootDir, address: inst.address, port });
    assert.equal((await withKey(inst, 'true')).code, 0);
  });

  test('the host key seen by ssh-keyscan is the rootfs host key', async () => {
    const inst = await startInstance();
    const scan = await run('/usr/bin/ssh-keyscan', ['-t', 'ed25519', '-p', String(port), inst.address]);
    const scanned = path.join(workDir, `${inst.id}.scan`);
    await fs.writeFile(scanned, scan.stdout);
    const seen = (await run('/usr/bin/ssh-keygen', ['-lf', scanned])).stdout.split(' ')[1];
    const onDisk = (
      await run('/usr/bin/ssh-keygen', ['-lf', inst.file('/etc/ssh/ssh_host_ed25519_key.pub')])
    ).stdout.split(' ')[1];
    assert.ok(seen?.startsWith('SHA256:'));
    assert.equal(seen, onDisk);
    assert.equal((await readHostKey(inst.rootDir)).split(' ')[1], scan.stdout.trim().split(' ')[2]);
  });
});

describe('commands over ssh', () => {
  test('the small vocabulary answers like a Debian shell', async () => {
    const inst = await startInstance();
    assert.deepEqual(await withKey(inst, 'id -u; id -un; hostname; uname -s'), {
      code: 0,
      stdout: '0\nroot\nhost-' + inst.address.split('.')[3] + '\nLinux\n',
      stderr: '',
    });
    assert.equal((await withKey(inst, 'cat /etc/hostname')).stdout, `host-${inst.address.split('.')[3]}\n`);
    assert.deepEqual(await withKey(inst, 'cat /nope'), {
      code: 1,
      stdout: '',
      stderr: 'cat: /nope: No such file or directory\n',
    });
    const unknown = await withKey(inst, 'frobnicate --now');
    assert.equal(unknown.code, 127);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^sh: 1: frobnicate: not found\n\(the simulated instance understands .*\)\n$/);
    assert.deepEqual(await withKey(inst, 'true && echo "a  b" || echo no'), { code: 0, stdout: 'a  b\n', stderr: '' });
    assert.deepEqual(await withKey(inst, "false; echo $? $HOME '$HOME' $UNSET."), {
      code: 0,
      stdout: '1 /root $HOME .\n',
      stderr: '',
    });
    assert.equal((await withKey(inst, 'cat /etc/passwd | head')).code, 2, 'pipes are refused, not misread');
  });

  test('sshd -t and systemctl reload ssh fail on a broken drop-in with OpenSSH messages', async () => {
    const inst = await startInstance();
    assert.deepEqual(await withKey(inst, 'sshd -t'), { code: 0, stdout: '', stderr: '' });
    assert.equal((await withKey(inst, 'systemctl reload ssh && service ssh reload && systemctl reload sshd')).code, 0);

    await inst.write('/etc/ssh/sshd_config.d/50-broken.conf', '# broken\n\nFoo bar\n');
    const t = await withKey(inst, 'sshd -t');
    assert.equal(t.code, 255);
    assert.equal(
      t.stderr,
      '/etc/ssh/sshd_config.d/50-broken.conf: line 3: Bad configuration option: Foo\n' +
        '/etc/ssh/sshd_config.d/50-broken.conf: terminating, 1 bad configuration options\n',
    );
    const reload = await withKey(inst, 'systemctl reload ssh');
    assert.equal(reload.code, 1);
    assert.match(reload.stderr, /Job for ssh.service failed/);

    await inst.write('/etc/ssh/sshd_config.d/50-broken.conf', 'PasswordAuthentication maybe\n');
    assert.deepEqual(await withKey(inst, '/usr/sbin/sshd -t'), {
      code: 255,
      stdout: '',
      stderr: '/etc/ssh/sshd_config.d/50-broken.conf line 1: unsupported option "maybe".\n',
    });

    await fs.rm(inst.file('/etc/ssh/sshd_config.d/50-broken.conf'));
    assert.equal((await withKey(inst, 'sshd -t')).code, 0);
  });
});

describe('sftp', () => {
  test('put, rename over an existing file, get, ls through the OpenSSH sftp client', async () => {
    const inst = await startInstance();
    const local = await fs.mkdtemp(path.join(workDir, 'local-'));
    await fs.writeFile(path.join(local, 'up.txt'), 'uploaded\n');
    await inst.write('/root/target.txt', 'old\n');
    const r = await sftpBatch({
      host: inst.address,
      port,
      identityFile: goodKey.privateKeyPath,
      cwd: local,
      commands: [
        'put up.txt /root/tmp.txt',
        'chmod 600 /root/tmp.txt',
        'rename tmp.txt target.txt',
        'get /root/target.txt back.txt',
        'mkdir d',
        'ls -l',
        'rmdir d',
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fs.readFile(path.join(local, 'back.txt'), 'utf8'), 'uploaded\n');
    assert.equal(await fs.readFile(inst.file('/root/target.txt'), 'utf8'), 'uploaded\n');
    assert.equal((await fs.stat(inst.file('/root/target.txt'))).mode & 0o777, 0o600);
    await assert.rejects(fs.stat(inst.file('/root/tmp.txt')));
    assert.match(r.stdout, /-rw------- +1 root +root +9 .* target\.txt/);
  });

  test('paths cannot leave the instance through .. or a symlink', async () => {
    const inst = await startInstance();
    const outside = path.join(workDir, `outside-${inst.id}`);
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'secret'), 'host secret\n');
    await fs.symlink(outside, inst.file('/root/escape'));
    const local = await fs.mkdtemp(path.join(workDir, 'local-'));
    await fs.writeFile(path.join(local, 'payload'), 'planted\n');
    const attempt = (command: string) =>
      sftpBatch({ host: inst.address, port, identityFile: goodKey.privateKeyPath, cwd: local, commands: [command] });

    for (const command of [
      'get /../../../../../../etc/hostname leak1',
      'get ../../../../../../../etc/hostname leak2',
      `get /../${path.basename(outside)}/secret leak3`,
      'get /root/escape/secret leak4',
      'put payload /root/escape/planted',
      'put payload /../planted',
      'ls /root/escape',
    ]) {
      const r = await attempt(command);
      assert.equal(r.code, 1, `${command} must fail`);
    }
    assert.deepEqual(await fs.readdir(local), ['payload']);
    assert.deepEqual(await fs.readdir(outside), ['secret']);
    assert.deepEqual(
      (await fs.readdir(workDir)).filter((n) => n === 'planted'),
      [],
    );
    const control = await attempt('put payload /root/inside');
    assert.equal(control.code, 0, 'the same upload inside the instance works');
  });
});

describe("the ssh2 client (keyfleet's own path)", () => {
  async function probeWithoutPrivateKey(inst: TestInstance, publicKeyLine: string): Promise<number> {
    const parsed = ssh2.utils.parseKey(publicKeyLine);
    assert.ok(!(parsed instanceof Error));
    const agent = new ListOnlyAgent(Array.isArray(parsed) ? parsed[0]! : parsed);
    await new Promise<void>((resolve) => {
      const client = new ssh2.Client();
      client.on('ready', () => {
        client.end();
        resolve();
      });
      client.on('error', () => {
        client.end();
        resolve();
      });
      client.connect({ host: inst.address, port, username: 'root', agent, authHandler: ['agent'], readyTimeout: 5000 });
    });
    return agent.signAttempts;
  }

  test('a publickey query without signature gets PK_OK for a listed key only', async () => {
    const inst = await startInstance();
    assert.equal(
      await probeWithoutPrivateKey(inst, goodKey.publicKey),
      1,
      'PK_OK made the client ask the agent to sign',
    );
    assert.equal(
      await probeWithoutPrivateKey(inst, strangerKey.publicKey),
      0,
      'an unlisted key is refused before any signing',
    );
  });

  async function connectWithKey(inst: TestInstance): Promise<ssh2.Client> {
    const client = new ssh2.Client();
    const privateKey = await fs.readFile(goodKey.privateKeyPath);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({ host: inst.address, port, username: 'root', privateKey, readyTimeout: 5000 });
    });
    return client;
  }

  test('sftp: write a temp file, posix-rename it over the target, read it back, stat, readdir, unlink', async () => {
    const inst = await startInstance();
    await inst.write('/root/.ssh/authorized_keys.bak', 'old\n', 0o600);
    const client = await connectWithKey(inst);
    try {
      const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
        client.sftp((err, s) => (err ? reject(err) : resolve(s))),
      );
      const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
        new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

      const content = `${goodKey.publicKey}\n${strangerKey.publicKey}\n`;
      await call<void>((cb) => sftp.writeFile('.ssh/authorized_keys.tmp', content, { mode: 0o600 }, cb));
      await call<void>((cb) =>
        sftp.ext_openssh_rename('/root/.ssh/authorized_keys.tmp', '/root/.ssh/authorized_keys.bak', cb),
      );
      await call<void>((cb) => sftp.rename('/root/.ssh/authorized_keys.bak', '/root/.ssh/authorized_keys', cb));
      const back = await call<Buffer>((cb) => sftp.readFile('/root/.ssh/authorized_keys', cb));
      assert.equal(back.toString('utf8'), content);
      const stats = await call<ssh2.Stats>((cb) => sftp.stat('/root/.ssh/authorized_keys', cb));
      assert.equal(stats.mode & 0o777, 0o600);
      assert.equal(stats.uid, 0);
      const names = await call<ssh2.FileEntry[]>((cb) => sftp.readdir('/root/.ssh', cb));
      assert.deepEqual(
        names
          .map((n) => n.filename)
          .filter((n) => n !== '.' && n !== '..')
          .sort(),
        ['authorized_keys'],
      );
      const real = await call<string>((cb) => sftp.realpath('.', cb));
      assert.equal(real, '/root');
      await assert.rejects(call((cb) => sftp.readFile('/../../etc/passwd', cb)));
      await call<void>((cb) => sftp.unlink('/root/.ssh/authorized_keys', cb));
      await assert.rejects(fs.stat(inst.file('/root/.ssh/authorized_keys')));
    } finally {
      client.end();
    }
  });

  test('a shell without a terminal runs lines until exit; stop() drops live connections', async () => {
    const inst = await startInstance();
    const client = await connectWithKey(inst);
    const shell = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
      client.shell(false, (err, ch) => (err ? reject(err) : resolve(ch))),
    );
    let output = '';
    shell.on('data', (b: Buffer) => (output += b.toString('utf8')));
    const exitCode = new Promise<number>((resolve) => shell.on('exit', (code: number) => resolve(code)));
    shell.write('echo hello\nid -un\nexit 3\n');
    assert.equal(await exitCode, 3);
    assert.match(output, /^Linux host-\d+ .*\nhello\nroot\n$/);

    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    await fleet.stop(inst.id);
    await closed;
  });
});

describe('file semantics the sshd relies on', () => {
  test('effectiveSshdConfig: first value wins across Include, stops at Match, reads defaults otherwise', async () => {
    const inst = await startInstance();
    await inst.write(
      '/etc/ssh/sshd_config',
      [
        'Include /etc/ssh/sshd_config.d/*.conf',
        'Include extra/*.conf',
        'PERMITROOTLOGIN yes',
        'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u',
        'Match User alice',
        'PubkeyAuthentication no',
        '',
      ].join('\n'),
    );
    await inst.write('/etc/ssh/extra/a.conf', 'PermitRootLogin no # comment\nMaxAuthTries 3\n');
    await inst.write('/etc/ssh/sshd_config.d/.hidden.conf', 'PermitRootLogin forced-commands-only\n');
    const c = await effectiveSshdConfig(inst.rootDir);
    assert.equal(c.permitRootLogin, 'no');
    assert.equal(c.maxAuthTries, 3);
    assert.equal(c.pubkeyAuthentication, true, 'the Match block is not read');
    assert.equal(c.passwordAuthentication, true, 'the compiled-in default');
    assert.deepEqual(c.authorizedKeysFile, ['.ssh/authorized_keys', '/etc/ssh/keys/%u']);
    assert.deepEqual(await validateSshdConfig(inst.rootDir), { ok: true });
  });

  test('validateSshdConfig lists every bad keyword of a file, and reports a missing argument', async () => {
    const inst = await startInstance();
    await inst.write('/etc/ssh/sshd_config.d/x.conf', 'Foo 1\nUsePAM yes\nBar 2\nPort\n');
    const v = await validateSshdConfig(inst.rootDir);
    assert.deepEqual(v, {
      ok: false,
      message: [
        '/etc/ssh/sshd_config.d/x.conf: line 1: Bad configuration option: Foo',
        '/etc/ssh/sshd_config.d/x.conf: line 3: Bad configuration option: Bar',
        '/etc/ssh/sshd_config.d/x.conf line 4: no argument after keyword "Port"',
        '/etc/ssh/sshd_config.d/x.conf: terminating, 3 bad configuration options',
      ].join('\n'),
    });
  });

  test('hostPath maps guest paths and refuses escapes', async () => {
    const inst = await startInstance();
    const real = await fs.realpath(inst.rootDir);
    assert.equal(
      hostPath(inst.rootDir, '/root/.ssh/../.ssh/authorized_keys'),
      path.join(real, 'root/.ssh/authorized_keys'),
    );
    assert.throws(() => hostPath(inst.rootDir, '/../etc/passwd'), /leaves the instance/);
    assert.throws(() => hostPath(inst.rootDir, 'relative/path'), /leaves the instance/);
    await fs.symlink('/etc', inst.file('/root/etc-link'));
    assert.throws(() => hostPath(inst.rootDir, '/root/etc-link/passwd'), /leaves the instance/);
    await fs.symlink('../etc', inst.file('/root/inner-link'));
    assert.equal(hostPath(inst.rootDir, '/root/inner-link/passwd'), path.join(real, 'etc/passwd'));
    await fs.symlink('../../../../../../../../../tmp', inst.file('/root/deep-link'));
    assert.throws(() => hostPath(inst.rootDir, '/root/deep-link/x'), /leaves the instance/);
  });

  test('shadow: scrypt hashes verify, locked and empty fields never do; initRootfs keeps host key and password', async () => {
    const hash = await hashPassword('pw');
    assert.match(hash, /^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await verifyPassword('pw', hash), true);
    assert.equal(await verifyPassword('pW', hash), false);
    for (const locked of ['*', '!', '', `!${hash}`]) assert.equal(await verifyPassword('pw', locked), false);

    const inst = await startInstance();
    const hostKey = await readHostKey(inst.rootDir);
    await initRootfs(inst.rootDir, { hostname: 'renamed', rootPasswordHash: null });
    assert.equal(await readHostKey(inst.rootDir), hostKey);
    assert.equal(await verifyPassword(PASSWORD, await readShadowHash(inst.rootDir, 'root')), true);
    assert.equal(await fs.readFile(inst.file('/etc/hostname'), 'utf8'), 'renamed\n');
    await setShadowHash(inst.rootDir, 'root', null);
    assert.equal(await readShadowHash(inst.rootDir, 'root'), '*');
    assert.equal((await withPassword(inst, 'true')).code, 255);
    assert.equal((await fs.stat(inst.file('/root/.ssh'))).mode & 0o777, 0o700);
    assert.equal(
      (await fs.readFile(inst.file('/etc/ssh/sshd_config'), 'utf8')).split('\n')[0],
      'Include /etc/ssh/sshd_config.d/*.conf',
    );
  });
});

describe('scale', () => {
  test('1000 listeners: memory per listener and start time, measured in a fresh process', async () => {
    const measurePort = await freePort('127.20.5.1');
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', MEASURE_LISTENERS, String(measurePort)],
      {
        cwd: path.resolve(import.meta.dirname, '../..'),
      },
    );
    const m = JSON.parse(stdout) as {
      listeners: number;
      startMs: number;
      rssKbPerListener: number;
      heapKbPerListener: number;
    };
    console.log(
      `# ${m.listeners} listeners: started in ${m.startMs.toFixed(0)} ms, ` +
        `RSS +${m.rssKbPerListener.toFixed(1)} KB and JS heap +${m.heapKbPerListener.toFixed(1)} KB per listener`,
    );
    assert.equal(m.listeners, 1000);
    assert.ok(m.rssKbPerListener < 200, `${m.rssKbPerListener.toFixed(1)} KB per listener`);
  });

  test('with 1000 instances served, a login on the last one works (host key and config read lazily)', async () => {
    const scaleFleet = createSimSshFleet();
    const scalePort = await freePort('127.20.1.1');
    const rootDir = path.join(workDir, 'shared-root');
    await initRootfs(rootDir, { hostname: 'scale', rootPasswordHash: null });
    await fs.writeFile(path.join(rootDir, 'root/.ssh/authorized_keys'), `${goodKey.publicKey}\n`, { mode: 0o600 });
    const endpoints = Array.from({ length: 1000 }, (_, i) => ({
      instanceId: `i-scale${i}`,
      rootDir,
      address: `127.20.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      port: scalePort,
    }));
    try {
      await Promise.all(endpoints.map((ep) => scaleFleet.serve(ep)));
      assert.equal(scaleFleet.serving(), 1000);
      const last = endpoints[999]!;
      const r = await sshRun({
        host: last.address,
        port: scalePort,
        identityFile: goodKey.privateKeyPath,
        command: 'echo lazy',
      });
      assert.equal(r.stdout, 'lazy\n', r.stderr);
    } finally {
      await scaleFleet.stopAll();
    }
    assert.equal(scaleFleet.serving(), 0);
  });
});

/**
 * Runs in a child (node --expose-gc), so RSS compares listeners and not the garbage of earlier tests. The rootDir
 * need not exist: nothing is read until a client connects.
 */
const MEASURE_LISTENERS = `
import { createSimSshFleet } from './src/backends/sim/ssh-server.js';
const port = Number(process.argv.at(-1));
const settle = async () => { gc(); await new Promise((r) => setTimeout(r, 100)); gc(); };
const fleet = createSimSshFleet();
const endpoint = (i) => ({ instanceId: 'i' + i, rootDir: '/nonexistent', address: '127.20.' + (5 + Math.floor(i / 250)) + '.' + (1 + (i % 250)), port });
await Promise.all(Array.from({ length: 20 }, (_, i) => fleet.serve(endpoint(i))));
await fleet.stopAll();
await settle();
const before = process.memoryUsage();
const started = performance.now();
await Promise.all(Array.from({ length: 1000 }, (_, i) => fleet.serve(endpoint(i))));
const startMs = performance.now() - started;
await settle();
const now = process.memoryUsage();
const listeners = fleet.serving();
await fleet.stopAll();
console.log(JSON.stringify({ listeners, startMs, rssKbPerListener: (now.rss - before.rss) / 1024 / 1000, heapKbPerListener: (now.heapUsed - before.heapUsed) / 1024 / 1000 }));
`;
