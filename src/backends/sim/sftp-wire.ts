/**
 * SFTP wire details ssh2's server does not give: reading the strings of an EXTENDED request, and the VERSION reply
 * with extension pairs.
 */
import type { SFTPWrapper } from 'ssh2';

/** SSH wire strings (uint32 length + bytes), as many as the buffer holds. */
export function readStrings(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos + 4 <= data.length; ) {
    const length = data.readUInt32BE(pos);
    if (pos + 4 + length > data.length) break;
    out.push(data.subarray(pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  return out;
}

/**
 * ssh2's SFTP server sends a fixed VERSION packet without extension pairs, so clients (OpenSSH's sftp, ssh2's own
 * client) would never use posix-rename. The packet leaves through `_protocol.channelData`; this swaps that one
 * packet for one naming our extensions and charges the extra bytes to the channel window ssh2 accounts. Tied to
 * ssh2 1.x internals (`_protocol`, `outgoing.window`): if they change, the swap is skipped and nothing breaks.
 */
export function advertiseExtensions(sftp: SFTPWrapper, extensions: Record<string, string>): void {
  const internals = sftp as unknown as { _protocol?: Record<string, unknown>; outgoing?: { window: number } };
  const protocol = internals._protocol;
  const outgoing = internals.outgoing;
  if (!protocol || typeof protocol.channelData !== 'function' || !outgoing || typeof outgoing.window !== 'number')
    return;
  const original = (protocol.channelData as (id: number, data: Buffer) => void).bind(protocol);
  const plainVersion = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);
  const version = versionPacket(extensions);
  let swapped = false;
  internals._protocol = new Proxy(protocol, {
    get(target, prop) {
      if (prop === 'channelData') {
        return (id: number, data: Buffer) => {
          const extra = version.length - plainVersion.length;
          if (!swapped && data.equals(plainVersion) && outgoing.window >= extra) {
            swapped = true;
            outgoing.window -= extra;
            return original(id, version);
          }
          swapped = true;
          return original(id, data);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function versionPacket(extensions: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [name, data] of Object.entries(extensions)) parts.push(sshString(name), sshString(data));
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

function sshString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}
