/**
 * What keyfleet changes about ssh2's use of a connection (src/backends/ssh/lean-transport.ts), shown on the wire:
 * - packets written in one tick arrive together, later ones are not held back, and end() flushes;
 * - against Debian's sshd (logging at DEBUG, so every global request and every unsigned key query it gets is in its
 *   log), keyfleet's sessions and logins never ask the host to prove its host keys and sign their key login at once
 *   (ed25519 and RSA), while a stock ssh2 client, as the control, does both; a refused key is still refused.
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

import { coalesceWritesPerTick, declineHostKeyProofs, signKeyLoginAtOnce } from '../../src/backends/ssh/lean-transport.js';
import { loginKeyOf } from '../../src/backends/ssh/login-key.js';
import { openSession, tryLogin } from '../../src/backends/ssh/ssh-session.js';
import { startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const run = promisify(execFile);

/** A loopback server that records every chunk it reads. */
async function recordingServer(): Promise<{ port: number; chunks: string[]; ended: Promise<void>; close: () => Promise<void> }> {
  const chunks: string[] = [];
  let ended!: () => void;
  const endedP = new Promise<void>((r) => (ended = r));
  const server = net.createServer((s) => {
    s.on('data', (d) => chunks.push(d.toString()));
    s.on('end', () => ended());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, chunks, ended: endedP, close: () => new Promise((r) => server.close(() => r())) };
}

const nextTick = () => new Promise((r) => setImmediate(r));

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
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(server.chunks, ['abc']);
    sock.write('d');
    await new Promise((r) => setTimeout(r, 50));
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
    await new Promise((r) => setTimeout(r, 50));
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
    await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-C', 'lean-rsa', '-f', path.join(keyDir, 'rsa')]);
    for (const bits of ['256', '384', '521']) await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', bits, '-N', '', '-C', `lean-ecdsa-${bits}`, '-f', path.join(keyDir, `ecdsa${bits}`)]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', path.join(keyDir, 'stranger')]);
    privateKey = await fs.readFile(path.join(keyDir, 'id'), 'utf8');
    rsaKey = await fs.readFile(path.join(keyDir, 'rsa'), 'utf8');
    strangerKey = await fs.readFile(path.join(keyDir, 'stranger'), 'utf8');
    ecdsaKeys = Object.fromEntries(await Promise.all(['256', '384', '521'].map(async (b) => [b, await fs.readFile(path.join(keyDir, `ecdsa${b}`), 'utf8')] as const)));
    const ssh = path.join(host.home, '.ssh');
    await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
    const lines = await Promise.all(['id.pub', 'rsa.pub', 'ecdsa256.pub', 'ecdsa384.pub', 'ecdsa521.pub'].map((f) => fs.readFile(path.join(keyDir, f), 'utf8')));
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

  /** A TCP relay to the host that holds every chunk for `delayMs` each way: a round trip then costs 2 × delayMs. */
  async function delayingRelay(delayMs: number): Promise<{ port: number; close: () => void }> {
    const server = net.createServer((client) => {
      client.setNoDelay(true);
      const upstream = net.connect({ host: host.address, port: host.port, noDelay: true });
      const relay = (from: net.Socket, to: net.Socket) => from.on('data', (d) => setTimeout(() => to.writable && to.write(d), delayMs));
      relay(client, upstream);
      relay(upstream, client);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.on('close', () => b.destroy());
        a.on('error', () => b.destroy());
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }

  it('a key login takes one round trip less than stock ssh2\'s (through a relay adding 100 ms each way)', async () => {
    const relay = await delayingRelay(100);
    try {
      const roundTrips = async (login: () => Promise<unknown>) => {
        const t0 = performance.now();
        await login();
        return (performance.now() - t0) / 200;
      };
      const stock = await roundTrips(() => new Promise<void>((resolve, reject) => {
        const c = new ssh2.Client();
        c.once('ready', () => (c.end(), resolve()));
        c.once('error', reject);
        c.connect({ host: '127.0.0.1', port: relay.port, username: host.user, privateKey, hostVerifier: () => true });
      }));
      const ours = await roundTrips(() => tryLogin({ host: '127.0.0.1', port: relay.port, username: host.user }, { kind: 'privateKey', privateKey }, { kind: 'pinned', sha256: host.hostKeySha256 }));
      // Measured here: stock 5.3-5.4 round trips to 'ready', keyfleet 4.4 to a closed login (TCP, key exchange,
      // NEWKEYS + service request, the signed login; the query and PK_OK are gone).
      assert.ok(ours <= stock - 0.7, `keyfleet ${ours.toFixed(2)} vs stock ssh2 ${stock.toFixed(2)} round trips`);
      assert.ok(ours < 4.9, `keyfleet's login took ${ours.toFixed(2)} round trips`);
    } finally {
      relay.close();
    }
  });

  const linesWith = (needle: string) => host.log().split('\n').filter((l) => l.includes(needle)).length;
  const proofRequests = () => linesWith('hostkeys-prove-00@openssh.com');
  // sshd logs an unsigned publickey request (the "would you accept this key" query) at DEBUG as "test pkalg".
  const keyQueries = () => linesWith('test pkalg');
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('the wrappers find ssh2\'s global-request handler and authPK (an ssh2 upgrade that moves them fails here)', () => {
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

  it('keyfleet\'s sessions and logins do neither, and still work (ed25519, RSA and ECDSA keys; a stranger\'s key is refused)', async () => {
    const before = proofRequests();
    const queriesBefore = keyQueries();
    const target = { host: host.address, port: host.port, username: host.user };
    const session = await openSession(target, { kind: 'privateKey', privateKey }, { kind: 'pinned', sha256: host.hostKeySha256 });
    const ak = await session.readFile('.ssh/authorized_keys');
    await new Promise((r) => setTimeout(r, 200)); // the announcement has arrived and been declined
    session.close();
    assert.match(ak!.content, /ssh-ed25519 /);
    const pin = { kind: 'pinned', sha256: host.hostKeySha256 } as const;
    assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey }, pin)).ok, true);
    const accepted = () => linesWith('Accepted publickey for kflt');
    const acceptedBefore = accepted();
    assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey: rsaKey }, pin)).ok, true, 'an RSA key (rsa-sha2-*) signs at once too');
    for (const [bits, key] of Object.entries(ecdsaKeys)) {
      assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey: key }, pin)).ok, true, `an ECDSA P-${bits} key signs at once (its digest chosen by keyfleet)`);
    }
    assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey: strangerKey }, pin)).ok, false, 'a key not in authorized_keys is refused');
    await settle();
    assert.equal(proofRequests(), before, 'no hostkeys-prove request from keyfleet');
    assert.equal(keyQueries(), queriesBefore, 'no unsigned key query from keyfleet');
    assert.equal(accepted(), acceptedBefore + 4, 'the RSA and the three ECDSA logins were accepted');
    assert.match(host.log(), /Accepted publickey for kflt\S* .*RSA/, 'as an RSA key');
    assert.match(host.log(), /Accepted publickey for kflt\S* .*ECDSA/, 'and as ECDSA keys');
  });
});
