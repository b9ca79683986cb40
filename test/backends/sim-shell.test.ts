/**
 * The simulated instances' shell as a person meets it in the first minute, through the real OpenSSH client: `ls`,
 * `cd`, `cat`, `echo` with `>` and `>>`, `~`, `pwd`, `whoami`, `id`, `uname`; what it does not support is refused
 * with a line saying what it does; what a redirection writes is bounded by the instance's disk quota.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostPath, initRootfs } from '../../src/backends/sim/rootfs.js';
import { hashPassword } from '../../src/backends/sim/shadow.js';
import { createSimSshFleet, type SimSshFleet } from '../../src/backends/sim/ssh-server.js';
import { sshKeygen, sshRun } from '../support/openssh.js';

const QUOTA_BYTES = 1024 * 1024;
let workDir: string;
let fleet: SimSshFleet;
let port: number;
let key: { privateKeyPath: string; publicKey: string };
let nextHost = 1;

interface Instance {
  address: string;
  rootDir: string;
  file(guestPath: string): string;
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

async function startInstance(): Promise<Instance> {
  const n = nextHost++;
  const rootDir = path.join(workDir, `i-shell${n}`);
  await initRootfs(rootDir, { hostname: `shell-${n}`, rootPasswordHash: await hashPassword('Shell-Pass-01') });
  const authorized = hostPath(rootDir, '/root/.ssh/authorized_keys');
  await fs.mkdir(path.dirname(authorized), { recursive: true, mode: 0o700 });
  await fs.writeFile(authorized, `${key.publicKey}\n`, { mode: 0o600 });
  const address = `127.20.41.${n}`;
  await fleet.serve({ instanceId: `i-shell${n}`, rootDir, address, port });
  return { address, rootDir, file: (p) => hostPath(rootDir, p) };
}

const ssh = (inst: Instance, command: string) =>
  sshRun({ host: inst.address, port, user: 'root', identityFile: key.privateKeyPath, command });

before(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-sim-shell-'));
  fleet = createSimSshFleet({ limits: { diskQuota: { bytes: QUOTA_BYTES, entries: 20_000, remeasureMs: 0 } } });
  port = await freePort('127.20.41.1');
  key = await sshKeygen('ed25519', 'shell');
});

after(async () => {
  await fleet.stopAll();
  await fs.rm(workDir, { recursive: true, force: true });
});

describe('the first minute on a simulated instance', () => {
  test('who and where: whoami, id, pwd, uname, ~', async () => {
    const inst = await startInstance();
    const r = await ssh(inst, 'whoami; id; pwd; uname; uname -a; echo ~ ~/x');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), [
      'root',
      'uid=0(root) gid=0(root) groups=0(root)',
      '/root',
      'Linux',
      'Linux shell-1 6.1.0-keyfleet-sim #1 SMP Debian x86_64 GNU/Linux',
      '/root /root/x',
      '',
    ]);
    assert.equal((await ssh(inst, 'echo \'~\' "~" a~b')).stdout, '~ ~ a~b\n', 'only an unquoted leading ~ expands');
  });

  test('echo > and >> write a file that cat and ls then show, and the file is on the instance', async () => {
    const inst = await startInstance();
    const r = await ssh(inst, 'echo hello > ~/notes.txt && echo world >> notes.txt; cat ~/notes.txt; ls; ls -a ~');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\nworld\nnotes.txt\n.\n..\n.ssh\nnotes.txt\n');
    assert.equal(await fs.readFile(inst.file('/root/notes.txt'), 'utf8'), 'hello\nworld\n');

    const again = await ssh(inst, 'echo replaced>notes.txt; cat notes.txt; > empty; ls -l empty notes.txt');
    assert.equal(again.code, 0, again.stderr);
    const lines = again.stdout.split('\n');
    assert.equal(lines[0], 'replaced');
    assert.match(lines[1]!, /^-rw-r--r-- 1 root root +0 \w{3} [ \d]\d [ \d]\d:\d\d empty$/);
    assert.match(lines[2]!, /^-rw-r--r-- 1 root root +9 .* notes\.txt$/);
  });

  test('cd moves the working directory for the rest of the line; paths resolve against it', async () => {
    const inst = await startInstance();
    const r = await ssh(inst, 'cd /etc/ssh; pwd; ls -d . 2>/dev/null; echo x');
    assert.equal(r.code, 2, 'a descriptor redirection is refused whole');
    assert.match(r.stderr, /'2>' \(redirecting a descriptor\) is not supported: the simulated instance understands/);
    const ok = await ssh(inst, 'cd /etc/ssh\npwd\nls sshd_config\ncd\npwd\ncd /nope');
    assert.equal(ok.stdout, '/etc/ssh\nsshd_config\n/root\n');
    assert.equal(ok.stderr, "sh: 1: cd: can't cd to /nope\n");
    assert.equal(ok.code, 2);
  });

  test('errors say what happened, as Debian words them', async () => {
    const inst = await startInstance();
    assert.deepEqual(await ssh(inst, 'ls /nope'), {
      code: 2,
      stdout: '',
      stderr: "ls: cannot access '/nope': No such file or directory\n",
    });
    assert.deepEqual(await ssh(inst, 'echo x > /no/such/dir/f'), {
      code: 2,
      stdout: '',
      stderr: 'sh: 1: cannot create /no/such/dir/f: Directory nonexistent\n',
    });
    assert.deepEqual(await ssh(inst, 'echo x > /etc'), {
      code: 2,
      stdout: '',
      stderr: 'sh: 1: cannot create /etc: Is a directory\n',
    });
    assert.equal((await ssh(inst, 'echo x > ../../../../etc/escape; cat /etc/escape')).stdout, 'x\n', '.. stops at /');
  });

  test('what is not supported says what is', async () => {
    const inst = await startInstance();
    const unknown = await ssh(inst, 'vim notes.txt');
    assert.equal(unknown.code, 127);
    assert.match(unknown.stderr, /^sh: 1: vim: not found\n\(the simulated instance understands .*\bls\b.*\)\n$/);
    for (const line of ['cat /etc/passwd | head', 'cat < /etc/hostname', 'sleep 1 &', 'echo $(id)', 'echo x >| f']) {
      const r = await ssh(inst, line);
      assert.equal(r.code, 2, line);
      assert.match(r.stderr, /is not supported: the simulated instance understands ; && \|\| > >>/, line);
    }
  });

  test('a redirection cannot grow the instance past its disk quota', async () => {
    const inst = await startInstance();
    const piece = 'x'.repeat(255) + '\n';
    await fs.writeFile(inst.file('/root/seed'), piece.repeat(1024)); // 256 KiB
    const r = await ssh(inst, Array(6).fill('cat seed >> big').join(' && '));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'cat: write error: No space left on device\n');
    const size = (await fs.stat(inst.file('/root/big'))).size;
    assert.ok(size < QUOTA_BYTES, `big is ${size} bytes`);
    assert.ok(size >= 2 * 256 * 1024, `what fitted was written (${size} bytes)`);
  });
});
