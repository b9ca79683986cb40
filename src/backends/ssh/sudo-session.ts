/**
 * A session whose file operations and commands run through `sudo -n`, for a management user that is not root
 * (a deploy account with passwordless sudo, as most fleets have). SFTP runs with the login's own rights and cannot
 * be elevated, so every operation is one exec of a small POSIX sh script run by sudo; file contents go over
 * stdin, never on a command line. Semantics match the SFTP session: atomic writes through a sibling temp file,
 * mode and owner kept (a new file or directory takes the owner of its parent, so ~/.ssh stays the user's and a
 * drop-in stays root's), and a missing file reads as null.
 *
 * `sudo -n` never prompts: when a password would be needed, the operation fails with sudo's own message.
 */
import { CoreError } from '../../core/errors.js';
import type { LiveSession, RemoteFile, ReplaceableFile } from '../../core/ports.js';
import type { ExecResult, FileAttrs, RemoteDir } from './session-types.js';

const NO_FILE = 'KEYFLEET-NO-FILE';
/** sudo's own refusals (not a failing command's output, nor a harmless warning such as an unresolvable host name). */
const REFUSED =
  /^(sudo: .*(password is required|terminal is required|not in the sudoers|is not allowed|may not run)|.*sudo: (command )?not found)/m;

/** One POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const READ = `if [ -e "$1" ]; then stat -c '%a %u %g' -- "$1" && cat -- "$1"; else echo ${NO_FILE}; fi`;
// The directory's line first ('-' if it is missing or not a directory), then READ's output.
const READ_WITH_DIR = `d=$(dirname -- "$1"); if [ -d "$d" ]; then stat -c '%a %u %g' -- "$d"; else echo -; fi; ${READ}`;

// $1 path, $2 octal mode, $3 owner (uid:gid) or empty: keep the file's owner, else its directory's.
const WRITE = [
  'set -e',
  't="$1.keyfleet-tmp.$$"',
  'trap \'rm -f -- "$t"\' EXIT',
  'umask 077',
  'cat > "$t"',
  'chmod "$2" "$t"',
  'o="$3"',
  'if [ -z "$o" ]; then if [ -e "$1" ]; then o=$(stat -c %u:%g -- "$1"); else o=$(stat -c %u:%g -- "$(dirname -- "$1")"); fi; fi',
  'chown "$o" "$t"',
  'sync -- "$t" 2>/dev/null || true',
  'mv -f -- "$t" "$1"',
  'trap - EXIT',
].join('\n');

// $1 path, $2 octal mode, $3 owner or empty: a new directory takes its parent's owner.
const MKDIR = [
  'set -e',
  'if [ ! -d "$1" ]; then mkdir -m "$2" -- "$1"; [ -n "$3" ] || chown "$(stat -c %u:%g -- "$(dirname -- "$1")")" "$1"; fi',
  'chmod "$2" "$1"',
  '[ -z "$3" ] || chown "$3" "$1"',
].join('\n');

export class SudoSession implements LiveSession {
  constructor(private readonly inner: LiveSession) {}

  get hostKeySha256(): string {
    return this.inner.hostKeySha256;
  }

  async readFile(path: string): Promise<RemoteFile | null> {
    const r = await this.script('read', path, READ, [absolute(path)]);
    return parseRead(r.stdout);
  }

  /** One exec reads the file and its directory; nothing is prepared, so the write is writeFileAtomic's. */
  async readForReplace(path: string): Promise<ReplaceableFile> {
    const r = await this.script('read', path, READ_WITH_DIR, [absolute(path)]);
    const newline = r.stdout.indexOf('\n');
    const dirLine = r.stdout.slice(0, newline);
    return {
      current: parseRead(r.stdout.slice(newline + 1)),
      directory: dirLine === '-' ? null : parseStat(dirLine),
      replace: (content, attrs) => this.writeFileAtomic(path, content, attrs),
      discard: async () => undefined,
    };
  }

  async writeFileAtomic(path: string, content: string, attrs: FileAttrs): Promise<void> {
    await this.script('write', path, WRITE, [absolute(path), attrs.mode.toString(8), owner(attrs)], content);
  }

  async ensureDir(path: string, attrs: FileAttrs): Promise<void> {
    await this.script('create directory', path, MKDIR, [absolute(path), attrs.mode.toString(8), owner(attrs)]);
  }

  async removeFile(path: string): Promise<void> {
    await this.script('remove', path, 'rm -f -- "$1"', [absolute(path)]);
  }

  /** The command runs as root through sh; its exit status and output are the command's. */
  exec(command: string, stdin?: string): Promise<ExecResult> {
    return this.inner.exec(`sudo -n -- sh -c ${shellQuote(command)}`, stdin).then((r) => {
      if (r.code !== 0 && REFUSED.test(r.stderr)) throw sudoRefused(r.stderr);
      return r;
    });
  }

  close(): void {
    this.inner.close();
  }

  private async script(op: string, path: string, script: string, args: string[], stdin?: string): Promise<ExecResult> {
    const r = await this.inner.exec(
      `sudo -n -- sh -c ${shellQuote(script)} keyfleet ${args.map(shellQuote).join(' ')}`,
      stdin,
    );
    if (r.code === 0) return r;
    if (REFUSED.test(r.stderr)) throw sudoRefused(r.stderr);
    throw new CoreError(
      'Live.RemoteError',
      `${op} '${path}' through sudo failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
    );
  }
}

function parseRead(stdout: string): RemoteFile | null {
  if (stdout.startsWith(`${NO_FILE}\n`)) return null;
  const newline = stdout.indexOf('\n');
  return { content: stdout.slice(newline + 1), ...parseStat(stdout.slice(0, newline)) };
}

/** `stat -c '%a %u %g'`: octal mode, uid, gid. */
function parseStat(line: string): RemoteDir {
  const [mode, uid, gid] = line.split(' ');
  return { mode: parseInt(mode!, 8) & 0o7777, uid: Number(uid), gid: Number(gid) };
}

function absolute(path: string): string {
  if (!path.startsWith('/'))
    throw new CoreError(
      'Internal',
      `Through sudo every path must be absolute ('${path}' is not): '~' would be root's home.`,
    );
  return path;
}

function owner(attrs: FileAttrs): string {
  if (attrs.uid === undefined && attrs.gid === undefined) return '';
  return `${attrs.uid ?? ''}:${attrs.gid ?? ''}`;
}

function sudoRefused(stderr: string): CoreError {
  const line = stderr.split('\n').find((l) => REFUSED.test(l)) ?? stderr.trim();
  return new CoreError(
    'Live.RemoteError',
    `sudo refused to run keyfleet's command (${line.trim().slice(0, 200)}); the management user needs passwordless sudo (NOPASSWD) for this host's 'sudo' setting.`,
  );
}
