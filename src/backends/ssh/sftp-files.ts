/**
 * File operations over SFTP, pipelined where OpenSSH's sftp-server answering requests in order makes that safe:
 * a whole-file read in 2 round trips, a read that opens the replacement's temp file in the same flight, an atomic
 * replace through a sibling temp file (write, fsetstat, fsync; then close and rename), and a directory brought to
 * a mode and owner.
 */
import { randomBytes } from 'node:crypto';
import { posix as posixPath } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import type { RemoteFile } from '../../core/ports.js';
import type { FileAttrs, RemoteDir } from './session-types.js';

const MAX_FILE_BYTES = 8 * 1024 * 1024;
const FIRST_READ_BYTES = 64 * 1024;
export const SFTP_NO_SUCH_FILE = 2;

export type SftpError = Error & { code?: number };

export function sftpCall<T>(start: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
}

export function sftpPath(path: string): string {
  if (path === '~') return '.';
  return path.startsWith('~/') ? path.slice(2) || '.' : path;
}

export function describeSftpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as SftpError).code;
  return typeof code === 'number' ? `${err.message} (SFTP status ${code})` : err.message;
}

/** open → [fstat ‖ read] → fire-and-forget close: 2 round trips for a file under 64 KiB. */
export async function readWholeFile(sftp: SFTPWrapper, path: string): Promise<RemoteFile | null> {
  let handle: Buffer;
  try {
    handle = await sftpCall<Buffer>((cb) => sftp.open(path, 'r', cb));
  } catch (err) {
    if ((err as SftpError).code === SFTP_NO_SUCH_FILE) return null;
    throw err;
  }
  try {
    const [stats, first] = await Promise.all([
      sftpCall<Stats>((cb) => sftp.fstat(handle, cb)),
      readChunk(sftp, handle, 0, FIRST_READ_BYTES),
    ]);
    if (!stats.isFile()) throw new Error('not a regular file');
    const chunks = [first];
    let total = first.length;
    // Short reads are allowed by SFTP: keep going until EOF unless the size from fstat is already covered.
    for (let last = first; !(total >= stats.size && last.length < FIRST_READ_BYTES) && last.length > 0; ) {
      if (total > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      last = await readChunk(sftp, handle, total, FIRST_READ_BYTES);
      chunks.push(last);
      total += last.length;
    }
    return {
      content: Buffer.concat(chunks).toString('utf8'),
      mode: stats.mode & 0o7777,
      uid: stats.uid,
      gid: stats.gid,
    };
  } finally {
    sftp.close(handle, () => undefined);
  }
}

function readChunk(sftp: SFTPWrapper, handle: Buffer, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  return new Promise((resolve, reject) => {
    sftp.read(handle, buf, 0, length, position, (err, bytesRead) =>
      err ? reject(err) : resolve(buf.subarray(0, bytesRead)),
    );
  });
}

export interface OpenTemp {
  path: string;
  handle: Buffer;
}

/**
 * One flight: open the file ‖ stat its directory ‖ open a new temp file beside it (O_EXCL, 0600 until the write
 * sets the real mode); then the read's [fstat ‖ read]. A temp that cannot be opened (no directory yet, no right)
 * is not an error here: the write opens one itself, after the caller has made the directory.
 */
export async function readWithTempBeside(
  sftp: SFTPWrapper,
  path: string,
): Promise<{ current: RemoteFile | null; directory: RemoteDir | null; temp: OpenTemp | null }> {
  const tempPath = tempSiblingOf(path);
  const [current, directory, temp] = await Promise.allSettled([
    readWholeFile(sftp, path),
    sftpCall<Stats>((cb) => sftp.stat(posixPath.dirname(path), cb)).then(
      (st): RemoteDir | null => (st.isDirectory() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : null),
      (err: SftpError) => {
        if (err.code === SFTP_NO_SUCH_FILE) return null;
        throw err;
      },
    ),
    sftpCall<Buffer>((cb) => sftp.open(tempPath, 'wx', { mode: 0o600 }, cb)).then(
      (handle) => ({ path: tempPath, handle }),
      () => null,
    ),
  ]);
  const failed = [current, directory].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    if (temp.status === 'fulfilled' && temp.value) await removeTemp(sftp, temp.value, true);
    throw failed.reason;
  }
  return {
    current: (current as PromiseFulfilledResult<RemoteFile | null>).value,
    directory: (directory as PromiseFulfilledResult<RemoteDir | null>).value,
    temp: (temp as PromiseFulfilledResult<OpenTemp | null>).value,
  };
}

/** Best effort, but awaited: the caller is told of a failure only once the temp file is gone. */
export async function removeTemp(sftp: SFTPWrapper, temp: OpenTemp, open: boolean): Promise<void> {
  if (open) sftp.close(temp.handle, () => undefined); // answered in order, before the unlink
  await new Promise<void>((resolve) => sftp.unlink(temp.path, () => resolve()));
}

/**
 * A new temp file in the same directory (O_EXCL) → [write ‖ fsetstat ‖ fsync] → close → rename over the target.
 * The target is replaced whole or not at all; on any failure the temp file is removed.
 */
export async function writeViaTempAndRename(
  sftp: SFTPWrapper,
  path: string,
  data: Buffer,
  attrs: FileAttrs,
): Promise<void> {
  const tempPath = tempSiblingOf(path);
  const handle = await sftpCall<Buffer>((cb) => sftp.open(tempPath, 'wx', { mode: attrs.mode & 0o7777 }, cb));
  await fillTempAndRename(sftp, { path: tempPath, handle }, path, data, attrs);
}

export async function fillTempAndRename(
  sftp: SFTPWrapper,
  temp: OpenTemp,
  path: string,
  data: Buffer,
  attrs: FileAttrs,
): Promise<void> {
  const { path: tempPath, handle } = temp;
  let open = true;
  try {
    const wanted = await withOwnerFilled(sftp, handle, attrs);
    // allSettled, not all: every request in flight must be answered before the temp file is cleaned up, or a late
    // write could land after the unlink.
    const settled = await Promise.allSettled([
      writeAll(sftp, handle, data),
      sftpCall<void>((cb) => sftp.fsetstat(handle, wanted, cb)),
      fsyncIfOffered(sftp, handle),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    open = false;
    // Pipelined: the server answers in order, so the rename is handled after the close (one round trip less).
    const [closed, renamed] = await Promise.allSettled([
      sftpCall<void>((cb) => sftp.close(handle, cb)),
      renameOver(sftp, tempPath, path),
    ]);
    if (closed.status === 'rejected') throw closed.reason;
    if (renamed.status === 'rejected') throw renamed.reason;
  } catch (err) {
    await removeTemp(sftp, temp, open);
    throw err;
  }
}

function tempSiblingOf(path: string): string {
  const dir = posixPath.dirname(path);
  const name = `.${posixPath.basename(path)}.keyfleet-${randomBytes(6).toString('hex')}.tmp`;
  return dir === '.' ? name : posixPath.join(dir, name);
}

/** SFTP sets owner as a uid+gid pair; if only one was asked for, the other stays as it is. */
async function withOwnerFilled(
  sftp: SFTPWrapper,
  handle: Buffer,
  attrs: FileAttrs,
): Promise<{ mode: number; uid?: number; gid?: number }> {
  const mode = attrs.mode & 0o7777;
  if (attrs.uid === undefined && attrs.gid === undefined) return { mode };
  if (attrs.uid !== undefined && attrs.gid !== undefined) return { mode, uid: attrs.uid, gid: attrs.gid };
  const current = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb));
  return { mode, uid: attrs.uid ?? current.uid, gid: attrs.gid ?? current.gid };
}

function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  // ssh2 splits writes larger than the server's limit into sequential requests itself.
  return sftpCall<void>((cb) => sftp.write(handle, data, 0, data.length, 0, cb));
}

function fsyncIfOffered(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  // Without fsync@openssh.com the rename still keeps the target whole; only crash durability is weaker.
  return callExtension((cb) => sftp.ext_openssh_fsync(handle, cb)).then(() => undefined);
}

/** posix-rename@openssh.com replaces atomically; plain SFTP rename refuses an existing target, so step around it. */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  if (await callExtension((cb) => sftp.ext_openssh_rename(from, to, cb))) return;
  await renameAroundExisting(sftp, from, to);
}

/** Resolves false when the server did not offer the extension (ssh2 throws synchronously in that case). */
function callExtension(start: (cb: (err: Error | null | undefined) => void) => void): Promise<boolean> {
  return new Promise((resolve, reject) => {
    try {
      start((err) => (err ? reject(err) : resolve(true)));
    } catch (err) {
      if (err instanceof Error && /does not support/.test(err.message)) resolve(false);
      else reject(err);
    }
  });
}

async function renameAroundExisting(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  const direct = await sftpCall<void>((cb) => sftp.rename(from, to, cb)).then(
    () => true,
    () => false,
  );
  if (direct) return;
  const aside = `${to}.keyfleet-old-${randomBytes(4).toString('hex')}`;
  await sftpCall<void>((cb) => sftp.rename(to, aside, cb));
  try {
    await sftpCall<void>((cb) => sftp.rename(from, to, cb));
  } catch (err) {
    await sftpCall<void>((cb) => sftp.rename(aside, to, cb));
    throw err;
  }
  sftp.unlink(aside, () => undefined);
}

/** mkdir ‖ stat (the stat sees the mkdir's result), then setstat only if mode or owner differ. */
export async function ensureDirectory(sftp: SFTPWrapper, path: string, attrs: FileAttrs): Promise<void> {
  const mode = attrs.mode & 0o7777;
  const [mkdirErr, stats] = await Promise.all([
    sftpCall<void>((cb) => sftp.mkdir(path, { mode }, cb)).then(
      () => null,
      (err: Error) => err,
    ),
    sftpCall<Stats>((cb) => sftp.stat(path, cb)).catch((err: Error) => err),
  ]);
  if (stats instanceof Error) throw mkdirErr ?? stats;
  if (!stats.isDirectory()) throw new Error('exists and is not a directory');
  const uid = attrs.uid ?? stats.uid;
  const gid = attrs.gid ?? stats.gid;
  if ((stats.mode & 0o7777) === mode && stats.uid === uid && stats.gid === gid) return;
  const change = attrs.uid === undefined && attrs.gid === undefined ? { mode } : { mode, uid, gid };
  await sftpCall<void>((cb) => sftp.setstat(path, change, cb));
}
