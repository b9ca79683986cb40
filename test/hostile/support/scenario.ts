/**
 * The hostile-tenant scenario (issue 18), shared by test/hostile/hostile-tenants.test.ts (which asserts behaviour)
 * and bench/hostile-tenant.ts (which times it). One keyfleet runs as a child process, so its memory can be read
 * from /proc; tenant A (the system account) has a simulated instance it logs in to with its root password and calls
 * DescribeKeyPairs on the ECS face, signed; tenant B (an account of its own) attacks from its own instances and
 * through the API. Every attack is bounded in count and size, and checks what the attacker gets (a refusal, an
 * error code, a cap), never how long anything took.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import { ecsCall } from '../../ecs/support/raw-ecs.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, Api, LINUX_IMAGE, startChild, testEnv } from '../../support/keyfleet.js';

export const REGION = 'cn-hangzhou';
const A_PASSWORD = 'TenantA-Root-01!';
const B_PASSWORD = 'TenantB-Root-01!';

export interface Target {
  host: string;
  port: number;
}

export interface Scenario {
  child: ChildProcess;
  url: string;
  a: Api;
  b: Api;
  bKeys: { ak: string; sk: string };
  aInstance: Target;
  /** B's instance for file, SFTP and command attacks; B logs in with bKey. */
  bFiles: Target;
  /** B's instance for the sshd_config and connection attacks (its config ends unusable). */
  bConfig: Target;
  bKey: { line: string; privateKey: string };
  output: () => string;
}

export async function startScenario(): Promise<Scenario> {
  const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'warn' } });
  const { child, url, output } = await startChild(env);
  const a = new Api(url);
  await a.signIn();
  const made = await a.call('POST', '/api/v1/accounts', { name: 'tenant-b', adminPassword: 'TenantB-Pass-0001' });
  const bKeys = { ak: made.accessKeyId as string, sk: made.accessKeySecret as string };
  const b = new Api(url);
  await b.signIn({ accessKeyId: bKeys.ak, accessKeySecret: bKeys.sk });
  await a.createKeyPair('a-key', 'ed25519');
  const [aId] = await a.run({ imageId: LINUX_IMAGE, amount: 1, password: A_PASSWORD, name: 'a-vm' });
  const bIds = await b.run({ imageId: LINUX_IMAGE, amount: 2, password: B_PASSWORD, name: 'b-vm' });
  await a.waitStatus([aId!], 'Running');
  await b.waitStatus(bIds, 'Running');
  const target = async (api: Api, id: string): Promise<Target> => {
    const inst = await api.instance(id);
    return { host: inst.address, port: inst.sshPort };
  };
  const pair = ssh2.utils.generateKeyPairSync('ed25519');
  const bKey = { line: pair.public.trim(), privateKey: pair.private };
  const scenario: Scenario = {
    child,
    url,
    a,
    b,
    bKeys,
    aInstance: await target(a, aId!),
    bFiles: await target(b, bIds[0]!),
    bConfig: await target(b, bIds[1]!),
    bKey,
    output,
  };
  // B puts its own key first in each of its instances' authorized_keys (the attacks below grow the file after it).
  for (const t of [scenario.bFiles, scenario.bConfig]) {
    const client = await connect(t, { password: B_PASSWORD });
    try {
      await sftpWrite(await sftpOf(client), '/root/.ssh/authorized_keys', Buffer.from(`${bKey.line}\n`));
    } finally {
      client.end();
    }
  }
  return scenario;
}

export async function stopScenario(s: Scenario | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** keyfleet's resident memory now, in bytes (VmRSS of the child). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

// ---- tenant A's requests ----------------------------------------------------------------------------------------

/**
 * What tenant A's requests need of the scenario: plain data, so the bench can run A's probes in a process of their
 * own (bench/support/hostile-probes-worker.ts), away from the attacker's client.
 */
export type ATarget = Pick<Scenario, 'url' | 'aInstance'>;

/** One signed DescribeKeyPairs as tenant A: its key pair must be listed. */
export async function describeAsA(s: ATarget): Promise<void> {
  const r = await ecsCall(s.url, { action: 'DescribeKeyPairs', params: { RegionId: REGION } });
  assert.equal(r.status, 200, `DescribeKeyPairs: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  const names = (r.body?.KeyPairs?.KeyPair ?? []).map((k: { KeyPairName: string }) => k.KeyPairName);
  assert.ok(names.includes('a-key'), 'A sees its key pair');
}

/** One SSH login as root to A's instance with its password, and a command run there. */
export async function sshLoginAsA(s: ATarget): Promise<void> {
  const client = await connect(s.aInstance, { password: A_PASSWORD });
  try {
    const out = await exec(client, 'echo a-is-in');
    assert.equal(out.stdout.toString(), 'a-is-in\n');
  } finally {
    client.end();
  }
}

// ---- SSH helpers ------------------------------------------------------------------------------------------------

export function connect(
  t: Target,
  auth: { password?: string; privateKey?: string },
  username = 'root',
): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({ host: t.host, port: t.port, username, ...auth, readyTimeout: 30_000, tryKeyboard: false });
  });
}

export function exec(client: ssh2.Client, command: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      let stderr = '';
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      channel.on('exit', (code: number) =>
        channel.once('close', () => resolve({ code, stdout: Buffer.concat(out), stderr })),
      );
    }),
  );
}

export function sftpOf(client: ssh2.Client): Promise<ssh2.SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

export function sftpWrite(sftp: ssh2.SFTPWrapper, file: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(file, data, (err) => (err ? reject(err) : resolve())));
}

const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

/** A login that must fail: resolves with the client's error message. */
async function refusedLogin(t: Target, auth: { password?: string; privateKey?: string }): Promise<string> {
  try {
    const client = await connect(t, auth);
    client.end();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the login was accepted');
}

// ---- tenant B's attacks -----------------------------------------------------------------------------------------

export interface Attack {
  name: string;
  /** The attack changes B's instance for good (the bench runs it once, last). */
  once?: boolean;
  /** Runs the attack once and asserts what the attacker got. */
  run(s: Scenario): Promise<void>;
}

const asB = (s: Scenario) => connect(s.bFiles, { privateKey: s.bKey.privateKey });

export const ATTACKS: Attack[] = [
  {
    name: 'authorized_keys of 8 MiB + 4 parallel publickey attempts',
    async run(s) {
      const client = await asB(s);
      try {
        const junk = ssh2.utils.generateKeyPairSync('ed25519').public.trim();
        const filler = `${junk}\n`.repeat(Math.ceil((8 * 1024 * 1024) / (junk.length + 1)));
        await sftpWrite(await sftpOf(client), '/root/.ssh/authorized_keys', Buffer.from(`${s.bKey.line}\n${filler}`));
      } finally {
        client.end();
      }
      const stranger = ssh2.utils.generateKeyPairSync('ed25519').private;
      const refusals = await Promise.all(
        Array.from({ length: 4 }, () => refusedLogin(s.bFiles, { privateKey: stranger })),
      );
      for (const r of refusals) assert.match(r, /All configured authentication methods failed/);
      // B's own key, in the first MiB, still logs in.
      (await asB(s)).end();
    },
  },
  {
    name: 'scrypt N=2^17 r=8 p=4 in /etc/shadow + 4 wrong passwords',
    async run(s) {
      const client = await asB(s);
      try {
        const salt = randomBytes(16);
        // Computed here with a cheap cost, then labelled with the expensive one: the server must not compute it.
        const key = scryptSync('whatever', salt, 32, { N: 1024, r: 8, p: 1 });
        const hash = `$scrypt$N=131072,r=8,p=4$${salt.toString('base64')}$${key.toString('base64')}`;
        await sftpWrite(await sftpOf(client), '/etc/shadow', Buffer.from(`root:${hash}:20000:0:99999:7:::\n`));
      } finally {
        client.end();
      }
      const refusals = await Promise.all(
        ['wrong-1', 'wrong-2', 'whatever', 'wrong-3'].map((password) => refusedLogin(s.bFiles, { password })),
      );
      for (const r of refusals) assert.match(r, /All configured authentication methods failed/);
    },
  },
  {
    name: 'SFTP write of 1 byte at offset 2^40',
    async run(s) {
      const client = await asB(s);
      try {
        const sftp = await sftpOf(client);
        const handle = await call<Buffer>((cb) => sftp.open('/tmp/sparse', 'w', cb));
        await assert.rejects(
          call<void>((cb) => sftp.write(handle, Buffer.from('x'), 0, 1, 2 ** 40, cb)),
          /No space left on device/,
        );
        const size = (await call<ssh2.Stats>((cb) => sftp.fstat(handle, cb))).size;
        assert.equal(size, 0, 'nothing was written');
        await call<void>((cb) => sftp.close(handle, cb));
      } finally {
        client.end();
      }
    },
  },
  {
    name: 'SFTP chmod 06777',
    async run(s) {
      const client = await asB(s);
      try {
        const sftp = await sftpOf(client);
        await sftpWrite(sftp, '/tmp/tool', Buffer.from('#!/bin/sh\n'));
        await call<void>((cb) => sftp.chmod('/tmp/tool', 0o6777, cb));
        const mode = (await call<ssh2.Stats>((cb) => sftp.stat('/tmp/tool', cb))).mode;
        assert.equal(mode & 0o7777, 0o777, 'setuid and setgid dropped');
      } finally {
        client.end();
      }
    },
  },
  {
    name: 'cat of an 8 MiB file, 8 sessions in parallel',
    async run(s) {
      const client = await asB(s);
      try {
        const size = 8 * 1024 * 1024;
        await sftpWrite(await sftpOf(client), '/tmp/big', Buffer.alloc(size, 'c'));
        const results = await Promise.all(Array.from({ length: 8 }, () => exec(client, 'cat /tmp/big')));
        for (const r of results) {
          assert.equal(r.code, 0);
          assert.equal(r.stdout.length, size, 'streamed whole');
        }
      } finally {
        client.end();
      }
    },
  },
  {
    name: '200 unauthenticated connections to one instance',
    async run(s) {
      const results = await Promise.all(Array.from({ length: 200 }, () => silentConnection(s.bConfig)));
      const served = results.filter((r) => r.banner !== null);
      assert.ok(served.length <= 10, `${served.length} got a banner: at most 10 are served while unauthenticated`);
      assert.ok(served.length >= 1);
      for (const r of results) r.socket.destroy();
    },
  },
  {
    name: 'Include fan-out 4^6 in sshd_config',
    once: true,
    async run(s) {
      const client = await connect(s.bConfig, { privateKey: s.bKey.privateKey });
      try {
        const sftp = await sftpOf(client);
        for (let level = 0; level < 6; level++) {
          const next = `/etc/ssh/level${level + 1}.conf`;
          await sftpWrite(
            sftp,
            `/etc/ssh/level${level}.conf`,
            Buffer.from(`Include ${Array(4).fill(next).join(' ')}\n`),
          );
        }
        await sftpWrite(sftp, '/etc/ssh/level6.conf', Buffer.from('PermitRootLogin yes\n'));
        const check = await exec(client, 'true');
        assert.equal(check.code, 0);
        await sftpWrite(sftp, '/etc/ssh/sshd_config.d/00-fanout.conf', Buffer.from('Include /etc/ssh/level0.conf\n'));
        const t = await exec(client, 'sshd -t');
        assert.equal(t.code, 255);
        assert.match(t.stderr, /more than \d+ configuration files/);
      } finally {
        client.end();
      }
      // An unusable config refuses every login, as sshd that cannot read its config.
      await refusedLogin(s.bConfig, { privateKey: s.bKey.privateKey });
    },
  },
  {
    name: 'policy wildcard bomb on resource and action',
    async run(s) {
      // An action pattern that names no action is refused when the policy is written (matched in linear time).
      const actionBomb = await s.b.raw('POST', '/api/v1/policies', {
        name: `action-bomb-${Date.now()}`,
        document: { Statement: [{ Effect: 'Allow', Action: '*?*?*?*?*?*?*?*?*?#', Resource: '*' }] },
      });
      assert.equal(actionBomb.status, 400);
      assert.equal(actionBomb.body.code, 'Policy.Malformed');
      const document = {
        Statement: [
          { Effect: 'Allow', Action: 'ecs:DescribeKeyPairs', Resource: 'acs:ecs:*:*:keypair/*a*a*a*a*a*a*a*a!' },
        ],
      };
      const created = await s.b.raw('POST', '/api/v1/policies', { name: `bomb-${Date.now()}`, document });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const user = `mallory-${Date.now()}`;
      await s.b.call('POST', '/api/v1/users', { name: user });
      await s.b.call('PUT', `/api/v1/users/${user}/policies/${created.body.policy.name}`);
      const key = await s.b.call('POST', `/api/v1/users/${user}/access-keys`);
      const [ak, sk] = [key.accessKeyId as string, key.accessKeySecret as string];
      const r = await ecsCall(s.url, {
        action: 'DescribeKeyPairs',
        params: { RegionId: REGION, KeyPairName: 'a'.repeat(60) },
        accessKeyId: ak,
        secret: sk,
      });
      // Not matched (no '!' in the name): answered, with a refusal or an empty list, at once.
      assert.ok(r.status === 200 || r.status === 403, `HTTP ${r.status} ${r.text.slice(0, 200)}`);
    },
  },
  {
    name: 'paging offset=Infinity and PageNumber=1e309',
    async run(s) {
      for (const v of ['Infinity', '1e309', '1e30']) {
        const native = await s.b.raw('GET', `/api/v1/regions/${REGION}/key-pairs?offset=${v}`);
        assert.equal(native.status, 400, `native offset=${v}: ${native.status}`);
        const ecs = await ecsCall(s.url, {
          action: 'DescribeKeyPairs',
          params: { RegionId: REGION, PageNumber: v },
          accessKeyId: s.bKeys.ak,
          secret: s.bKeys.sk,
        });
        assert.ok(ecs.status >= 400 && ecs.status < 500, `ECS PageNumber=${v}: ${ecs.status}`);
      }
    },
  },
];

/** A raw TCP connection that says nothing: resolves with the server's banner, or null when closed without one. */
function silentConnection(t: Target): Promise<{ socket: net.Socket; banner: string | null }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.host, port: t.port });
    socket.on('error', () => {});
    socket.once('data', (data) => resolve({ socket, banner: data.toString('latin1') }));
    socket.once('close', () => resolve({ socket, banner: null }));
  });
}

export { ACCESS_KEY_ID, ACCESS_KEY_SECRET };

export interface ProbeRecord {
  describeMs: number[];
  loginMs: number[];
  failures: string[];
}

/**
 * Tenant A's traffic while something else runs: DescribeKeyPairs back to back, and SSH logins back to back, each
 * timed. stop() waits for the calls under way, so each kind has at least one call that overlapped the attack.
 */
export function startProbes(s: ATarget): { stop(): Promise<ProbeRecord> } {
  const record: ProbeRecord = { describeMs: [], loginMs: [], failures: [] };
  let stopped = false;
  const loop = async (kind: string, fn: () => Promise<void>, into: number[]) => {
    do {
      const started = performance.now();
      try {
        await fn();
        into.push(performance.now() - started);
      } catch (err) {
        record.failures.push(`${kind}: ${(err as Error).message}`);
      }
    } while (!stopped);
  };
  const loops = [
    loop('DescribeKeyPairs', () => describeAsA(s), record.describeMs),
    loop('SSH login', () => sshLoginAsA(s), record.loginMs),
  ];
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return record;
    },
  };
}
