/**
 * Three things keyfleet changes about how ssh2 uses a connection, to spend fewer round trips and less CPU on the
 * host and here per connection (at fleet scale the CPU per connection is the limit on a local network, and round
 * trips are on a wide one; see bench/hosts-vs-ansible.ts).
 *
 * 1. Packets written in the same tick leave in one TCP segment. ssh2 writes every SSH packet with its own
 *    socket.write, so a pipelined batch of SFTP requests (open's fstat and read; write, fsetstat and fsync; close
 *    and rename) costs one send, and on the host one wakeup of sshd, per packet. Corking the socket until the next
 *    tick (the pattern Node documents for socket.cork) sends them with one writev.
 *
 * 2. OpenSSH's hostkeys-00@openssh.com announcement is not answered with a proof request. ssh2 answers every
 *    announcement by asking the host to sign the session with each of its host keys (hostkeys-prove-00), then
 *    verifies every signature, on every connection; OpenSSH's own client asks only with UpdateHostKeys, and only
 *    for keys it does not know. keyfleet pins one host key per host itself and never reads the announcement, so
 *    the proof is a signature per host key (an RSA host key costs the host the most) and a verification here, for
 *    nothing. The announcement is sent without want-reply; if a server asks for one, it gets a refusal, as for any
 *    global request a client does not support.
 *
 * 3. A key login signs at once. ssh2, like OpenSSH's client, first asks whether the server would accept the key
 *    (a publickey request without a signature, answered by PK_OK) and signs only then: one more round trip, and on
 *    the host one more pass over authorized_keys. RFC 4252 (7) lets the client send the signed request directly;
 *    keyfleet holds the private key in memory, so signing costs nothing worth a round trip. A refused key ends the
 *    same way (USERAUTH_FAILURE); ssh2's own retries with other RSA signature algorithms are signed at once too.
 */
import type net from 'node:net';
import type { Client as Ssh2Client, ParsedKey } from 'ssh2';
import type { LoginKey } from './login-key.js';

const HOSTKEYS_ANNOUNCEMENT = 'hostkeys-00@openssh.com';

/** Corks `sock` at its first write in a tick and uncorks it on the next tick. Idempotent per socket. */
export function coalesceWritesPerTick(sock: net.Socket): void {
  if ((sock as CoalescedSocket)[COALESCED]) return;
  const write = sock.write;
  let corked = false;
  const flush = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (!corked && !sock.destroyed) {
      corked = true;
      sock.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as net.Socket['write'];
  (sock as CoalescedSocket)[COALESCED] = true;
}

const COALESCED = Symbol('keyfleet.coalescedWrites');
type CoalescedSocket = net.Socket & { [COALESCED]?: true };

/** ssh2's protocol object, as far as this module reaches into it (present after client.connect()). */
interface ProtocolInternals {
  _handlers?: { GLOBAL_REQUEST?: (proto: unknown, name: string, wantReply: boolean, data: unknown) => void };
  requestFailure?: () => void;
  authPK?: AuthPK;
}
type SignDone = (signature: Buffer) => void;
type AuthPK = (this: ProtocolInternals, username: string, pubKey: ParsedKey, keyAlgo?: string | ((data: Buffer, done: SignDone) => void), cbSign?: (data: Buffer, done: SignDone) => void) => void;

const protocolOf = (client: Ssh2Client) => (client as unknown as { _protocol?: ProtocolInternals })._protocol;

/**
 * Call right after client.connect(). Returns false (and changes nothing) when this ssh2 version's internals are not
 * where they were: the connection then behaves as stock ssh2 does, and the adapter's test of this function fails,
 * so an upgrade cannot silently bring the per-connection proof back.
 */
export function declineHostKeyProofs(client: Ssh2Client): boolean {
  const proto = protocolOf(client);
  const handlers = proto?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!proto || !handlers || typeof original !== 'function' || typeof proto.requestFailure !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name !== HOSTKEYS_ANNOUNCEMENT) return original(p, name, wantReply, data);
    if (wantReply) proto.requestFailure!();
  };
  return true;
}

/**
 * Call right after client.connect(): a publickey attempt with `key` is sent signed, without the query first.
 * Returns false (and changes nothing) when ssh2's protocol object is not as expected; the adapter's test fails then.
 */
export function signKeyLoginAtOnce(client: Ssh2Client, key: LoginKey): boolean {
  const proto = protocolOf(client);
  const authPK = proto?.authPK;
  if (!proto || typeof authPK !== 'function') return false;
  const ours = key.parsed.getPublicSSH();
  proto.authPK = function (this: ProtocolInternals, username, pubKey, keyAlgo, cbSign) {
    const query = cbSign === undefined && typeof keyAlgo !== 'function';
    if (!query || !(pubKey === key.parsed || pubKey.getPublicSSH?.().equals(ours))) return authPK.call(this, username, pubKey, keyAlgo, cbSign);
    return authPK.call(this, username, pubKey, keyAlgo, (data, done) => {
      const signature = key.sign(data, typeof keyAlgo === 'string' ? keyAlgo : key.parsed.type);
      // Nothing has been sent yet: a key that cannot sign takes ssh2's own path (query, then its signing error).
      if (signature instanceof Error) authPK.call(this, username, pubKey, keyAlgo);
      else done(signature);
    });
  } as AuthPK;
  return true;
}
