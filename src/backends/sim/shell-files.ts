/**
 * The file commands of the simulated instances' shell: `ls`, `cd`, and `>`/`>>` redirection of a command's standard
 * output into a guest file. Paths resolve against the session's working directory and through hostPath, so nothing
 * outside the instance's root is reachable; ownership is not modelled (every file is root's, as SFTP reports it).
 *
 * Bounds: what a redirection writes is charged to the instance's disk quota (disk-quota.ts) as it is written, and a
 * write that does not fit fails with "No space left on device" (what fits stays, as on a full disk); `ls` prints a
 * directory LS_BATCH names at a time, each batch sent before the next is formatted.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { type DiskQuota, ENTRY_BYTES } from './disk-quota.js';
import { hostPath } from './rootfs.js';

/** Where a command's standard output goes: the channel, or a guest file. Resolves once the bytes have left. */
export interface OutputSink {
  out(data: Buffer): Promise<void>;
  err(data: Buffer): Promise<void>;
  readonly closed: boolean;
}

export interface FileContext {
  rootDir: string;
  cwd: string;
  /** The disk quota writes are charged to; without one (tests of the vocabulary alone) writes are not charged. */
  quota?: DiskQuota;
}

const LS_BATCH = 100;

export function guestPath(ctx: FileContext, arg: string): string {
  return path.posix.resolve(ctx.cwd, arg);
}

function reasonOf(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOSPC':
      return 'No space left on device';
    default:
      return 'Permission denied';
  }
}

/**
 * Opens the file a `>` or `>>` names (dash's messages when it cannot) and returns the sink the command writes to,
 * with the channel's stderr; `close` must be called when the command ends.
 */
export async function openRedirect(
  ctx: FileContext,
  target: string,
  append: boolean,
  channel: OutputSink,
): Promise<{ sink: OutputSink; close: () => Promise<void> } | { error: string }> {
  const guest = guestPath(ctx, target);
  if (guest === '/dev/null')
    return { sink: { out: async () => {}, err: (d) => channel.err(d), closed: false }, close: async () => {} };
  let file: string;
  try {
    file = hostPath(ctx.rootDir, guest);
  } catch {
    return { error: `sh: 1: cannot create ${target}: Permission denied\n` };
  }
  const existing = await fsp.stat(file).catch(() => null);
  if (existing?.isDirectory()) return { error: `sh: 1: cannot create ${target}: Is a directory\n` };
  if (!existing && ctx.quota && !(await ctx.quota.allowGrowth(ctx.rootDir, ENTRY_BYTES)))
    return { error: `sh: 1: cannot create ${target}: No space left on device\n` };
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, append ? 'a' : 'w', 0o644);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'Directory nonexistent' : reasonOf(err);
    return { error: `sh: 1: cannot create ${target}: ${reason}\n` };
  }
  let full = false;
  const sink: OutputSink = {
    async out(data) {
      if (full || data.length === 0) return;
      if (ctx.quota && !(await ctx.quota.allowGrowth(ctx.rootDir, data.length))) {
        full = true;
        throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
      }
      await handle.write(data);
    },
    err: (d) => channel.err(d),
    get closed() {
      return channel.closed;
    },
  };
  return { sink, close: () => handle.close().catch(() => {}) };
}

/** `cd [dir]`: changes the session's working directory (the home without an argument). */
export async function cd(
  args: string[],
  ctx: FileContext & { home: string; setCwd: (cwd: string) => void },
  complain: (t: string) => void,
): Promise<number> {
  const target = args[0] ?? ctx.home;
  const guest = guestPath(ctx, target);
  const stat = await fsp.stat(hostPath(ctx.rootDir, guest)).catch(() => null);
  if (!stat?.isDirectory()) {
    complain(`sh: 1: cd: can't cd to ${target}\n`);
    return 2;
  }
  ctx.setCwd(guest);
  return 0;
}

/** `ls [-a] [-A] [-l] [-1] [path…]`: names one per line (as ls prints to a pipe), or the long format with -l. */
export async function ls(args: string[], ctx: FileContext, sink: OutputSink): Promise<number> {
  const flags = new Set<string>();
  const paths: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') && arg.length > 1) {
      for (const f of arg.slice(1)) {
        if (!'aAl1'.includes(f)) {
          await sink.err(Buffer.from(`ls: invalid option -- '${f}'\n(the simulated ls takes -a, -A, -l and -1)\n`));
          return 2;
        }
        flags.add(f);
      }
    } else paths.push(arg);
  }
  if (paths.length === 0) paths.push('.');
  let code = 0;
  const files: string[] = [];
  const dirs: string[] = [];
  for (const p of paths) {
    try {
      const stat = await fsp.stat(hostPath(ctx.rootDir, guestPath(ctx, p)));
      (stat.isDirectory() ? dirs : files).push(p);
    } catch (err) {
      await sink.err(Buffer.from(`ls: cannot access '${p}': ${reasonOf(err)}\n`));
      code = 2;
    }
  }
  const long = flags.has('l');
  if (files.length > 0) await printEntries(ctx, sink, files.sort(), (p) => guestPath(ctx, p), long);
  for (const [n, dir] of dirs.sort().entries()) {
    if (sink.closed) break;
    const heading = paths.length > 1 ? `${files.length > 0 || n > 0 ? '\n' : ''}${dir}:\n` : '';
    if (heading) await sink.out(Buffer.from(heading));
    const base = guestPath(ctx, dir);
    try {
      let names = (await fsp.readdir(hostPath(ctx.rootDir, base))).filter(
        (name) => flags.has('a') || flags.has('A') || !name.startsWith('.'),
      );
      if (flags.has('a')) names.push('.', '..');
      names = names.sort();
      await printEntries(ctx, sink, names, (name) => path.posix.join(base, name), long);
    } catch (err) {
      await sink.err(Buffer.from(`ls: cannot open directory '${dir}': ${reasonOf(err)}\n`));
      code = 2;
    }
  }
  return code;
}

async function printEntries(
  ctx: FileContext,
  sink: OutputSink,
  names: string[],
  guestOf: (name: string) => string,
  long: boolean,
): Promise<void> {
  for (let i = 0; i < names.length && !sink.closed; i += LS_BATCH) {
    const lines: string[] = [];
    for (const name of names.slice(i, i + LS_BATCH)) {
      if (!long) {
        lines.push(name);
        continue;
      }
      const stat = await fsp.lstat(hostPath(ctx.rootDir, guestOf(name))).catch(() => null);
      if (!stat) continue;
      lines.push(
        `${modeString(stat)} ${stat.nlink} root root ${String(stat.size).padStart(6)} ${lsDate(stat.mtime)} ${name}`,
      );
    }
    if (lines.length > 0) await sink.out(Buffer.from(lines.join('\n') + '\n'));
  }
}

function modeString(stat: import('node:fs').Stats): string {
  const type = stat.isDirectory() ? 'd' : stat.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  return type + [...bits].map((c, i) => (stat.mode & (0o400 >> i) ? c : '-')).join('');
}

/** `Dec  7 15:21`, as ls prints a recent time (the year instead of the time for one over six months old). */
function lsDate(d: Date): string {
  const month = d.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
  const day = String(d.getUTCDate()).padStart(2);
  const old = Math.abs(Date.now() - d.getTime()) > 182 * 86_400_000;
  const tail = old
    ? ` ${d.getUTCFullYear()}`
    : `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return `${month} ${day} ${tail.padStart(5)}`;
}
