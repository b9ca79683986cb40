/**
 * The commands a simulated instance understands over `ssh host <command>` and in its shell: a small, sh-like
 * vocabulary with the exit codes and messages of a Debian machine, enough for keyfleet's live path (read files,
 * `sshd -t`, reload sshd) and for what a person types in the first minute (`ls`, `cd`, `cat`, `echo hi > f`,
 * `pwd`, `whoami`, `id`, `uname`). Lists with `;`, `&&`, `||`, quoting, `$HOME`-style variables, `~`, and `>`/`>>`
 * of standard output work (shell-words.ts, shell-files.ts); pipes, other redirections and command substitution are
 * refused with exit 2 and a line saying what is supported, and an unknown command says the same after sh's
 * "not found".
 *
 * `systemctl reload ssh` validates first and fails on a broken config, as Debian's unit does (ExecReload runs
 * `sshd -t`); on success it changes nothing, since the simulated sshd reads its config on every login anyway.
 *
 * What a command prints goes to a CommandOutput as it is made, never built whole in memory: every tenant's
 * instances share this process. `cat` streams a file in CAT_CHUNK pieces and reads the next one only when the
 * channel has sent the last (so a client that does not read holds one chunk, not the file), with no cap on the
 * total, as a real `cat`; a file is as large as the disk quota lets it be. The other commands print a few lines.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { DiskQuota } from './disk-quota.js';
import { readGuestHostname } from './guest-file-limits.js';
import { hostPath } from './rootfs.js';
import { cd, guestPath, ls, openRedirect, type OutputSink } from './shell-files.js';
import { LAST_STATUS, SHELL_SUPPORT, tokenize } from './shell-words.js';
import { effectiveSshdConfig, validateSshdConfig } from './sshd-config.js';
import type { GuestUser } from './sshd-passwd.js';

export interface CommandContext {
  rootDir: string;
  user: GuestUser;
  /** The working directory; `cd` changes it for the rest of the session. */
  cwd: string;
  /** The fleet's disk quota, which `>` and `>>` writes are charged to. */
  quota?: DiskQuota;
  /** Variables sshd adds to the session, e.g. SSH_ORIGINAL_COMMAND under a forced command. */
  env?: Record<string, string>;
}

export interface CommandResult {
  code: number;
  /** Set when the line ran `exit`: the shell ends with `code`. */
  exited?: boolean;
}

/**
 * Where a command's output goes: each call resolves once the bytes have left (the channel took them); `closed` is
 * true once the client has gone, and a command stops early.
 */
export type CommandOutput = OutputSink;

/** A command's short messages, sent when it ends (or, for cat, before each piece of a file). */
type Output = { out: Buffer[]; err: Buffer[]; sink: CommandOutput };

/** The piece of a file `cat` reads and sends at a time: all it holds in memory per running command. */
export const CAT_CHUNK = 64 * 1024;
const SSH_UNITS = new Set(['ssh', 'sshd', 'ssh.service', 'sshd.service']);
const SYSTEMCTL_VERBS = new Set(['reload', 'restart', 'reload-or-restart', 'try-reload-or-restart', 'try-restart']);

export async function runCommandLine(
  line: string,
  ctx: CommandContext,
  sink: CommandOutput,
  lastCode = 0,
): Promise<CommandResult> {
  const output: Output = { out: [], err: [], sink };
  const tokens = tokenize(
    line,
    {
      ...ctx.env,
      HOME: ctx.user.home,
      USER: ctx.user.name,
      LOGNAME: ctx.user.name,
      SHELL: ctx.user.shell,
      PWD: ctx.cwd,
    },
    ctx.user.home,
  );
  if ('error' in tokens) {
    output.err.push(Buffer.from(`sh: 1: ${tokens.error}\n`));
    await flushOutput(output);
    return { code: 2 };
  }
  let code = lastCode;
  let words: string[] = [];
  let redirects: Array<{ append: boolean; target: string | null }> = [];
  let skip = false;
  const flush = async (): Promise<boolean> => {
    const pending = { words, redirects };
    words = [];
    redirects = [];
    if ((pending.words.length === 0 && pending.redirects.length === 0) || skip) return false;
    const filled = pending.words.map((w) => w.replaceAll(LAST_STATUS, String(code)));
    if (filled[0] === 'exit') {
      code = filled[1] === undefined ? code : Number.parseInt(filled[1], 10) & 0xff;
      return true;
    }
    code = await runRedirected(filled, pending.redirects, ctx, output);
    return false;
  };
  for (const token of tokens) {
    if (token.kind === 'word') {
      const open = redirects.at(-1);
      if (open && open.target === null) open.target = token.value;
      else words.push(token.value);
      continue;
    }
    if (token.kind === 'redirect') {
      redirects.push({ append: token.append, target: null });
      continue;
    }
    if (sink.closed) return { code };
    if (await flush()) return { code, exited: true };
    skip = (token.value === '&&' && code !== 0) || (token.value === '||' && code === 0);
  }
  if (await flush()) return { code, exited: true };
  return { code };
}

/**
 * Runs one command with its `>`/`>>` redirections: each named file is created or truncated in order, as sh does,
 * and the command's standard output goes to the last one.
 */
async function runRedirected(
  words: string[],
  redirects: Array<{ append: boolean; target: string | null }>,
  ctx: CommandContext,
  output: Output,
): Promise<number> {
  if (redirects.length === 0) {
    const code = await runCommand(words, ctx, output);
    await flushOutput(output);
    return code;
  }
  const opened: Array<{ sink: OutputSink; close: () => Promise<void> }> = [];
  try {
    for (const r of redirects) {
      if (r.target === null) {
        await output.sink.err(Buffer.from('sh: 1: Syntax error: newline unexpected\n'));
        return 2;
      }
      const file = await openRedirect(ctx, r.target, r.append, output.sink);
      if ('error' in file) {
        await output.sink.err(Buffer.from(file.error));
        return 2;
      }
      opened.push(file);
    }
    if (words.length === 0) return 0; // `> file` alone creates or empties it
    const toFile: Output = { out: [], err: [], sink: opened.at(-1)!.sink };
    try {
      const code = await runCommand(words, ctx, toFile);
      await flushOutput(toFile);
      return code;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      await output.sink.err(Buffer.from(`${words[0]}: write error: No space left on device\n`));
      return 1;
    }
  } finally {
    for (const f of opened) await f.close();
  }
}

/** Sends what the command printed so far, stdout first (a terminal shows it in the order it was printed). */
async function flushOutput(o: Output): Promise<void> {
  const out = o.out.splice(0);
  const err = o.err.splice(0);
  if (out.length > 0) await o.sink.out(Buffer.concat(out));
  if (err.length > 0) await o.sink.err(Buffer.concat(err));
}

async function runCommand(words: string[], ctx: CommandContext, o: Output): Promise<number> {
  const [word, ...args] = words as [string, ...string[]];
  const name = /^\/(?:usr\/)?s?bin\/[^/]+$/.test(word) ? path.posix.basename(word) : word;
  const say = (text: string) => o.out.push(Buffer.from(text));
  const complain = (text: string) => o.err.push(Buffer.from(text));
  switch (name) {
    case 'true':
    case ':':
      return 0;
    case 'false':
      return 1;
    case 'echo': {
      const noNewline = args[0] === '-n';
      say(args.slice(noNewline ? 1 : 0).join(' ') + (noNewline ? '' : '\n'));
      return 0;
    }
    case 'pwd':
      say(`${ctx.cwd}\n`);
      return 0;
    case 'whoami':
      say(`${ctx.user.name}\n`);
      return 0;
    case 'id':
      return id(args, ctx.user, say, complain);
    case 'hostname':
      say(`${await readGuestHostname(ctx.rootDir)}\n`);
      return 0;
    case 'uname':
      return uname(args, await readGuestHostname(ctx.rootDir), say, complain);
    case 'cat':
      return cat(args, ctx, o);
    case 'ls':
      await flushOutput(o);
      return ls(args, ctx, o.sink);
    case 'cd':
      return cd(args, { ...ctx, home: ctx.user.home, setCwd: (cwd: string) => (ctx.cwd = cwd) }, complain);
    case 'sshd':
      return sshd(args, ctx.rootDir, say, complain);
    case 'systemctl':
      return systemctl(args[0], args[1], ctx.rootDir, complain);
    case 'service':
      return args[1] !== undefined
        ? systemctl(args[1], args[0], ctx.rootDir, complain)
        : usage(complain, 'Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n');
    default:
      complain(`sh: 1: ${word}: not found\n(${SHELL_SUPPORT})\n`);
      return 127;
  }
}

function usage(complain: (t: string) => void, text: string): number {
  complain(text);
  return 1;
}

function id(args: string[], user: GuestUser, say: (t: string) => void, complain: (t: string) => void): number {
  const flags = args.join('').replace(/-/g, '');
  const group = user.gid === 0 ? 'root' : String(user.gid);
  switch (flags) {
    case '':
      say(`uid=${user.uid}(${user.name}) gid=${user.gid}(${group}) groups=${user.gid}(${group})\n`);
      return 0;
    case 'u':
      say(`${user.uid}\n`);
      return 0;
    case 'un':
    case 'nu':
      say(`${user.name}\n`);
      return 0;
    case 'g':
      say(`${user.gid}\n`);
      return 0;
    case 'gn':
    case 'ng':
      say(`${group}\n`);
      return 0;
    default:
      return usage(complain, `id: invalid option -- '${flags}'\nTry 'id --help' for more information.\n`);
  }
}

function uname(args: string[], hostname: string, say: (t: string) => void, complain: (t: string) => void): number {
  const fields: Record<string, string> = {
    s: 'Linux',
    n: hostname,
    r: '6.1.0-keyfleet-sim',
    v: '#1 SMP Debian',
    m: 'x86_64',
    o: 'GNU/Linux',
  };
  const flags = args.length === 0 ? 's' : args.join('').replace(/-/g, '');
  if (flags === 'a') {
    say(`${['s', 'n', 'r', 'v', 'm', 'o'].map((f) => fields[f]).join(' ')}\n`);
    return 0;
  }
  const picked = [...flags].map((f) => fields[f]);
  if (picked.some((v) => v === undefined)) return usage(complain, `uname: invalid option -- '${flags}'\n`);
  say(`${picked.join(' ')}\n`);
  return 0;
}

async function cat(args: string[], ctx: CommandContext, o: Output): Promise<number> {
  let code = 0;
  for (const arg of args) {
    if (o.sink.closed) return code;
    const guest = guestPath(ctx, arg);
    try {
      await flushOutput(o);
      await streamFile(hostPath(ctx.rootDir, guest), o.sink);
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).code;
      if (errno === 'ENOSPC') throw e; // the redirection's file is full: the command ends with a write error
      const reason =
        errno === 'ENOENT' || errno === 'ENOTDIR'
          ? 'No such file or directory'
          : errno === 'EISDIR'
            ? 'Is a directory'
            : 'Permission denied';
      o.err.push(Buffer.from(`cat: ${arg}: ${reason}\n`));
      code = 1;
    }
  }
  return code;
}

/** Sends the file a CAT_CHUNK at a time, each read only after the previous one has left. */
async function streamFile(hostFile: string, sink: CommandOutput): Promise<void> {
  const handle = await fsp.open(hostFile, 'r');
  try {
    for (let position = 0; !sink.closed; ) {
      // A fresh buffer per piece: the channel may still hold the previous one when the window was shut.
      const chunk = Buffer.allocUnsafe(CAT_CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CAT_CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      await sink.out(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

async function sshd(
  args: string[],
  rootDir: string,
  say: (t: string) => void,
  complain: (t: string) => void,
): Promise<number> {
  const mode = args.join(' ');
  if (mode !== '-t' && mode !== '-T')
    return usage(complain, 'sshd: only -t and -T are supported by the simulated instance\n');
  const validation = await validateSshdConfig(rootDir);
  if (!validation.ok) {
    complain(`${validation.message}\n`);
    return 255;
  }
  if (mode === '-T') {
    const c = await effectiveSshdConfig(rootDir);
    say(
      [
        `permitrootlogin ${c.permitRootLogin}`,
        `pubkeyauthentication ${c.pubkeyAuthentication ? 'yes' : 'no'}`,
        `passwordauthentication ${c.passwordAuthentication ? 'yes' : 'no'}`,
        `strictmodes ${c.strictModes ? 'yes' : 'no'}`,
        `maxauthtries ${c.maxAuthTries}`,
        `authorizedkeysfile ${c.authorizedKeysFile.length > 0 ? c.authorizedKeysFile.join(' ') : 'none'}`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

async function systemctl(
  verb: string | undefined,
  unit: string | undefined,
  rootDir: string,
  complain: (t: string) => void,
): Promise<number> {
  if (verb === undefined || unit === undefined || !SYSTEMCTL_VERBS.has(verb)) {
    return usage(
      complain,
      `systemctl: only ${[...SYSTEMCTL_VERBS].join(', ')} of the ssh service are supported by the simulated instance\n`,
    );
  }
  const service = unit.endsWith('.service') ? unit : `${unit}.service`;
  if (!SSH_UNITS.has(unit)) {
    complain(`Failed to ${verb} ${service}: Unit ${service} not found.\n`);
    return 5;
  }
  if (!(await validateSshdConfig(rootDir)).ok) {
    complain(
      `Job for ${service} failed because the control process exited with error code.\n` +
        `See "systemctl status ${service}" and "journalctl -xeu ${service}" for details.\n`,
    );
    return 1;
  }
  return 0;
}
