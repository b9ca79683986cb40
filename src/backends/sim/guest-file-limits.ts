/**
 * The size limits on guest files the simulated sshd reads. Every tenant's instances are served by one keyfleet
 * process, so a file a guest's root writes must not let one login read (and parse) megabytes on the shared event
 * loop. A file over its limit is never read past the limit: the caller fails safe (no key, no account, no config —
 * the login is refused), as sshd refuses what it cannot trust.
 *
 * The limits, and why:
 * - authorized_keys / RevokedKeys: 1 MiB per file, lines over 16 KiB skipped. OpenSSH's largest public key blob is
 *   16 KiB (SSH_MAX_PUBKEY_BYTES) and a line is that plus options; a thousand RSA-4096 lines with options fit in
 *   1 MiB. Lines after the first MiB are not read, so keys listed there are not accepted.
 * - /etc/passwd, /etc/group, /etc/shadow: 1 MiB (some ten thousand accounts); an oversized file has no usable
 *   account, so no one logs in.
 * - sshd_config with all its included files: 256 KiB in all (Debian's is 3 KiB); more makes the config unusable,
 *   so every login is refused and `sshd -t` reports it.
 * - /etc/hostname: 256 bytes (HOST_NAME_MAX is 64).
 */
import fsp from 'node:fs/promises';
import { CoreError } from '../../core/errors.js';
import { hostPath } from './rootfs.js';

export const AUTHORIZED_KEYS_MAX_BYTES = 1024 * 1024;
export const AUTHORIZED_KEYS_MAX_LINE = 16 * 1024;
export const ACCOUNT_FILE_MAX_BYTES = 1024 * 1024;
export const SSHD_CONFIG_MAX_BYTES = 256 * 1024;
export const HOSTNAME_MAX_BYTES = 256;

/**
 * A guest file over its limit, as a coded error (Instance.GuestFileTooLarge) that every face maps: the message names
 * the guest's path when the caller knows it, never the host path under keyfleet's data directory.
 */
export class GuestFileTooLarge extends CoreError {
  constructor(
    readonly hostFile: string,
    readonly limit: number,
    guestFile?: string,
    consequence?: string,
  ) {
    super(
      'Instance.GuestFileTooLarge',
      `${guestFile ? `The instance's ${guestFile}` : 'A file of the instance'} is larger than ${limit} bytes, ` +
        `which keyfleet does not read${consequence ? `: ${consequence}` : ''}.`,
      { ...(guestFile ? { file: guestFile } : {}), limitBytes: limit },
    );
  }
}

/** The file's first `limit` bytes, and whether it holds more. Never reads more than limit + 1 bytes. */
export async function readHead(hostFile: string, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const handle = await fsp.open(hostFile, 'r');
  try {
    // Sized by the file as it is now (a small file costs a small buffer), grown if it grows while being read.
    const { size } = await handle.stat();
    let buf = Buffer.alloc(Math.min(limit + 1, Math.max(size + 1, 4096)));
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        if (buf.length > limit) break;
        const bigger = Buffer.alloc(Math.min(limit + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { bytes: buf.subarray(0, Math.min(filled, limit)), truncated: filled > limit };
  } finally {
    await handle.close();
  }
}

/** The whole file as text, or GuestFileTooLarge when it is over `limit` bytes. */
export async function readCapped(hostFile: string, limit: number): Promise<string> {
  const { bytes, truncated } = await readHead(hostFile, limit);
  if (truncated) throw new GuestFileTooLarge(hostFile, limit);
  return bytes.toString('utf8');
}

/** The first line of /etc/hostname (read up to HOSTNAME_MAX_BYTES), or `localhost`. */
export async function readGuestHostname(rootDir: string): Promise<string> {
  const head = await Promise.resolve()
    .then(() => readHead(hostPath(rootDir, '/etc/hostname'), HOSTNAME_MAX_BYTES))
    .catch(() => null);
  return head?.bytes.toString('utf8').split('\n')[0]?.trim() || 'localhost';
}
