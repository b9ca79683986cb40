/**
 * How sshd reads its config files as text, before any keyword means anything: `Keyword value` or `Keyword=value`,
 * `#` comments, double quotes grouping, and the files an `Include` names (relative to /etc/ssh, each glob's matches
 * in lexical order, as glob(3) gives them). Paths are guest paths, resolved inside the instance's root.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hostPath } from './rootfs.js';

export const MAX_INCLUDE_DEPTH = 16;

export interface ConfigLine {
  file: string;
  lineNo: number;
  keyword: string;
  args: string[];
}

/** Parsed lines of a guest config file, or null when it cannot be read (or lies outside the instance). */
export async function readConfigLines(rootDir: string, guestFile: string): Promise<ConfigLine[] | null> {
  let content: string;
  try {
    content = await fsp.readFile(hostPath(rootDir, guestFile), 'utf8');
  } catch {
    return null;
  }
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
export async function expandIncludes(rootDir: string, patterns: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    const absolute = pattern.startsWith('/') ? pattern : path.posix.join('/etc/ssh', pattern);
    files.push(...(await expandGlob(rootDir, absolute)));
  }
  return files;
}

async function expandGlob(rootDir: string, guestPattern: string): Promise<string[]> {
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
        names = await fsp.readdir(hostPath(rootDir, dir));
      } catch {
        continue;
      }
      names
        .filter((name) => matcher.test(name) && (part.startsWith('.') || !name.startsWith('.')))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .forEach((name) => next.push(path.posix.join(dir, name)));
    }
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
