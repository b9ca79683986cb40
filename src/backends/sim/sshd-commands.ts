/**
 * The commands a simulated instance understands over `ssh host <command>` and in its shell: a small, sh-like
 * vocabulary with the exit codes and messages of a Debian machine, enough for keyfleet's live path (read files,
 * `sshd -t`, reload sshd) and for a person poking around. Lists with `;`, `&&`, `||`, quoting, and `$HOME`-style
 * variables work; pipes, redirections and command substitution are refused with exit 2 rather than misread.
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
import { readGuestHostname } from './guest-file-limits.js';
import { hostPath } from './rootfs.js';
import { effectiveSshdConfig, validateSshdConfig } from './sshd-config.js';
import type { GuestUser } from './sshd-passwd.js';

export interface CommandContext {
  rootDir: string;
  user: GuestUser;
  cwd: string;
  /** Variables sshd adds to the session, e.g. SSH_ORIGINAL_COMMAND under a forced command. */
  env?: Record<string, string>;
}

export interface CommandResult {
  code: number;
  /** Set when the line ran `exit`: the shell ends with `code`. */
  exited?: boolean;
}

/** Where a command's output goes: each call resolves once the bytes have left (the channel took them). */
export interface CommandOutput {
  out(data: Buffer): Promise<void>;
  err(data: Buffer): Promise<void>;
  /** True once the client has gone: a command stops early. */
  readonly closed: boolean;
}

type Token = { kind: 'word'; value: string } | { kind: 'op'; value: ';' | '&&' | '||' };
/** A command's short messages, sent when it ends (or, for cat, before each piece of a file). */
type Output = { out: Buffer[]; err: Buffer[]; sink: CommandOutput };

const LAST_STATUS = '\u0000?';
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
  const tokens = tokenize(line, ctx);
  if ('error' in tokens) {
    output.err.push(Buffer.from(`sh: 1: ${tokens.error}\n`));
    await flushOutput(output);
    return { code: 2 };
  }
  let code = lastCode;
  let words: string[] = [];
  let skip = false;
  const flush = async (): Promise<boolean> => {
    if (words.length > 0 && !skip) {
      words = words.map((w) => w.replaceAll(LAST_STATUS, String(code)));
      if (words[0] === 'exit') {
        code = words[1] === undefined ? code : Number.parseInt(words[1], 10) & 0xff;
        return true;
      }
      code = await runCommand(words, ctx, output);
      await flushOutput(output);
    }
    words = [];
    return false;
  };
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token.value);
      continue;
    }
    if (sink.closed) return { code };
    if (await flush()) return { code, exited: true };
    skip = (token.value === '&&' && code !== 0) || (token.value === '||' && code === 0);
  }
  if (await flush()) return { code, exited: true };
  return { code };
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
    case 'sshd':
      return sshd(args, ctx.rootDir, say, complain);
    case 'systemctl':
      return systemctl(args[0], args[1], ctx.rootDir, complain);
    case 'service':
      return args[1] !== undefined
        ? systemctl(args[1], args[0], ctx.rootDir, complain)
        : usage(complain, 'Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n');
    default:
      complain(`sh: 1: ${word}: not found\n`);
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
    const guest = path.posix.isAbsolute(arg) ? arg : path.posix.join(ctx.cwd, arg);
    try {
      await flushOutput(o);
      await streamFile(hostPath(ctx.rootDir, guest), o.sink);
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).code;
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

/** sh's word splitting and quoting for the subset above. */
function tokenize(line: string, ctx: CommandContext): Token[] | { error: string } {
  // `$?` changes as the list runs, so it stays a marker here and is filled in just before each command runs.
  const vars: Record<string, string> = {
    ...ctx.env,
    HOME: ctx.user.home,
    USER: ctx.user.name,
    LOGNAME: ctx.user.name,
    SHELL: ctx.user.shell,
    PWD: ctx.cwd,
    '?': LAST_STATUS,
  };
  const tokens: Token[] = [];
  let word: string | null = null;
  const append = (s: string) => (word = (word ?? '') + s);
  const endWord = () => {
    if (word !== null) tokens.push({ kind: 'word', value: word });
    word = null;
  };
  const expand = (i: number): { value: string; next: number } | null => {
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*|\?)\}/.exec(line.slice(i));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*|\?)/.exec(line.slice(i));
    const m = braced ?? plain;
    if (!m) return null;
    return { value: vars[m[1]!] ?? '', next: i + m[0].length };
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '\n' || c === ';') {
      endWord();
      tokens.push({ kind: 'op', value: ';' });
      i++;
    } else if (line.startsWith('&&', i) || line.startsWith('||', i)) {
      endWord();
      tokens.push({ kind: 'op', value: line.slice(i, i + 2) as '&&' | '||' });
      i += 2;
    } else if (c === '#' && word === null) {
      while (i < line.length && line[i] !== '\n') i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return { error: 'Syntax error: Unterminated quoted string' };
      append(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      append('');
      for (i++; ; ) {
        if (i >= line.length) return { error: 'Syntax error: Unterminated quoted string' };
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) {
          append(line[i + 1]!);
          i += 2;
        } else if (d === '$') {
          const v = expand(i);
          if (!v)
            return {
              error:
                'command substitution and parameter expansion beyond $NAME are not supported by the simulated instance',
            };
          append(v.value);
          i = v.next;
        } else if (d === '`') {
          return { error: 'command substitution is not supported by the simulated instance' };
        } else {
          append(d);
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 < line.length && line[i + 1] !== '\n') append(line[i + 1]!);
      i += 2;
    } else if (c === '$') {
      const v = expand(i);
      if (!v)
        return {
          error:
            'command substitution and parameter expansion beyond $NAME are not supported by the simulated instance',
        };
      if (v.value !== '') append(v.value); // unquoted, an empty expansion makes no word
      i = v.next;
    } else if ('|&<>()`'.includes(c)) {
      return {
        error: `'${c}' (pipes, redirections, subshells, background jobs) is not supported by the simulated instance`,
      };
    } else {
      append(c);
      i++;
    }
  }
  endWord();
  return tokens;
}
