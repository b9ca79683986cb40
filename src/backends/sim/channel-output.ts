/**
 * A session channel as the destination of command output, with backpressure: each piece is handed to the channel
 * and the command goes on only once ssh2 has sent it (the write's callback), so a client that stops reading (its
 * window shut) holds one piece in this process, not everything the command would print. ssh2's own high-water mark
 * is the 2 MiB window, too much to allow per session when every tenant's sessions share the process.
 *
 * With a terminal, stdout and stderr are one stream and each LF leaves as CR LF (a pty's ONLCR), done on bytes so
 * that a piece ending in CR or in the middle of a UTF-8 character is carried over correctly.
 */
import type { ServerChannel } from 'ssh2';
import { paceInstanceOutput } from './instance-bandwidth.js';
import type { CommandOutput } from './sshd-commands.js';

/** The longest line a shell session takes (a longer one is refused whole); Linux's MAX_ARG_STRLEN is 128 KiB. */
export const MAX_SHELL_LINE = 64 * 1024;
/** Lines a shell session queues before it stops reading its input. */
export const MAX_WAITING_LINES = 16;

/** `rootDir`: the instance whose bandwidth the output is paced by (instance-bandwidth.ts). */
export function channelOutput(channel: ServerChannel, terminal: boolean, rootDir: string): CommandOutput {
  let closed = false;
  let lastByte = -1;
  const waiters = new Set<() => void>();
  channel.once('close', () => {
    closed = true;
    for (const wake of waiters) wake();
    waiters.clear();
  });
  const send = (stream: NodeJS.WritableStream, data: Buffer): Promise<void> => {
    if (closed || data.length === 0) return Promise.resolve();
    let bytes = data;
    if (terminal) {
      bytes = onlcr(data, lastByte);
      lastByte = data[data.length - 1]!;
    }
    return paceInstanceOutput(rootDir, bytes.length).then(
      () =>
        new Promise<void>((resolve) => {
          if (closed) return resolve();
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          // ssh2 calls back once the bytes are sent, never when the channel closed first: the close wakes us then.
          stream.write(bytes, () => wake());
        }),
    );
  };
  return {
    out: (data) => send(channel, data),
    err: (data) => send(terminal ? channel : channel.stderr, data),
    get closed() {
      return closed || channel.destroyed;
    },
  };
}

/** Resolves once everything written to the channel so far has been sent (or the channel has closed). */
export function whenFlushed(channel: ServerChannel): Promise<void> {
  return new Promise((resolve) => {
    if (channel.destroyed || channel.writableEnded) return resolve();
    const onClose = () => resolve();
    channel.once('close', onClose);
    channel.write(Buffer.alloc(0), () => {
      channel.off('close', onClose);
      resolve();
    });
  });
}

/** LF → CR LF unless the LF already follows a CR (also across pieces: `before` is the last byte of the previous). */
function onlcr(data: Buffer, before: number): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0x0a && (i > 0 ? data[i - 1] : before) !== 0x0d) extra++;
  if (extra === 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a && (i > 0 ? data[i - 1] : before) !== 0x0d) out[j++] = 0x0d;
    out[j++] = data[i]!;
  }
  return out;
}
