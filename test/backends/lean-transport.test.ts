/**
 * What keyfleet changes about ssh2's use of a connection (src/backends/ssh/lean-transport.ts), shown on the wire:
 * - packets written in one tick arrive together, later ones are not held back, and end() flushes;
 * - against Debian's sshd (logging at DEBUG, so every global request it gets is in its log), keyfleet's sessions and
 *   logins never ask the host to prove its host keys, while a stock ssh2 client, as the control, does.
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

import { coalesceWritesPerTick, declineHostKeyProofs } from '../../src/backends/ssh/lean-transport.js';
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

describe('host key proofs are not requested', () => {
  let hosts: TestHost[] = [];
  let host: TestHost;
  let privateKey: string;
  let keyDir: string;

  before(async () => {
    hosts = await startHosts(1, { user: 'kflt' });
    host = hosts[0]!;
    keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-lean-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lean', '-f', path.join(keyDir, 'id')]);
    privateKey = await fs.readFile(path.join(keyDir, 'id'), 'utf8');
    const ssh = path.join(host.home, '.ssh');
    await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
    await fs.copyFile(path.join(keyDir, 'id.pub'), path.join(ssh, 'authorized_keys'));
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

  const proofRequests = () => host.log().split('\n').filter((l) => l.includes('hostkeys-prove-00@openssh.com')).length;
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('the wrapper finds ssh2\'s global-request handler (an ssh2 upgrade that moves it fails here)', () => {
    const client = new ssh2.Client();
    client.on('error', () => undefined); // the socket never connects: only the wiring is looked at
    const sock = new net.Socket();
    client.connect({ sock, username: 'x', password: 'x', readyTimeout: 60_000 });
    assert.equal(declineHostKeyProofs(client), true);
    client.destroy();
  });

  it('a stock ssh2 client asks the host to prove its keys after login (the control)', async () => {
    const before = proofRequests();
    await new Promise<void>((resolve, reject) => {
      const c = new ssh2.Client();
      c.once('ready', () => setTimeout(() => (c.end(), resolve()), 200)); // time for the announcement and the proof
      c.once('error', reject);
      c.connect({ host: host.address, port: host.port, username: host.user, privateKey, hostVerifier: () => true });
    });
    await settle();
    assert.ok(proofRequests() > before, 'sshd logged a hostkeys-prove request from stock ssh2');
  });

  it('keyfleet\'s sessions and logins do not, and still work', async () => {
    const before = proofRequests();
    const target = { host: host.address, port: host.port, username: host.user };
    const session = await openSession(target, { kind: 'privateKey', privateKey }, { kind: 'pinned', sha256: host.hostKeySha256 });
    const ak = await session.readFile('.ssh/authorized_keys');
    await new Promise((r) => setTimeout(r, 200)); // the announcement has arrived and been declined
    session.close();
    assert.match(ak!.content, /ssh-ed25519 /);
    assert.equal((await tryLogin(target, { kind: 'privateKey', privateKey }, { kind: 'pinned', sha256: host.hostKeySha256 })).ok, true);
    await settle();
    assert.equal(proofRequests(), before, 'no hostkeys-prove request from keyfleet');
    assert.match(host.log(), /Accepted publickey for kflt/, 'the logins did happen');
  });
});
