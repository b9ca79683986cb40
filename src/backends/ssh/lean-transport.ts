/**
 * Five things keyfleet changes about how ssh2 uses a connection, to spend fewer round trips and less CPU on the
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
 *
 * 4. SFTP's INIT leaves in the same flight as its first requests. ssh2 opens the session channel, asks for the subsystem
 *    and waits for the reply, sends INIT and waits for VERSION, then (OpenSSH) asks for the server's limits and
 *    waits again: four round trips before the first request can leave. OpenSSH's sshd opens a session channel
 *    with an empty window and grants one only once the subsystem has started (so nothing sent early can reach a
 *    refused one), and sftp-server answers requests in order after INIT. So keyfleet asks for the subsystem as
 *    soon as the channel is open, and queues INIT and its first requests behind it: they leave the moment the
 *    window arrives, with the subsystem's reply. Two round trips from an open channel to the first answer.
 *    Other servers get ssh2's own sequence.
 *
 * 5. A server notice that needs no answer is acknowledged at once. Right after a login OpenSSH's sshd sends its
 *    hostkeys-00 announcement and a DEBUG notice (the key's options), then answers the channel open. Its socket
 *    has Nagle's algorithm on until a session starts, so the answer waits until those notices are acknowledged,
 *    and this side's kernel delays an acknowledgement it cannot piggyback on data for 40 ms: every session
 *    stalled 40 ms between login and channel. An SSH_MSG_IGNORE sent in reply carries the acknowledgement.
 */
import type net from 'node:net';
import type { Client as Ssh2Client, ParsedKey, SFTPWrapper } from 'ssh2';
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
  _handlers?: {
    GLOBAL_REQUEST?: (proto: unknown, name: string, wantReply: boolean, data: unknown) => void;
    DEBUG?: (proto: unknown, message: string) => void;
  };
  requestFailure?: () => void;
  authPK?: AuthPK;
  /** Set while a key exchange is in progress: packets must then wait (ssh2 queues them). */
  _kexinit?: unknown;
  _cipher?: { encrypt(packet: Buffer): void };
  _packetRW?: { write: { allocStart: number; alloc(length: number): Buffer; finalize(packet: Buffer): Buffer } };
}
type SignDone = (signature: Buffer) => void;
type AuthPK = (
  this: ProtocolInternals,
  username: string,
  pubKey: ParsedKey,
  keyAlgo?: string | ((data: Buffer, done: SignDone) => void),
  cbSign?: (data: Buffer, done: SignDone) => void,
) => void;

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

/** SSH_MSG_IGNORE with an empty string: a packet the server discards. */
const IGNORE_PAYLOAD = Buffer.from([2, 0, 0, 0, 0]);

/**
 * Call right after client.connect() for a connection that will open a session: server notices without a reply
 * (a global request without want-reply, DEBUG) are answered with one SSH_MSG_IGNORE per tick, so the TCP
 * acknowledgement leaves at once (point 5 above). Never after this side has ended the connection, nor during a key
 * exchange. Returns false (and changes nothing) when ssh2's protocol object is not as expected.
 */
export function acknowledgeServerNotices(client: Ssh2Client, sock: net.Socket): boolean {
  const proto = protocolOf(client);
  const handlers = proto?._handlers;
  const writerNow = proto?._packetRW?.write;
  if (!proto || !handlers || typeof writerNow?.alloc !== 'function' || typeof writerNow.finalize !== 'function')
    return false;
  let sentThisTick = false;
  const acknowledge = () => {
    // The writer is replaced at every key exchange: look it up now.
    const writer = proto._packetRW?.write;
    if (
      sentThisTick ||
      sock.writableEnded ||
      sock.destroyed ||
      proto._kexinit !== undefined ||
      !proto._cipher ||
      !writer
    )
      return;
    sentThisTick = true;
    process.nextTick(() => (sentThisTick = false));
    const start = writer.allocStart;
    const packet = writer.alloc(IGNORE_PAYLOAD.length);
    packet.set(IGNORE_PAYLOAD, start);
    proto._cipher.encrypt(writer.finalize(packet));
  };
  const globalRequest = handlers.GLOBAL_REQUEST;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (!wantReply) acknowledge();
    return globalRequest?.(p, name, wantReply, data);
  };
  const debug = handlers.DEBUG;
  handlers.DEBUG = (p, message) => {
    acknowledge();
    return debug?.(p, message);
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
    if (!query || !(pubKey === key.parsed || pubKey.getPublicSSH?.().equals(ours)))
      return authPK.call(this, username, pubKey, keyAlgo, cbSign);
    return authPK.call(this, username, pubKey, keyAlgo, (data, done) => {
      const signature = key.sign(data, typeof keyAlgo === 'string' ? keyAlgo : key.parsed.type);
      // Nothing has been sent yet: a key that cannot sign takes ssh2's own path (query, then its signing error).
      if (signature instanceof Error) authPK.call(this, username, pubKey, keyAlgo);
      else done(signature);
    });
  } as AuthPK;
  return true;
}

/** ssh2's client, as far as openSftpAtOnce reaches into it (present after 'ready'). */
interface ClientInternals {
  _chanMgr?: { add(value: unknown): number };
  _protocol?: {
    _remoteIdentRaw?: string;
    session?(localChannel: number, window: number, packetSize: number): void;
    subsystem?(remoteChannel: number, name: string, wantReply: boolean): void;
  };
}
/** ssh2's SFTP channel before it is started: the parts its own client.sftp() uses. */
type UnstartedSftp = SFTPWrapper & {
  outgoing: { id: number };
  subtype?: string;
  _callbacks: Array<(failed: boolean) => void>;
  _init(): void;
};
/** What ssh2 itself offers a session channel (lib/Channel.js). */
const SESSION_WINDOW = 2 * 1024 * 1024;
const SESSION_PACKET_SIZE = 32 * 1024;
const OPENSSH = /^SSH-2\.0-OpenSSH_/;

export interface SftpStart {
  /** Usable at once: requests made now leave with INIT, as soon as the server grants the channel's window. */
  sftp: SFTPWrapper;
  /**
   * Why the subsystem did not start (refused, or ended before VERSION), once known; the channel is then closed,
   * which fails every request in flight, and it is known before those failures arrive.
   */
  failure(): Error | null;
}

/**
 * Opens a session channel and, as soon as the server confirms it, asks for the sftp subsystem and queues INIT
 * without waiting. Resolves then, so the caller's first requests are queued behind INIT and leave with it.
 * Returns null (and does nothing) when the server is not OpenSSH or ssh2's internals are not where they were; the
 * caller then uses client.sftp(), and the adapter's test of this function fails, so an upgrade cannot silently
 * bring the round trips back.
 */
export function openSftpAtOnce(client: Ssh2Client): Promise<SftpStart> | null {
  const { _chanMgr: channels, _protocol: proto } = client as unknown as ClientInternals;
  if (
    !channels ||
    typeof channels.add !== 'function' ||
    !proto ||
    typeof proto.session !== 'function' ||
    typeof proto.subsystem !== 'function'
  )
    return null;
  if (!OPENSSH.test(proto._remoteIdentRaw ?? '')) return null;
  return new Promise<SftpStart>((resolve, reject) => {
    // ssh2 makes an SFTP object (not a plain channel) for an open request whose callback is typed 'sftp'.
    const onOpen = Object.assign(
      (err: Error | undefined, channel: UnstartedSftp) => {
        if (err) return reject(err);
        resolve(startSubsystem(channel, proto));
      },
      { type: 'sftp' },
    );
    const local = channels.add(onOpen);
    if (local === -1) return reject(new Error('no free SSH channel'));
    proto.session!(local, SESSION_WINDOW, SESSION_PACKET_SIZE);
  });
}

function startSubsystem(sftp: UnstartedSftp, proto: NonNullable<ClientInternals['_protocol']>): SftpStart {
  let started = false;
  let failure: Error | null = null;
  const fail = (err: Error) => {
    if (started || failure) return;
    failure = err;
    // Requests queued behind INIT never leave (no window is granted); closing the channel fails them here.
    sftp.end();
  };
  // An SFTP protocol error later on is reported to the request it concerns; without a listener it would throw.
  sftp.on('error', fail);
  sftp.once('ready', () => (started = true));
  const ended = (code?: number | null) =>
    fail(
      new Error(
        typeof code === 'number'
          ? `the subsystem exited with code ${code} before it started`
          : 'the SFTP session ended before it started',
      ),
    );
  sftp
    .once('exit', ended)
    .once('end', () => ended())
    .once('close', () => ended());
  sftp._callbacks.push((refused) => {
    if (refused) fail(new Error('the server refused the sftp subsystem'));
    else sftp.subtype = 'subsystem';
  });
  proto.subsystem!(sftp.outgoing.id, 'sftp', true);
  sftp._init();
  return { sftp, failure: () => failure };
}
