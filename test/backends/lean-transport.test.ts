/**
 * What keyfleet changes about ssh2's use of a connection (src/backends/ssh/lean-transport.ts), shown on the wire:
 * - packets written in one tick arrive together, later ones are not held back, and end() flushes;
 * - round trips, counted by cause through a relay (not by time), of a key login and of SFTP from login;
 * - against Debian's sshd (logging at DEBUG, so every global request and every unsigned key query it gets is in its
 *   log), keyfleet's sessions and logins never ask the host to prove its host keys and sign their key login at once
 *   (ed25519 and RSA), while a stock ssh2 client, as the control, does both; a refused key is still refused;
 * - the notices sshd sends after a login are acknowledged at once: sshd's DEBUG3 log shows an SSH_MSG_IGNORE
 *   arriving after them and before the subsystem request, so a session's first SFTP answer is not held 40 ms by
 *   Nagle's algorithm on the host and a delayed ACK here (the time itself: bench/ssh-first-answer.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';

import {
  acknowledgeServerNotices,
  coalesceWritesPerTick,
  declineHostKeyProofs,
  openSftpAtOnce,
  signKeyLoginAtOnce,
} from '../../src/backends/ssh/lean-transport.js';
import { loginKeyOf } from '../../src/backends/ssh/login-key.js';
import { openSession, tryLogin } from '../../src/backends/ssh/ssh-session.js';
import { startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const run = promisify(execFile);

/** A loopback server that records every chunk it reads. */
async function recordingServer(): Promise<{
  port: number;
  chunks: string[];
  ended: Promise<void>;
  close: () => Promise<void>;
}> {
  const chunks: string[] = [];
  let ended!: () => void;
  const endedP = new Promise<void>((r) => (ended = r));
  const server = net.createServer((s) => {
    s.on('data', (d) => chunks.push(d.toString()));
    s.on('end', () => ended());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    chunks,
    ended: endedP,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const nextTick = () => new Promise((r) => setImmediate(r));

/** Waits until the server has read `bytes` bytes in all (however long that takes on a loaded machine). */
async function received(server: { chunks: string[] }, bytes: number): Promise<void> {
  while (server.chunks.join('').length < bytes) await new Promise((r) => setTimeout(r, 5));
}

/**
 * A TCP relay to the host that counts round trips by cause, not by time: every chunk gets a depth, one more than
 * the deepest chunk the relay had delivered to its sender when it arrived (a reply cannot leave before what it
 * answers was delivered), so `depth()` grows by 2 per round trip on the longest chain of replies, however slow the
 * machine. Each chunk is held `holdMs` each way so that the pieces of one flight (a server's reply written in
 * several packets) arrive before anything sent in answer to the first piece can be delivered, and share its depth.
 */
async function countingRelay(
  host: TestHost,
  holdMs = 50,
): Promise<{ port: number; depth: () => number; close: () => void }> {
  let latest = { toClient: 0, toServer: 0 };
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const delivered = (latest = { toClient: 0, toServer: 0 });
    const upstream = net.connect({ host: host.address, port: host.port, noDelay: true });
    const relay = (from: net.Socket, to: net.Socket, key: 'toClient' | 'toServer', sendersDepth: () => number) =>
      from.on('data', (d) => {
        const depth = sendersDepth() + 1;
        setTimeout(() => {
          if (!to.writable) return;
          to.write(d);
          delivered[key] = Math.max(delivered[key], depth);
        }, holdMs);
      });
    relay(client, upstream, 'toServer', () => delivered.toClient);
    relay(upstream, client, 'toClient', () => delivered.toServer);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    depth: () => latest.toClient,
    close: () => server.close(),
  };
}

/** Round trips `work` waits for on the relay's latest connection, on its longest chain of replies. */
async function roundTripsThrough(relay: { depth: () => number }, work: () => Promise<unknown>): Promise<number> {
  const before = relay.depth();
  await work();
  return (relay.depth() - before) / 2;
}

describe('writes coalesced per tick', () => {
  it('three writes in one tick arrive as one chunk; a write in a later tick is sent too; end() flushes', async () => {
    const server = await recordingServer();
    const sock = net.connect({ host: '127.0.0.1', port: server.port, noDelay: true });
    await new Promise((r) => sock.once('connect', r));
    coalesceWritesPerTick(sock);
    coalesceWritesPerTick(sock); // idempotent: not corked twice
    sock.write('a');
    sock.write('b');
    sock.write('c');
    await received(server, 3);
    assert.deepEqual(server.chunks, ['abc']);
    sock.write('d');
    await received(server, 4);
    assert.deepEqual(server.chunks, ['abc', 'd'], 'a later tick is flushed on its own');
    sock.write('e');
    sock.end('f'); // same tick: end() must flush what is corked
    await server.ended;
    assert.equal(server.chunks.join(''), 'abcdef');
    await server.close();
  });

  it('without it, the same three writes leave one by one (the control)', async () => {
    const server = await recordingServer();
    const sock = net.connect({ host: '127.0.0.1', port: server.port, noDelay: true });
    await new Promise((r) => sock.once('connect', r));
    sock.write('a');
    await nextTick();
    sock.write('b');
    await nextTick();
    sock.write('c');
    await received(server, 3);
    assert.equal(server.chunks.join(''), 'abc');
    sock.end();
    await server.ended;
    await server.close();
  });
});

describe('no host key proofs, no unsigned key queries', () => {
  let hosts: TestHost[] = [];
  let host: TestHost;
  let privateKey: string;
  let rsaKey: string;
  let ecdsaKeys: Record<string, string>;
  let strangerKey: string;
  let keyDir: string;

  before(async () => {
    hosts = await startHosts(1, { user: 'kflt' });
    host = hosts[0]!;
    keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-lean-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lean', '-f', path.join(keyDir, 'id')]);
    await run('ssh-keygen', [
      '-q',
      '-t',
      'rsa',
      '-b',
      '3072',
      '-N',
      '',
      '-C',
      'lean-rsa',
      '-f',
      path.join(keyDir, 'rsa'),
    ]);
    for (const bits of ['256', '384', '521'])
      await run('ssh-keygen', [
        '-q',
        '-t',
        'ecdsa',
        '-b',
        bits,
        '-N',
        '',
        '-C',
        `lean-ecdsa-${bits}`,
        '-f',
        path.join(keyDir, `ecdsa${bits}`),
      ]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', path.join(keyDir, 'stranger')]);
    privateKey = await fs.readFile(path.join(keyDir, 'id'), 'utf8');
    rsaKey = await fs.readFile(path.join(keyDir, 'rsa'), 'utf8');
    strangerKey = await fs.readFile(path.join(keyDir, 'stranger'), 'utf8');
    ecdsaKeys = Object.fromEntries(
      await Promise.all(
        ['256', '384', '521'].map(async (b) => [b, await fs.readFile(path.join(keyDir, `ecdsa${b}`), 'utf8')] as const),
      ),
    );
    const ssh = path.join(host.home, '.ssh');
    await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
    const lines = await Promise.all(
      ['id.pub', 'rsa.pub', 'ecdsa256.pub', 'ecdsa384.pub', 'ecdsa521.pub'].map((f) =>
        fs.readFile(path.join(keyDir, f), 'utf8'),
      ),
    );
    await fs.writeFile(path.join(ssh, 'authorized_keys'), lines.join(''));
    await fs.chmod(path.join(ssh, 'authorized_keys'), 0o600);
    for (const p of [ssh, path.join(ssh, 'authorized_keys')]) await fs.chown(p, host.uid, host.gid);
    // DEBUG: sshd logs every global request it receives ("rtype <name> want_reply <n>").
    await fs.writeFile(path.join(host.configDir, '10-debug.conf'), 'LogLevel DEBUG\n');
    await host.reload();
  });

  after(async () => {
    await stopHosts(hosts);
    await fs.rm(keyDir, { recursive: true, force: true });
  });

  it("a key login takes one round trip less than stock ssh2's (counted through a relay)", async () => {
    const relay = await countingRelay(host);
    try {
      // Each login is a new connection: its depth starts at 0.
      const loginTrips = async (login: () => Promise<unknown>) => (await login(), relay.depth() / 2);
      // Stock ssh2 offering the key alone (no 'none' attempt first), so the only difference is the query.
      const stock = await loginTrips(
        () =>
          new Promise<void>((resolve, reject) => {
            const c = new ssh2.Client();
            c.once('ready', () => (c.end(), resolve()));
            c.once('error', reject);
            c.connect({
              host: '127.0.0.1',
              port: relay.port,
              username: host.user,
              privateKey,
              authHandler: ['publickey'],
              hostVerifier: () => true,
            });
          }),
      );
      const ours = await loginTrips(() =>
        tryLogin(
          { host: '127.0.0.1', port: relay.port, username: host.user },
          { kind: 'privateKey', privateKey },
          { kind: 'pinned', sha256: host.hostKeySha256 },
        ),
      );
      // Identification and KEXINIT, ECDH, NEWKEYS and the service request, the signed login; stock ssh2 asks
      // whether the key would do (PK_OK) before the signed login.
      assert.equal(ours, 4, "keyfleet's key login in round trips");
      assert.equal(stock, 5, "stock ssh2's key login in round trips");
    } finally {
      relay.close();
    }
  });

  const linesWith = (needle: string) =>
    host
      .log()
      .split('\n')
      .filter((l) => l.includes(needle)).length;
  const proofRequests = () => linesWith('hostkeys-prove-00@openssh.com');
  // sshd logs an unsigned publickey request (the "would you accept this key" query) at DEBUG as "test pkalg".
  const keyQueries = () => linesWith('test pkalg');
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it("the wrappers find ssh2's global-request handler and authPK (an ssh2 upgrade that moves them fails here)", () => {
    const client = new ssh2.Client();
    client.on('error', () => undefined); // the socket never connects: only the wiring is looked at
    const sock = new net.Socket();
    client.connect({ sock, username: 'x', password: 'x', readyTimeout: 60_000 });
    assert.equal(declineHostKeyProofs(client), true);
    assert.equal(signKeyLoginAtOnce(client, loginKeyOf({ privateKey })), true);
    client.destroy();
  });

  it('a stock ssh2 client asks the host to prove its keys after login, and queries its key before signing (the control)', async () => {
    const before = proofRequests();
    const queriesBefore = keyQueries();
    await new Promise<void>((resolve, reject) => {
      const c = new ssh2.Client();
      c.once('ready', () => setTimeout(() => (c.end(), resolve()), 200)); // time for the announcement and the proof
      c.once('error', reject);
      c.connect({ host: host.address, port: host.port, username: host.user, privateKey, hostVerifier: () => true });
    });
    await settle();
    assert.ok(proofRequests() > before, 'sshd logged a hostkeys-prove request from stock ssh2');
    assert.ok(keyQueries() > queriesBefore, 'sshd logged an unsigned key query from stock ssh2');
  });

  it("keyfleet's sessions and logins do neither, and still work (ed25519, RSA and ECDSA keys; a stranger's key is refused)", async () => {
    const before = proofRequests();
    const queriesBefore = keyQueries();
    const target = { host: host.address, port: host.port, username: host.user };
    const session = await openSession(
      target,
      { kind: 'privateKey', privateKey },
      { kind: 'pinned', sha256: host.hostKeySha256 },
    );
    const ak = await session.readFile('.ssh/authorized_keys');
    await new Promise((r) => setTimeout(r, 200)); // the announcement has arrived and been declined
    session.close();
    assert.match(ak!.content, /ssh-ed25519 /);
    const pin = { kind: 'pinned', sha256: host.hostKeySha256 } as const;
    assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey }, pin)).ok, true);
    const accepted = () => linesWith('Accepted publickey for kflt');
    const acceptedBefore = accepted();
    assert.equal(
      (await tryLogin(target, { kind: 'privateKey', privateKey: rsaKey }, pin)).ok,
      true,
      'an RSA key (rsa-sha2-*) signs at once too',
    );
    for (const [bits, key] of Object.entries(ecdsaKeys)) {
      assert.equal(
        (await tryLogin(target, { kind: 'privateKey', privateKey: key }, pin)).ok,
        true,
        `an ECDSA P-${bits} key signs at once (its digest chosen by keyfleet)`,
      );
    }
    assert.equal(
      (await tryLogin(target, { kind: 'privateKey', privateKey: strangerKey }, pin)).ok,
      false,
      'a key not in authorized_keys is refused',
    );
    await settle();
    assert.equal(proofRequests(), before, 'no hostkeys-prove request from keyfleet');
    assert.equal(keyQueries(), queriesBefore, 'no unsigned key query from keyfleet');
    assert.equal(accepted(), acceptedBefore + 4, 'the RSA and the three ECDSA logins were accepted');
    assert.match(host.log(), /Accepted publickey for kflt\S* .*RSA/, 'as an RSA key');
    assert.match(host.log(), /Accepted publickey for kflt\S* .*ECDSA/, 'and as ECDSA keys');
  });
});

describe('server notices acknowledged at once', () => {
  let hosts: TestHost[] = [];
  let host: TestHost;
  let privateKey: string;
  let keyDir: string;

  before(async () => {
    hosts = await startHosts(1, { user: 'kfak', sftp: '/usr/lib/openssh/sftp-server' });
    host = hosts[0]!;
    keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-ack-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ack', '-f', path.join(keyDir, 'id')]);
    privateKey = await fs.readFile(path.join(keyDir, 'id'), 'utf8');
    const ssh = path.join(host.home, '.ssh');
    await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(ssh, 'authorized_keys'), await fs.readFile(path.join(keyDir, 'id.pub'), 'utf8'), {
      mode: 0o600,
    });
    for (const p of [ssh, path.join(ssh, 'authorized_keys')]) await fs.chown(p, host.uid, host.gid);
    // DEBUG3: sshd logs every SSH_MSG_IGNORE it receives.
    await fs.writeFile(path.join(host.configDir, '10-debug.conf'), 'LogLevel DEBUG3\n');
    await host.reload();
  });

  after(async () => {
    await stopHosts(hosts);
    await fs.rm(keyDir, { recursive: true, force: true });
  });

  const ignoresReceived = () =>
    host
      .log()
      .split('\n')
      .filter((l) => l.includes('Received SSH2_MSG_IGNORE')).length;
  const target = () => ({ host: host.address, port: host.port, username: host.user });
  const pin = () => ({ kind: 'pinned', sha256: host.hostKeySha256 }) as const;

  it("the wrapper finds ssh2's global-request and DEBUG handlers and its packet writer (an ssh2 upgrade that moves them fails here)", () => {
    const client = new ssh2.Client();
    client.on('error', () => undefined); // the socket never connects: only the wiring is looked at
    const sock = new net.Socket();
    client.connect({ sock, username: 'x', password: 'x', readyTimeout: 60_000 });
    assert.equal(acknowledgeServerNotices(client, sock), true);
    client.destroy();
  });

  it("a session answers sshd's post-login notices with SSH_MSG_IGNORE; a bare login, which ends at once, sends none", async () => {
    const before = ignoresReceived();
    assert.equal((await tryLogin(target(), { kind: 'privateKey', privateKey }, pin())).ok, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ignoresReceived(), before, 'nothing is sent after the DISCONNECT of a bare login');
    const session = await openSession(target(), { kind: 'privateKey', privateKey }, pin());
    await session.readFile('.ssh/authorized_keys');
    session.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(ignoresReceived() > before, 'sshd logged an SSH_MSG_IGNORE from the session');
  });

  /**
   * The packets sshd logged (DEBUG3) for the one connection whose log starts at `offset`, from its login on: 'send 80'
   * (the hostkeys-00 announcement), 'send 4' (DEBUG), 'send 91' (channel open confirmed), 'receive 2' (IGNORE),
   * 'receive 98' (a channel request: the subsystem).
   */
  const packetsAfterLogin = (offset: number) => {
    const log = host.log().slice(offset);
    const login = log.indexOf('Accepted publickey');
    assert.ok(login >= 0, 'the connection logged in');
    return [...log.slice(login).matchAll(/(send|receive) packet: type (\d+)/g)].map((m) => `${m[1]} ${m[2]}`);
  };

  // sshd queues its notices (80, 4) before its answer to the channel open (91), and the client asks for the
  // subsystem (98) only after processing that answer, so it has processed the notices before: an IGNORE sent for
  // them reaches sshd before the 98, on every machine, however fast. Held back by Nagle's algorithm, the 91 waits for
  // the acknowledgement of the notices; the IGNORE carries it (the time it saves is bench/ssh-first-answer.ts's).
  it("each session acknowledges the notices before it needs the channel's answer: sshd receives an IGNORE after sending them and before the subsystem request", async () => {
    for (let n = 0; n < 3; n++) {
      const offset = host.log().length;
      const session = await openSession(target(), { kind: 'privateKey', privateKey }, pin());
      await session.readFile('.ssh/authorized_keys');
      session.close();
      const packets = await waitForPackets(offset, 'receive 98');
      const notice = packets.indexOf('send 80');
      const subsystem = packets.indexOf('receive 98');
      assert.ok(notice >= 0 && packets.indexOf('send 4') > notice, `sshd sent its notices: ${packets.join(', ')}`);
      assert.ok(packets.indexOf('send 91') > notice, `then its answer to the channel open: ${packets.join(', ')}`);
      const ignores = packets.slice(notice, subsystem).filter((p) => p === 'receive 2').length;
      assert.ok(ignores >= 1, `an IGNORE between the notices and the subsystem request: ${packets.join(', ')}`);
    }
  });

  it('without the acknowledgement (ssh2 declining the proofs only, keyfleet before it) no IGNORE reaches sshd there: the control', async () => {
    const offset = host.log().length;
    await new Promise<void>((resolve, reject) => {
      const c = new ssh2.Client();
      c.once('error', reject);
      c.once('ready', () =>
        c.sftp((err, sftp) => {
          if (err) return reject(err);
          sftp.readdir('.ssh', (e) => (c.end(), e ? reject(e) : resolve()));
        }),
      );
      c.connect({ host: host.address, port: host.port, username: host.user, privateKey, hostVerifier: () => true });
      declineHostKeyProofs(c);
    });
    const packets = await waitForPackets(offset, 'receive 98');
    assert.ok(packets.indexOf('send 80') >= 0, `sshd sent its notices: ${packets.join(', ')}`);
    assert.equal(packets.filter((p) => p === 'receive 2').length, 0, `no IGNORE: ${packets.join(', ')}`);
  });

  /** sshd writes its log as it goes: wait until the connection's log holds `last`. */
  async function waitForPackets(offset: number, last: string): Promise<string[]> {
    for (let tries = 0; ; tries++) {
      const packets = packetsAfterLogin(offset);
      if (packets.includes(last) || tries >= 100) return packets;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

describe('SFTP started with its first requests (OpenSSH)', () => {
  let hosts: TestHost[] = [];
  let host: TestHost;
  let refusing: TestHost;
  let exiting: TestHost;
  let privateKey: string;
  let keyDir: string;
  const pinOf = (h: TestHost) => ({ kind: 'pinned', sha256: h.hostKeySha256 }) as const;
  const targetOf = (h: TestHost, port = h.port, address = h.address) => ({ host: address, port, username: h.user });

  before(async () => {
    // Debian's own subsystem (sftp-server started through the user's shell), one host that has none, one whose
    // subsystem exits at once.
    hosts = [
      ...(await startHosts(1, { user: 'kfsa', sftp: '/usr/lib/openssh/sftp-server' })),
      ...(await startHosts(1, { user: 'kfsb', sftp: null })),
      ...(await startHosts(1, { user: 'kfsc', sftp: '/bin/false' })),
    ];
    [host, refusing, exiting] = hosts as [TestHost, TestHost, TestHost];
    keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-sftp-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sftp', '-f', path.join(keyDir, 'id')]);
    privateKey = await fs.readFile(path.join(keyDir, 'id'), 'utf8');
    const line = await fs.readFile(path.join(keyDir, 'id.pub'), 'utf8');
    for (const h of hosts) {
      const ssh = path.join(h.home, '.ssh');
      await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(ssh, 'authorized_keys'), `# by hand\n${line}`, { mode: 0o640 });
      for (const p of [ssh, path.join(ssh, 'authorized_keys')]) await fs.chown(p, h.uid, h.gid);
    }
  });

  after(async () => {
    await stopHosts(hosts);
    await fs.rm(keyDir, { recursive: true, force: true });
  });

  it("stock ssh2 needs 4 round trips from a logged-in connection to a usable SFTP session (the control); ssh2's internals are where openSftpAtOnce expects them", async () => {
    const relay = await countingRelay(host);
    const c = new ssh2.Client();
    try {
      await new Promise<void>((resolve, reject) => {
        c.once('ready', resolve).once('error', reject);
        c.connect({ host: '127.0.0.1', port: relay.port, username: host.user, privateKey, hostVerifier: () => true });
      });
      const stock = await roundTripsThrough(
        relay,
        () => new Promise<void>((resolve, reject) => c.sftp((err) => (err ? reject(err) : resolve()))),
      );
      // Channel open, subsystem, INIT/VERSION, limits@openssh.com.
      assert.equal(stock, 4, 'stock ssh2: round trips to a usable SFTP session');
      const early = openSftpAtOnce(c);
      assert.ok(early, "openSftpAtOnce recognises an OpenSSH server and ssh2's channel internals");
      const { sftp, failure } = await early;
      const names = await new Promise<string[]>((resolve, reject) =>
        sftp.readdir('.ssh', (err, list) => (err ? reject(err) : resolve(list.map((e) => e.filename)))),
      );
      assert.ok(names.includes('authorized_keys'), 'a request sent with the subsystem request is answered');
      assert.equal(failure(), null);
    } finally {
      c.end();
      relay.close();
    }
  });

  it('keyfleet: a read takes 4 round trips after login (stock: 6), and a read for replace plus the atomic replace 6', async () => {
    const relay = await countingRelay(host);
    try {
      const session = await openSession(
        targetOf(host, relay.port, '127.0.0.1'),
        { kind: 'privateKey', privateKey },
        pinOf(host),
      );
      let read: Awaited<ReturnType<typeof session.readFile>> = null;
      // Channel open; subsystem (sshd grants the window once it has started); [INIT, open]; [fstat, read].
      const readTrips = await roundTripsThrough(
        relay,
        async () => (read = await session.readFile('.ssh/authorized_keys')),
      );
      session.close();
      assert.match(read!.content, /^# by hand\n/);
      assert.equal(readTrips, 4, 'round trips of a read from login');

      const again = await openSession(
        targetOf(host, relay.port, '127.0.0.1'),
        { kind: 'privateKey', privateKey },
        pinOf(host),
      );
      const trips = await roundTripsThrough(relay, async () => {
        // Channel open; subsystem; [INIT, open, stat of ~/.ssh, open temp]; [fstat, read]; [write, fsetstat, fsync];
        // [close, rename]. Before: 11 (ssh2's 4 to a usable session, the read's 2, ensureDir's, the temp's, 3).
        const file = await again.readForReplace('.ssh/authorized_keys');
        assert.deepEqual(file.directory, { mode: 0o700, uid: host.uid, gid: host.gid });
        await file.replace(`${file.current!.content}# added\n`, {
          mode: file.current!.mode,
          uid: file.current!.uid,
          gid: file.current!.gid,
        });
      });
      again.close();
      assert.equal(trips, 6, 'round trips of a read for replace and the replace from login');
      const ak = path.join(host.home, '.ssh', 'authorized_keys');
      assert.match(await fs.readFile(ak, 'utf8'), /^# by hand\n.*\n# added\n$/s);
      const st = await fs.stat(ak);
      assert.equal(st.mode & 0o7777, 0o640, 'mode kept');
      assert.equal(st.uid, host.uid, 'owner kept');
      assert.deepEqual(
        (await fs.readdir(path.join(host.home, '.ssh'))).filter((f) => f.includes('keyfleet')),
        [],
        'no temp file left',
      );
    } finally {
      relay.close();
    }
  });

  it('a read for replace that is discarded leaves nothing behind; with no directory yet the replace makes its own temp file', async () => {
    const session = await openSession(targetOf(host), { kind: 'privateKey', privateKey }, pinOf(host));
    try {
      const file = await session.readForReplace('.ssh/authorized_keys');
      assert.ok(
        (await fs.readdir(path.join(host.home, '.ssh'))).some((f) => f.includes('keyfleet')),
        'the temp file was opened with the read',
      );
      await file.discard();
      await file.discard(); // twice is fine
      assert.deepEqual(
        (await fs.readdir(path.join(host.home, '.ssh'))).filter((f) => f.includes('keyfleet')),
        [],
      );

      const missing = await session.readForReplace('new-dir/keys');
      assert.equal(missing.current, null);
      assert.equal(missing.directory, null);
      await session.ensureDir('new-dir', { mode: 0o700 });
      await missing.replace('k\n', { mode: 0o600 });
      assert.equal(await fs.readFile(path.join(host.home, 'new-dir', 'keys'), 'utf8'), 'k\n');
      assert.deepEqual(await fs.readdir(path.join(host.home, 'new-dir')), ['keys']);
    } finally {
      session.close();
    }
  });

  it('a refused subsystem, or one that exits at once, fails the request at once, named as such, not by timeout', async (t) => {
    for (const [h, why] of [
      [refusing, /refused the sftp subsystem/],
      [exiting, /subsystem exited with code 1|session ended before it started/],
    ] as const) {
      const session = await openSession(targetOf(h), { kind: 'privateKey', privateKey }, pinOf(h), {
        timeoutMs: 60_000,
      });
      try {
        const err = await session.readFile('.ssh/authorized_keys').then(
          () => null,
          (e: Error & { code?: string }) => e,
        );
        assert.ok(err, 'the read fails');
        t.diagnostic(`${h.user}: ${err.message}`);
        // A request left unanswered would fail by the session's timeout instead, as Live.Unreachable ("no answer").
        assert.equal(err.code, 'Live.RemoteError');
        assert.match(err.message, /SFTP subsystem is not available/);
        assert.match(err.message, why);
      } finally {
        session.close();
      }
    }
  });
});
