/**
 * The `sftp` subsystem of a simulated instance (what `Subsystem sftp internal-sftp` gives on a real host), served
 * over ssh2's SFTP server protocol. Every path is a guest path mapped through hostPath, so nothing outside the
 * instance's root directory is reachable; paths relative to the login's home resolve against it.
 *
 * Differences from OpenSSH's sftp-server, by design or because ssh2 does not expose them:
 * - RENAME overwrites an existing target atomically (rename(2)), as keyfleet's temp-file-then-rename relies on;
 *   OpenSSH refuses to overwrite with plain RENAME and needs posix-rename@openssh.com, which is offered too.
 * - uid/gid in SETSTAT/FSETSTAT are accepted and ignored; every file is reported as owned by 0:0 (root).
 * - Symlinks are always followed (LSTAT answers like STAT); READLINK and SYMLINK are unsupported.
 * - Modes keep the permission bits only: setuid, setgid and sticky are dropped (they would land on a host file).
 * - Growth is bounded by the instance's disk quota (disk-quota.ts): a write, resize, new file or directory that
 *   does not fit fails with `No space left on device`.
 * - Extensions offered: posix-rename@openssh.com, fsync@openssh.com. ssh2 advertises none on its own, so the
 *   VERSION reply is rewritten on its way out (sftp-wire.ts).
 *
 * Bounds, since every tenant's sessions share this process and its file descriptors (OpenSSH's sftp-server is a
 * process of its own per session, limited by RLIMIT_NOFILE):
 * - Open handles (files and directories, one descriptor each): SFTP_MAX_HANDLES per session and
 *   SFTP_MAX_HANDLES_PER_INSTANCE over all sessions of one instance; past them OPEN and OPENDIR fail with
 *   "Too many open handles" and nothing is opened.
 * - READ sends at most MAX_READ bytes per request (a shorter answer is what the protocol allows; clients ask again);
 *   WRITE carries at most ssh2's packet limit, 256 KiB, as OpenSSH's SFTP_MAX_MSG_LENGTH.
 * - READDIR reads the directory as it goes (an open directory holds its position, not its names) and answers at
 *   most READDIR_BATCH names per request, as sftp-server's 100.
 * - Requests run at most 64 at a time, and the client must stop sending while replies wait (sftp-flow.ts).
 * - File data sent is paced by the instance's bandwidth (instance-bandwidth.ts), shared with command output.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import { isCoreError } from '../../core/errors.js';
import { type DiskQuota, ENTRY_BYTES, FileReservations, noSpace } from './disk-quota.js';
import { paceInstanceOutput } from './instance-bandwidth.js';
import { hostPath } from './rootfs.js';
import { SftpFlow } from './sftp-flow.js';
import { advertiseExtensions, readStrings } from './sftp-wire.js';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;
export const MAX_READ = 64 * 1024;
export const READDIR_BATCH = 100;
export const SFTP_MAX_HANDLES = 64;
export const SFTP_MAX_HANDLES_PER_INSTANCE = 256;
/** Open handles per instance (rootDir), over all its sessions. */
const instanceHandles = new Map<string, number>();
const EXTENSIONS: Record<string, string> = { 'posix-rename@openssh.com': '1', 'fsync@openssh.com': '1' };

type OpenFile = {
  kind: 'file';
  handle: fsp.FileHandle;
  inflight: Set<Promise<unknown>>;
  reservations: FileReservations;
};
/** Permission bits only: setuid, setgid and sticky would be set on the keyfleet host's own file. */
const PERMISSION_BITS = 0o777;
/** An open directory: its descriptor and position; `.` and `..` are answered first. */
type OpenDir = { kind: 'dir'; hostDir: string; dir: fs.Dir; dotsSent: boolean; done: boolean };

export function serveSftp(sftp: SFTPWrapper, opts: { rootDir: string; home: string; quota: DiskQuota }): void {
  advertiseExtensions(sftp, EXTENSIONS);
  const handles = new Map<number, OpenFile | OpenDir>();
  const flow = new SftpFlow(sftp);
  let nextHandle = 1;
  /** Slots taken by opens still under way. */
  let reserved = 0;

  const guestPath = (p: string): string =>
    p === '' ? opts.home : path.posix.isAbsolute(p) ? p : path.posix.join(opts.home, p);
  const resolve = (p: string): string => hostPath(opts.rootDir, guestPath(p));
  const handleId = (buf: Buffer): number => (buf.length === 4 ? buf.readUInt32BE(0) : -1);
  /** Takes a handle slot of the session and of the instance, or throws before anything is opened. */
  const reserveHandle = () => {
    const ofInstance = instanceHandles.get(opts.rootDir) ?? 0;
    if (handles.size + reserved >= SFTP_MAX_HANDLES || ofInstance >= SFTP_MAX_HANDLES_PER_INSTANCE)
      throw tooManyHandles();
    reserved++;
    instanceHandles.set(opts.rootDir, ofInstance + 1);
    let released = false;
    return {
      /** The open failed: give the slot back. */
      release() {
        if (released) return;
        released = true;
        reserved--;
        dropInstanceHandle(opts.rootDir);
      },
      /** The open succeeded: the slot now belongs to the handle (freed by CLOSE or the end of the session). */
      use(entry: OpenFile | OpenDir): Buffer {
        released = true;
        reserved--;
        const id = nextHandle++;
        handles.set(id, entry);
        const buf = Buffer.alloc(4);
        buf.writeUInt32BE(id >>> 0, 0);
        return buf;
      },
    };
  };
  const closeEntry = async (entry: OpenFile | OpenDir) => {
    dropInstanceHandle(opts.rootDir);
    if (entry.kind === 'file') await entry.handle.close();
    else await entry.dir.close();
  };
  const fileOf = (buf: Buffer): OpenFile | null => {
    const entry = handles.get(handleId(buf));
    return entry?.kind === 'file' ? entry : null;
  };

  /** Runs one request's work; any thrown error becomes the status OpenSSH would send for it. */
  const serve = (reqId: number, work: () => Promise<void>): Promise<void> =>
    work().catch((err: unknown) => {
      const [code, message] = statusFor(err);
      sftp.status(reqId, code, message);
    });
  // Every request goes through the session's flow control (order kept, bounded work and replies).
  // Typed as sftp.on (its overloads type each handler's arguments); a handler returns its request's promise.
  const on = ((event: string, handler: (...args: unknown[]) => unknown) =>
    sftp.on(
      event as never,
      ((...args: unknown[]) =>
        flow.submit(async () => {
          await handler(...args);
        })) as never,
    )) as unknown as SFTPWrapper['on'];
  const ok = (reqId: number) => sftp.status(reqId, STATUS_CODE.OK, 'Success');
  const badHandle = (reqId: number) => sftp.status(reqId, STATUS_CODE.FAILURE, 'Invalid handle');

  on('OPEN', (reqId, filename, flags, attrs: Partial<Attributes>) =>
    serve(reqId, async () => {
      const mode = typeof attrs.mode === 'number' ? attrs.mode & PERMISSION_BITS : 0o666;
      const target = resolve(filename);
      const creates = (flags & OPEN_MODE.CREAT) !== 0 && (await fsp.lstat(target).catch(() => null)) === null;
      const slot = reserveHandle();
      try {
        if (creates && !(await opts.quota.allowGrowth(opts.rootDir, ENTRY_BYTES))) throw noSpace();
        const handle = await fsp.open(target, openFlags(flags), mode);
        const size = await handle.stat().then(
          (s) => s.size,
          () => 0,
        );
        const reservations = new FileReservations(opts.quota, opts.rootDir, size);
        sftp.handle(reqId, slot.use({ kind: 'file', handle, inflight: new Set(), reservations }));
      } finally {
        slot.release();
      }
    }),
  );

  on('READ', (reqId, handleBuf, offset, length) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    return track(
      file,
      serve(reqId, async () => {
        const buf = Buffer.alloc(Math.min(length, MAX_READ));
        const { bytesRead } = await file.handle.read(buf, 0, buf.length, offset);
        await paceInstanceOutput(opts.rootDir, bytesRead);
        if (bytesRead === 0) sftp.status(reqId, STATUS_CODE.EOF, 'End of file');
        else sftp.data(reqId, buf.subarray(0, bytesRead));
      }),
    );
  });

  on('WRITE', (reqId, handleBuf, offset, data) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    return track(
      file,
      serve(reqId, async () => {
        if (!(await file.reservations.reserveUpTo(offset + data.length))) throw noSpace();
        await file.handle.write(data, 0, data.length, offset);
        ok(reqId);
      }),
    );
  });

  on('CLOSE', (reqId, handleBuf) => {
    const id = handleId(handleBuf);
    const entry = handles.get(id);
    if (!entry) return badHandle(reqId);
    handles.delete(id);
    return serve(reqId, async () => {
      if (entry.kind === 'file') await Promise.allSettled([...entry.inflight]);
      await closeEntry(entry);
      ok(reqId);
    });
  });

  on('FSTAT', (reqId, handleBuf) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    return serve(reqId, async () => sftp.attrs(reqId, attributesOf(await file.handle.stat())));
  });
  const statPath = (reqId: number, p: string) =>
    serve(reqId, async () => sftp.attrs(reqId, attributesOf(await fsp.stat(resolve(p)))));
  on('STAT', statPath);
  on('LSTAT', statPath);

  on('FSETSTAT', (reqId, handleBuf, attrs: Partial<Attributes>) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    return serve(reqId, async () => {
      if (typeof attrs.size === 'number') {
        if (!(await file.reservations.reserveUpTo(attrs.size))) throw noSpace();
        await file.handle.truncate(attrs.size);
      }
      if (typeof attrs.mode === 'number') await file.handle.chmod(attrs.mode & PERMISSION_BITS);
      if (typeof attrs.atime === 'number' && typeof attrs.mtime === 'number')
        await file.handle.utimes(attrs.atime, attrs.mtime);
      ok(reqId);
    });
  });
  on('SETSTAT', (reqId, p, attrs: Partial<Attributes>) =>
    serve(reqId, async () => {
      const target = resolve(p);
      if (typeof attrs.size === 'number') {
        const growth = attrs.size - (await fsp.stat(target)).size;
        if (!(await opts.quota.allowGrowth(opts.rootDir, growth))) throw noSpace();
        await fsp.truncate(target, attrs.size);
      }
      if (typeof attrs.mode === 'number') await fsp.chmod(target, attrs.mode & PERMISSION_BITS);
      if (typeof attrs.atime === 'number' && typeof attrs.mtime === 'number')
        await fsp.utimes(target, attrs.atime, attrs.mtime);
      ok(reqId);
    }),
  );

  on('OPENDIR', (reqId, p) =>
    serve(reqId, async () => {
      const hostDir = resolve(p);
      const slot = reserveHandle();
      try {
        const dir = await fsp.opendir(hostDir, { bufferSize: 32 });
        sftp.handle(reqId, slot.use({ kind: 'dir', hostDir, dir, dotsSent: false, done: false }));
      } finally {
        slot.release();
      }
    }),
  );
  on('READDIR', (reqId, handleBuf) => {
    const entry = handles.get(handleId(handleBuf));
    if (entry?.kind !== 'dir') return badHandle(reqId);
    return serve(reqId, async () => {
      const names: string[] = entry.dotsSent ? [] : ['.', '..'];
      entry.dotsSent = true;
      while (names.length < READDIR_BATCH && !entry.done) {
        const dirent = await entry.dir.read();
        if (dirent === null) entry.done = true;
        else names.push(dirent.name);
      }
      const batch: FileEntry[] = [];
      for (const name of names) {
        const stat = await fsp
          .lstat(name === '..' ? path.dirname(entry.hostDir) : path.join(entry.hostDir, name))
          .catch(() => null);
        if (!stat) continue; // removed since it was listed
        const attrs = attributesOf(stat);
        batch.push({ filename: name, longname: longName(name, attrs, stat.nlink), attrs });
      }
      if (batch.length === 0 && entry.done) sftp.status(reqId, STATUS_CODE.EOF, 'End of file');
      else sftp.name(reqId, batch);
    });
  });

  on('MKDIR', (reqId, p, attrs: Partial<Attributes>) =>
    serve(reqId, async () => {
      if (!(await opts.quota.allowGrowth(opts.rootDir, ENTRY_BYTES))) throw noSpace();
      await fsp.mkdir(resolve(p), typeof attrs.mode === 'number' ? attrs.mode & PERMISSION_BITS : 0o777);
      ok(reqId);
    }),
  );
  on('RMDIR', (reqId, p) =>
    serve(reqId, async () => {
      await fsp.rmdir(resolve(p));
      ok(reqId);
    }),
  );
  on('REMOVE', (reqId, p) =>
    serve(reqId, async () => {
      await fsp.unlink(resolve(p));
      ok(reqId);
    }),
  );
  on('RENAME', (reqId, from, to) =>
    serve(reqId, async () => {
      await fsp.rename(resolve(from), resolve(to));
      ok(reqId);
    }),
  );

  on('REALPATH', (reqId, p) =>
    serve(reqId, async () => {
      const real = normalizeGuestPath(guestPath(p === '.' ? '' : p));
      const stat = await fsp.stat(hostPath(opts.rootDir, real)).catch(() => null);
      const attrs = stat ? attributesOf(stat) : { mode: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };
      sftp.name(reqId, [{ filename: real, longname: real, attrs }]);
    }),
  );

  on('EXTENDED', (reqId, name, data) =>
    serve(reqId, async () => {
      const args = readStrings(data ?? Buffer.alloc(0));
      if (name === 'posix-rename@openssh.com' && args.length >= 2) {
        await fsp.rename(resolve(args[0]!.toString('utf8')), resolve(args[1]!.toString('utf8')));
        return ok(reqId);
      }
      if (name === 'fsync@openssh.com' && args.length >= 1) {
        const file = fileOf(args[0]!);
        if (!file) return badHandle(reqId);
        await file.handle.sync();
        return ok(reqId);
      }
      sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, 'Operation unsupported');
    }),
  );

  // The client may vanish with files open: release them all.
  const closeAll = () => {
    for (const entry of handles.values()) void closeEntry(entry).catch(() => {});
    handles.clear();
  };
  sftp.on('close', closeAll);
  // EOF from the client ends the session, as sftp-server exits on EOF; the client waits for our close.
  sftp.on('end', () => {
    closeAll();
    sftp.end();
  });
}

/** CLOSE waits for the reads and writes still running on the handle (clients may pipeline them). */
function track(file: OpenFile, work: Promise<void>): Promise<void> {
  file.inflight.add(work);
  return work.finally(() => file.inflight.delete(work));
}

function dropInstanceHandle(rootDir: string): void {
  const left = (instanceHandles.get(rootDir) ?? 1) - 1;
  if (left > 0) instanceHandles.set(rootDir, left);
  else instanceHandles.delete(rootDir);
}

/** sftp-server answers a failed handle allocation with SSH2_FX_FAILURE. */
function tooManyHandles(): NodeJS.ErrnoException {
  return Object.assign(new Error('Too many open handles'), { code: 'EMFILE' });
}

/** SSH_FXF_* → open(2) flags. */
function openFlags(flags: number): number {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_EXCL, O_APPEND } = fs.constants;
  const read = (flags & OPEN_MODE.READ) !== 0;
  const write = (flags & OPEN_MODE.WRITE) !== 0;
  let result = read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  if (flags & OPEN_MODE.CREAT) result |= O_CREAT;
  if (flags & OPEN_MODE.TRUNC) result |= O_TRUNC;
  if (flags & OPEN_MODE.EXCL) result |= O_EXCL;
  if (flags & OPEN_MODE.APPEND) result |= O_APPEND;
  return result;
}

function attributesOf(stat: fs.Stats): Attributes {
  return {
    mode: stat.mode,
    uid: 0,
    gid: 0,
    size: stat.size,
    atime: Math.floor(stat.atimeMs / 1000),
    mtime: Math.floor(stat.mtimeMs / 1000),
  };
}

/** `ls -l`-style line, as OpenSSH's sftp-server fills the longname field. */
function longName(name: string, attrs: Attributes, links: number): string {
  const type = (attrs.mode & 0o170000) === 0o040000 ? 'd' : (attrs.mode & 0o170000) === 0o120000 ? 'l' : '-';
  const rwx = (bits: number) => `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  const perms = type + rwx(attrs.mode >> 6) + rwx(attrs.mode >> 3) + rwx(attrs.mode);
  const date = new Date(attrs.mtime * 1000);
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const sixMonths = 182 * 86_400_000;
  const recent = Math.abs(Date.now() - date.getTime()) < sixMonths;
  const hhmm = `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
  const when = `${month} ${String(date.getUTCDate()).padStart(2, ' ')} ${recent ? hhmm : ` ${date.getUTCFullYear()}`}`;
  return `${perms} ${String(links).padStart(4)} ${'root'.padEnd(8)} ${'root'.padEnd(8)} ${String(attrs.size).padStart(8)} ${when} ${name}`;
}

/** Lexical realpath with `..` stopping at `/`, as on a real machine; file operations then refuse what leaves. */
function normalizeGuestPath(guest: string): string {
  const parts: string[] = [];
  for (const part of guest.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

function statusFor(err: unknown): [number, string] {
  if (isCoreError(err)) return [STATUS_CODE.PERMISSION_DENIED, 'Permission denied'];
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
      return [STATUS_CODE.NO_SUCH_FILE, 'No such file'];
    case 'EACCES':
    case 'EPERM':
      return [STATUS_CODE.PERMISSION_DENIED, 'Permission denied'];
    case 'ENOSPC':
      return [STATUS_CODE.FAILURE, 'No space left on device'];
    case 'EMFILE':
      return [STATUS_CODE.FAILURE, 'Too many open handles'];
    default:
      return [STATUS_CODE.FAILURE, 'Failure'];
  }
}
