/**
 * How sshd reads its config files as text, before any keyword means anything: `Keyword value` or `Keyword=value`,
 * `#` comments, double quotes grouping, and the files an `Include` names (relative to /etc/ssh, each glob's matches
 * in lexical order, as glob(3) gives them). Paths are guest paths, resolved inside the instance's root.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readHead, SSHD_CONFIG_MAX_BYTES } from './guest-file-limits.js';
import { hostPath } from './rootfs.js';

export const MAX_INCLUDE_DEPTH = 16;
/**
 * OpenSSH bounds Include only by depth, so `Include a.conf a.conf` chains visit 2^16 files. One reading of the
 * config (a login, `sshd -t`) visits at most this many files, and a glob looks at most this many names (per
 * directory and in all); beyond, the config is unusable (logins refused, `sshd -t` fails) rather than half-read.
 */
export const MAX_CONFIG_FILES = 256;
export const MAX_GLOB_NAMES = 4096;

/** A config that cannot be read safely: logins are refused and `sshd -t` prints the message. */
export class SshdConfigUnusable extends Error {}

/** What one reading of the config may still visit; shared by every Include of that reading. */
export class IncludeBudget {
  private files = 0;
  private names = 0;
  /** Bytes of config text still allowed: SSHD_CONFIG_MAX_BYTES for all the files of one reading together. */
  bytesLeft = SSHD_CONFIG_MAX_BYTES;

  visitFile(guestFile: string): void {
    if (++this.files > MAX_CONFIG_FILES)
      throw new SshdConfigUnusable(`${guestFile}: more than ${MAX_CONFIG_FILES} configuration files included`);
  }

  seeNames(count: number, where: string): void {
    this.names += count;
    if (this.names > MAX_GLOB_NAMES)
      throw new SshdConfigUnusable(`${where}: Include patterns match more than ${MAX_GLOB_NAMES} names`);
  }
}

export interface ConfigLine {
  file: string;
  lineNo: number;
  keyword: string;
  args: string[];
}

/**
 * Parsed lines of a guest config file, or null when it cannot be read (or lies outside the instance). The file
 * that takes one reading past SSHD_CONFIG_MAX_BYTES or MAX_CONFIG_FILES throws SshdConfigUnusable.
 */
export async function readConfigLines(
  rootDir: string,
  guestFile: string,
  budget: IncludeBudget,
): Promise<ConfigLine[] | null> {
  budget.visitFile(guestFile);
  let head: { bytes: Buffer; truncated: boolean };
  try {
    head = await readHead(hostPath(rootDir, guestFile), budget.bytesLeft);
  } catch {
    return null;
  }
  if (head.truncated)
    throw new SshdConfigUnusable(
      `${guestFile}: the configuration files are larger than ${SSHD_CONFIG_MAX_BYTES} bytes in all`,
    );
  budget.bytesLeft -= head.bytes.length;
  const content = head.bytes.toString('utf8');
  const lines: ConfigLine[] = [];
  content.split('\n').forEach((raw, index) => {
    const parsed = tokenizeLine(raw);
    if (parsed) lines.push({ file: guestFile, lineNo: index + 1, ...parsed });
  });
  return lines;
}

/** `Keyword value…` or `Keyword=value…`; double quotes group; a token starting with `#` ends the line. */
export function tokenizeLine(raw: string): { keyword: string; args: string[] } | null {
  const line = raw.replace(/^[ \t\r]+/, '');
  if (line === '' || line.startsWith('#')) return null;
  const head = /^([^ \t\r=]+)[ \t\r]*(?:=[ \t\r]*)?/.exec(line);
  if (!head) return null;
  const args: string[] = [];
  const rest = line.slice(head[0].length);
  const token = /"([^"]*)"|([^ \t\r"]+)/g;
  for (let m = token.exec(rest); m !== null; m = token.exec(rest)) {
    const value = m[1] ?? m[2]!;
    if (m[2] !== undefined && value.startsWith('#')) break;
    args.push(value);
  }
  return { keyword: head[1]!, args };
}

/** Guest paths named by an Include line: relative to /etc/ssh, each pattern's matches sorted, as glob(3) does. */
export async function expandIncludes(rootDir: string, patterns: string[], budget: IncludeBudget): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    const absolute = pattern.startsWith('/') ? pattern : path.posix.join('/etc/ssh', pattern);
    files.push(...(await expandGlob(rootDir, absolute, budget)));
  }
  return files;
}

async function expandGlob(rootDir: string, guestPattern: string, budget: IncludeBudget): Promise<string[]> {
  let candidates = ['/'];
  for (const part of guestPattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!/[*?[]/.test(part)) {
        next.push(path.posix.join(dir, part));
        continue;
      }
      const matcher = globComponentToRegExp(part);
      let names: string[];
      try {
        names = await readNames(hostPath(rootDir, dir), budget, dir);
      } catch (e) {
        if (e instanceof SshdConfigUnusable) throw e;
        continue;
      }
      names
        .filter((name) => matcher.test(name) && (part.startsWith('.') || !name.startsWith('.')))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .forEach((name) => next.push(path.posix.join(dir, name)));
    }
    budget.seeNames(next.length, guestPattern);
    candidates = next;
  }
  const existing: string[] = [];
  for (const candidate of candidates) {
    try {
      const stat = await fsp.stat(hostPath(rootDir, candidate));
      if (stat.isFile()) existing.push(candidate);
    } catch {
      // glob(3) names only what exists; an unmatched Include is not an error for sshd either.
    }
  }
  return existing;
}

/** A directory's names, read a batch at a time so a huge directory stops at the budget instead of being listed. */
async function readNames(hostDir: string, budget: IncludeBudget, guestDir: string): Promise<string[]> {
  const names: string[] = [];
  const dir = await fsp.opendir(hostDir, { bufferSize: 64 });
  try {
    for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
      names.push(entry.name);
      budget.seeNames(1, guestDir);
    }
  } finally {
    await dir.close().catch(() => {});
  }
  return names;
}

function globComponentToRegExp(part: string): RegExp {
  let source = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        const body = part
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
