/**
 * SSH_MSG_DISCONNECT with a description, which ssh2's server cannot send (its disconnect() always leaves the text
 * empty): sshd ends a connection that runs out of MaxAuthTries with "Too many authentication failures", and
 * clients show that text (`Received disconnect from …: 2: Too many authentication failures`).
 *
 * This writes the packet through ssh2's own packet writer (internals of the pinned ssh2 1.x); should those ever be
 * missing, the connection is still closed, only without the text.
 */
import { createRequire } from 'node:module';
import type { Connection } from 'ssh2';

const require = createRequire(import.meta.url);

const MSG_DISCONNECT = 1;
export const DISCONNECT_PROTOCOL_ERROR = 2;

interface PacketWriter {
  allocStartKEX: number;
  alloc(length: number, forceNew: boolean): Buffer;
  finalize(packet: Buffer, force: boolean): Buffer;
}

export function disconnectWithMessage(client: Connection, reason: number, description: string): void {
  try {
    const { sendPacket } = require('ssh2/lib/protocol/utils.js') as {
      sendPacket(proto: unknown, packet: Buffer, bypass: boolean): void;
    };
    const protocol = (client as unknown as { _protocol: { _packetRW: { write: PacketWriter } } })._protocol;
    const writer = protocol._packetRW.write;
    const text = Buffer.from(description, 'utf8');
    const start = writer.allocStartKEX;
    const packet = writer.alloc(1 + 4 + 4 + text.length + 4, true);
    packet[start] = MSG_DISCONNECT;
    packet.writeUInt32BE(reason, start + 1);
    packet.writeUInt32BE(text.length, start + 5);
    text.copy(packet, start + 9);
    packet.writeUInt32BE(0, start + 9 + text.length); // language tag: empty
    sendPacket(protocol, writer.finalize(packet, true), true);
  } catch {
    // Without the internals the client just sees the connection close.
  }
  client.end();
}
