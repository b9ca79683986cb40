/**
 * Names for the parts of the core's LiveSession (src/core/ports.ts) that the port spells inline: the adapter's
 * files share these, derived from the port so that they cannot drift from it.
 *
 * Paths are as the server's SFTP subsystem sees them: absolute, or relative to the login's home directory (a
 * leading `~/` is accepted and means the same). `RemoteFile.mode` holds the permission bits only (mode & 0o7777),
 * ready to pass back to writeFileAtomic. `ExecResult.code` is the exit status, or 128 + signal number if the command
 * was killed by a signal.
 */
import type { LiveSession, ReplaceableFile } from '../../core/ports.js';

/** Mode (permission bits) and optional owner of a file or directory to write. */
export type FileAttrs = Parameters<LiveSession['writeFileAtomic']>[2];
/** A directory as a read found it. */
export type RemoteDir = NonNullable<ReplaceableFile['directory']>;
export type ExecResult = Awaited<ReturnType<LiveSession['exec']>>;
