/**
 * Two things keyfleet changes about how ssh2 uses a connection, both to spend less CPU on the host and here per
 * connection (at fleet scale the machine's CPU per connection is the limit; see bench/hosts-vs-ansible.ts).
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
 */
import type net from 'node:net';
import type { Client as Ssh2Client } from 'ssh2';

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
}

/**
 * Call right after client.connect(). Returns false (and changes nothing) when this ssh2 version's internals are not
 * where they were: the connection then behaves as stock ssh2 does, and the adapter's test of this function fails,
 * so an upgrade cannot silently bring the per-connection proof back.
 */
export function declineHostKeyProofs(client: Ssh2Client): boolean {
  const proto = (client as unknown as { _protocol?: ProtocolInternals })._protocol;
  const handlers = proto?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!proto || !handlers || typeof original !== 'function' || typeof proto.requestFailure !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name !== HOSTKEYS_ANNOUNCEMENT) return original(p, name, wantReply, data);
    if (wantReply) proto.requestFailure!();
  };
  return true;
}
