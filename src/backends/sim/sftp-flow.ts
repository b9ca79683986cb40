/**
 * Flow control of one SFTP session, as OpenSSH's sftp-server has it: that server stops reading requests while its
 * output queue could not take one more largest reply, and answers one request at a time. ssh2's SFTP server does
 * neither: it parses every packet the client sends and keeps opening the channel's window, and queues replies in
 * memory without limit when the client does not open its own. A client that sends READs and never reads the
 * answers would then grow this process, which every tenant shares, by 64 KiB per 30-byte request.
 *
 * Here every request is a job: at most MAX_RUNNING run at once, the rest wait in order (so a CLOSE still comes after
 * the READs sent before it); none starts while more than MAX_BACKLOG bytes of replies wait for the client's window;
 * and while MAX_WAITING jobs wait or the backlog is over its bound, what arrives is kept as it came (bytes, not
 * parsed requests) and the channel's window is not opened again, so the client must stop sending. What one session
 * holds is then bounded by the window it was granted (2 MiB, as sshd's own session window) plus MAX_RUNNING
 * replies.
 *
 * Tied to ssh2 1.x internals (`push`, `_buffer`, `_chunkcb`, `_waitChanDrain`, `incoming.window`): if they are
 * missing the hooks are skipped and only the running bound holds.
 */
import type { SFTPWrapper } from 'ssh2';

/** Requests served at once per session (OpenSSH's sftp client keeps 64 in flight). */
export const SFTP_MAX_RUNNING = 64;
/** Requests read and waiting to run before the window stays shut. */
export const SFTP_MAX_WAITING = 256;
/** Bytes of replies waiting for the client's window before no new request starts (OpenSSH: one 256 KiB message). */
export const SFTP_MAX_BACKLOG = 256 * 1024;
/** …or this many replies, so that checking the backlog stays cheap when the replies are small. */
const SFTP_MAX_BACKLOG_REPLIES = 64;
/** ssh2's channel window (lib/Channel.js MAX_WINDOW), refilled when half of it is used. */
const MAX_WINDOW = 2 * 1024 * 1024;

interface Internals {
  push?: (data: Buffer | null) => unknown;
  _buffer?: Buffer[];
  _chunkcb?: (() => void) | undefined;
  _waitChanDrain?: boolean;
  incoming?: { window: number };
  outgoing?: { id: number; state: string };
  _protocol?: { channelWindowAdjust?: (id: number, amount: number) => void };
}

export class SftpFlow {
  private running = 0;
  private readonly waiting: Array<() => Promise<void>> = [];
  /** What the client sent while the bounds were reached, not parsed yet (null: its EOF). */
  private readonly held: Array<Buffer | null> = [];
  private feeding = false;
  private push: ((data: Buffer | null) => unknown) | null = null;
  private readonly internals: Internals;

  constructor(sftp: SFTPWrapper) {
    this.internals = sftp as unknown as Internals;
    this.hookInput(sftp);
    this.hookOutputDrain(sftp);
  }

  /** Runs `work` (one request, ending when its reply is sent) in order, when the bounds allow. */
  submit(work: () => Promise<void>): void {
    this.waiting.push(work);
    this.pump();
  }

  /** Replies waiting for the client's window: over SFTP_MAX_BACKLOG bytes or SFTP_MAX_BACKLOG_REPLIES replies. */
  private outputBacklogged(): boolean {
    const buffered = this.internals._buffer;
    if (!Array.isArray(buffered) || buffered.length === 0) return false;
    if (buffered.length > SFTP_MAX_BACKLOG_REPLIES) return true;
    let bytes = 0;
    for (const b of buffered) bytes += b.length;
    return bytes > SFTP_MAX_BACKLOG;
  }

  private inputBlocked(): boolean {
    return this.waiting.length >= SFTP_MAX_WAITING || this.outputBacklogged();
  }

  private pump(): void {
    while (this.running < SFTP_MAX_RUNNING && this.waiting.length > 0 && !this.outputBacklogged()) {
      const work = this.waiting.shift()!;
      this.running++;
      void work()
        .catch(() => {})
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
    this.resumeInput();
  }

  /** Parses what was held while the bounds allow; then, when all is parsed, lets ssh2 open the window again. */
  private resumeInput(): void {
    if (this.feeding) return;
    this.feeding = true;
    try {
      while (this.held.length > 0 && !this.inputBlocked()) this.push?.(this.held.shift()!);
    } finally {
      this.feeding = false;
    }
    const { incoming, outgoing, _protocol: protocol } = this.internals;
    if (this.held.length > 0 || !this.internals._waitChanDrain || this.inputBlocked()) return;
    this.internals._waitChanDrain = false;
    if (!incoming || !outgoing || outgoing.state !== 'open' || typeof protocol?.channelWindowAdjust !== 'function')
      return;
    if (incoming.window > MAX_WINDOW / 2) return;
    const amount = MAX_WINDOW - incoming.window;
    incoming.window += amount;
    protocol.channelWindowAdjust(outgoing.id, amount);
  }

  /** push() answering false makes ssh2 stop opening the window (server.js CHANNEL_DATA). */
  private hookInput(sftp: SFTPWrapper): void {
    const original = this.internals.push;
    if (typeof original !== 'function') return;
    const push = original.bind(sftp);
    this.push = push;
    this.internals.push = (data) => {
      if (this.held.length > 0 || this.inputBlocked()) {
        this.held.push(data);
        return false;
      }
      const result = push(data);
      return this.inputBlocked() ? false : result;
    };
  }

  /** ssh2 calls `_chunkcb` when the client's window opens and buffered replies go out: start what waits. */
  private hookOutputDrain(sftp: SFTPWrapper): void {
    const descriptor = Object.getOwnPropertyDescriptor(sftp, '_chunkcb');
    if (!descriptor || !descriptor.configurable || !('value' in descriptor)) return;
    let current = descriptor.value as (() => void) | undefined;
    const flow = this;
    Object.defineProperty(sftp, '_chunkcb', {
      configurable: true,
      enumerable: descriptor.enumerable,
      get: () => current,
      set: (fn: (() => void) | undefined) => {
        current =
          typeof fn === 'function'
            ? function (this: unknown) {
                fn.call(this);
                queueMicrotask(() => flow.pump());
              }
            : fn;
      },
    });
  }
}
