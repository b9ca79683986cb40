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
 *   VERSION reply is rewritten on its way out (see advertiseExtensions).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import { isCoreError } from '../../core/errors.js';
import { type DiskQuota, ENTRY_BYTES, FileReservations, noSpace } from './disk-quota.js';
import { hostPath } from './rootfs.js';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;
const MAX_READ = 64 * 1024;
const READDIR_BATCH = 100;
const EXTENSIONS: Record<string, string> = { 'posix-rename@openssh.com': '1', 'fsync@openssh.com': '1' };

type OpenFile = {
  kind: 'file';
  handle: fsp.FileHandle;
  inflight: Set<Promise<unknown>>;
  reservations: FileReservations;
};
/** Permission bits only: setuid, setgid and sticky would be set on the keyfleet host's own file. */
const PERMISSION_BITS = 0o777;
type OpenDir = { kind: 'dir'; hostDir: string; names: string[]; next: number };

export function serveSftp(sftp: SFTPWrapper, opts: { rootDir: string; home: string; quota: DiskQuota }): void {
  advertiseExtensions(sftp, EXTENSIONS);
  const handles = new Map<number, OpenFile | OpenDir>();
  let nextHandle = 1;

  const guestPath = (p: string): string =>
    p === '' ? opts.home : path.posix.isAbsolute(p) ? p : path.posix.join(opts.home, p);
  const resolve = (p: string): string => hostPath(opts.rootDir, guestPath(p));
  const handleId = (buf: Buffer): number => (buf.length === 4 ? buf.readUInt32BE(0) : -1);
  const newHandle = (entry: OpenFile | OpenDir): Buffer => {
    const id = nextHandle++;
    handles.set(id, entry);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id >>> 0, 0);
    return buf;
  };
  const fileOf = (buf: Buffer): OpenFile | null => {
    const entry = handles.get(handleId(buf));
    return entry?.kind === 'file' ? entry : null;
  };

  /** Runs one request; any thrown error becomes the status OpenSSH would send for it. */
  const serve = (reqId: number, work: () => Promise<void>): Promise<void> =>
    work().catch((err: unknown) => {
      const [code, message] = statusFor(err);
      sftp.status(reqId, code, message);
    });
  const ok = (reqId: number) => sftp.status(reqId, STATUS_CODE.OK, 'Success');
  const badHandle = (reqId: number) => sftp.status(reqId, STATUS_CODE.FAILURE, 'Invalid handle');

  sftp.on('OPEN', (reqId, filename, flags, attrs: Partial<Attributes>) =>
    serve(reqId, async () => {
      const mode = typeof attrs.mode === 'number' ? attrs.mode & PERMISSION_BITS : 0o666;
      const target = resolve(filename);
      const creates = (flags & OPEN_MODE.CREAT) !== 0 && (await fsp.lstat(target).catch(() => null)) === null;
      if (creates && !(await opts.quota.allowGrowth(opts.rootDir, ENTRY_BYTES))) throw noSpace();
      const handle = await fsp.open(target, openFlags(flags), mode);
      const size = await handle.stat().then(
        (s) => s.size,
        () => 0,
      );
      const reservations = new FileReservations(opts.quota, opts.rootDir, size);
      sftp.handle(reqId, newHandle({ kind: 'file', handle, inflight: new Set(), reservations }));
    }),
  );

  sftp.on('READ', (reqId, handleBuf, offset, length) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    track(
      file,
      serve(reqId, async () => {
        const buf = Buffer.alloc(Math.min(length, MAX_READ));
        const { bytesRead } = await file.handle.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) sftp.status(reqId, STATUS_CODE.EOF, 'End of file');
        else sftp.data(reqId, buf.subarray(0, bytesRead));
      }),
    );
  });

  sftp.on('WRITE', (reqId, handleBuf, offset, data) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    track(
      file,
      serve(reqId, async () => {
        if (!(await file.reservations.reserveUpTo(offset + data.length))) throw noSpace();
        await file.handle.write(data, 0, data.length, offset);
        ok(reqId);
      }),
    );
  });

  sftp.on('CLOSE', (reqId, handleBuf) => {
    const id = handleId(handleBuf);
    const entry = handles.get(id);
    if (!entry) return badHandle(reqId);
    handles.delete(id);
    void serve(reqId, async () => {
      if (entry.kind === 'file') {
        await Promise.allSettled([...entry.inflight]);
        await entry.handle.close();
      }
      ok(reqId);
    });
  });

  sftp.on('FSTAT', (reqId, handleBuf) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    void serve(reqId, async () => sftp.attrs(reqId, attributesOf(await file.handle.stat())));
  });
  const statPath = (reqId: number, p: string) =>
    serve(reqId, async () => sftp.attrs(reqId, attributesOf(await fsp.stat(resolve(p)))));
  sftp.on('STAT', statPath);
  sftp.on('LSTAT', statPath);

  sftp.on('FSETSTAT', (reqId, handleBuf, attrs: Partial<Attributes>) => {
    const file = fileOf(handleBuf);
    if (!file) return badHandle(reqId);
    void serve(reqId, async () => {
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
  sftp.on('SETSTAT', (reqId, p, attrs: Partial<Attributes>) =>
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

  sftp.on('OPENDIR', (reqId, p) =>
    serve(reqId, async () => {
      const hostDir = resolve(p);
      const names = await fsp.readdir(hostDir);
      sftp.handle(reqId, newHandle({ kind: 'dir', hostDir, names: ['.', '..', ...names], next: 0 }));
    }),
  );
  sftp.on('READDIR', (reqId, handleBuf) => {
    const entry = handles.get(handleId(handleBuf));
    if (entry?.kind !== 'dir') return badHandle(reqId);
    void serve(reqId, async () => {
      const batch: FileEntry[] = [];
      while (batch.length < READDIR_BATCH && entry.next < entry.names.length) {
        const name = entry.names[entry.next++]!;
        const stat = await fsp
          .lstat(name === '..' ? path.dirname(entry.hostDir) : path.join(entry.hostDir, name))
          .catch(() => null);
        if (!stat) continue; // removed since OPENDIR
        const attrs = attributesOf(stat);
        batch.push({ filename: name, longname: longName(name, attrs, stat.nlink), attrs });
      }
      if (batch.length === 0) sftp.status(reqId, STATUS_CODE.EOF, 'End of file');
      else sftp.name(reqId, batch);
    });
  });

  sftp.on('MKDIR', (reqId, p, attrs: Partial<Attributes>) =>
    serve(reqId, async () => {
      if (!(await opts.quota.allowGrowth(opts.rootDir, ENTRY_BYTES))) throw noSpace();
      await fsp.mkdir(resolve(p), typeof attrs.mode === 'number' ? attrs.mode & PERMISSION_BITS : 0o777);
      ok(reqId);
    }),
  );
  sftp.on('RMDIR', (reqId, p) =>
    serve(reqId, async () => {
      await fsp.rmdir(resolve(p));
      ok(reqId);
    }),
  );
  sftp.on('REMOVE', (reqId, p) =>
    serve(reqId, async () => {
      await fsp.unlink(resolve(p));
      ok(reqId);
    }),
  );
  sftp.on('RENAME', (reqId, from, to) =>
    serve(reqId, async () => {
      await fsp.rename(resolve(from), resolve(to));
      ok(reqId);
    }),
  );

  sftp.on('REALPATH', (reqId, p) =>
    serve(reqId, async () => {
      const real = normalizeGuestPath(guestPath(p === '.' ? '' : p));
      const stat = await fsp.stat(hostPath(opts.rootDir, real)).catch(() => null);
      const attrs = stat ? attributesOf(stat) : { mode: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };
      sftp.name(reqId, [{ filename: real, longname: real, attrs }]);
    }),
  );

  sftp.on('EXTENDED', (reqId, name, data) =>
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
    for (const entry of handles.values()) if (entry.kind === 'file') void entry.handle.close().catch(() => {});
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
function track(file: OpenFile, work: Promise<void>): void {
  file.inflight.add(work);
  void work.finally(() => file.inflight.delete(work));
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
    default:
      return [STATUS_CODE.FAILURE, 'Failure'];
  }
}

/** SSH wire strings (uint32 length + bytes), as many as the buffer holds. */
function readStrings(data: Buffer): Buffer[] {
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
function advertiseExtensions(sftp: SFTPWrapper, extensions: Record<string, string>): void {
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
