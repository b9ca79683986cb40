/**
 * authorized_keys as the simulated sshd reads it: every AuthorizedKeysFile entry (tokens %h %u %U %% expanded,
 * relative to the home directory), StrictModes applied like OpenSSH (the file, its directories up to and including
 * the home, must not be writable by group or others), and each line parsed like sshd: `[options] type base64
 * [comment]`. Options are parsed so that a malformed line is skipped as sshd skips it; of their effects only
 * `command="…"` is honoured (the forced command replaces what the client asked to run).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EffectiveSshdConfig } from './sshd-config.js';
import type { GuestUser } from './sshd-passwd.js';
import { hostPath } from './rootfs.js';

export interface AuthorizedKey {
  type: string;
  blob: Buffer;
  /** The `command="…"` option, unquoted. */
  forcedCommand: string | null;
  /** `cert-authority` lines trust a CA, not the key itself: they never match a plain key. */
  certAuthority: boolean;
}

const KEY_TYPE = /^(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)(?:-cert-v01@openssh\.com)?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FLAG_OPTIONS = new Set([
  'agent-forwarding', 'cert-authority', 'no-agent-forwarding', 'no-port-forwarding', 'no-pty', 'no-user-rc',
  'no-x11-forwarding', 'port-forwarding', 'pty', 'no-touch-required', 'verify-required', 'restrict', 'user-rc',
  'x11-forwarding',
]);
const VALUE_OPTIONS = new Set(['command', 'environment', 'expiry-time', 'from', 'permitlisten', 'permitopen', 'principals', 'tunnel']);

export async function readAuthorizedKeys(
  rootDir: string,
  user: GuestUser,
  config: EffectiveSshdConfig,
  warn: (msg: string) => void,
): Promise<AuthorizedKey[]> {
  const keys: AuthorizedKey[] = [];
  for (const entry of config.authorizedKeysFile) {
    const guestFile = expandKeysFilePath(entry, user);
    let hostFile: string;
    try {
      hostFile = hostPath(rootDir, guestFile);
    } catch {
      continue;
    }
    const content = await fsp.readFile(hostFile, 'utf8').catch(() => null);
    if (content === null) continue;
    if (config.strictModes && !(await hasSecureModes(rootDir, guestFile, user.home))) {
      warn(`Authentication refused: bad ownership or modes for file ${guestFile}`);
      continue;
    }
    for (const line of content.split('\n')) {
      const key = parseAuthorizedKeyLine(line);
      if (key) keys.push(key);
    }
  }
  return keys;
}

export function expandKeysFilePath(entry: string, user: GuestUser): string {
  const expanded = entry.replace(/%([%hUu])/g, (_, token: string) =>
    token === '%' ? '%' : token === 'h' ? user.home : token === 'u' ? user.name : String(user.uid),
  );
  return path.posix.isAbsolute(expanded) ? path.posix.normalize(expanded) : path.posix.join(user.home, expanded);
}

/** OpenSSH's secure_path check, by mode bits only (every file of a simulated instance has the same host owner). */
async function hasSecureModes(rootDir: string, guestFile: string, home: string): Promise<boolean> {
  try {
    const fileStat = await fsp.stat(hostPath(rootDir, guestFile));
    if (!fileStat.isFile() || (fileStat.mode & 0o022) !== 0) return false;
    for (let dir = path.posix.dirname(guestFile); ; dir = path.posix.dirname(dir)) {
      const dirStat = await fsp.stat(hostPath(rootDir, dir));
      if ((dirStat.mode & 0o022) !== 0) return false;
      if (dir === home || dir === '/') return true;
    }
  } catch {
    return false;
  }
}

export function parseAuthorizedKeyLine(rawLine: string): AuthorizedKey | null {
  const line = rawLine.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (line === '' || line.startsWith('#')) return null;
  let rest = line;
  let options: Map<string, string | true> = new Map();
  const firstToken = line.split(/[ \t]/, 1)[0]!;
  if (!KEY_TYPE.test(firstToken)) {
    const optionsText = takeOptionsText(line);
    if (optionsText === null) return null;
    const parsed = parseOptions(optionsText);
    if (parsed === null) return null;
    options = parsed;
    rest = line.slice(optionsText.length).replace(/^[ \t]+/, '');
  }
  const [type, base64] = rest.split(/[ \t]+/);
  if (!type || !base64 || !KEY_TYPE.test(type) || !BASE64.test(base64)) return null;
  const blob = Buffer.from(base64, 'base64');
  if (embeddedType(blob) !== type) return null;
  const command = options.get('command');
  return {
    type,
    blob,
    forcedCommand: typeof command === 'string' ? command : null,
    certAuthority: options.has('cert-authority'),
  };
}

/** The options field: everything up to the first space or tab outside double quotes. */
function takeOptionsText(line: string): string | null {
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && inQuotes) i++;
    else if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === ' ' || c === '\t')) return line.slice(0, i);
  }
  return null;
}

function parseOptions(text: string): Map<string, string | true> | null {
  const options = new Map<string, string | true>();
  const option = /([A-Za-z0-9-]+)(?:="((?:[^"\\]|\\.)*)")?(,|$)/y;
  let pos = 0;
  while (pos < text.length) {
    option.lastIndex = pos;
    const m = option.exec(text);
    if (!m) return null;
    const name = m[1]!.toLowerCase();
    const value = m[2];
    if (value === undefined ? !FLAG_OPTIONS.has(name) : !VALUE_OPTIONS.has(name)) return null;
    if (!options.has(name)) options.set(name, value === undefined ? true : value.replace(/\\"/g, '"'));
    pos = option.lastIndex;
    if (m[3] === '' ) break;
    if (pos === text.length) return null; // a trailing comma
  }
  return options;
}

/** The key type recorded inside an SSH public key blob (its first string). */
export function embeddedType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return null;
  return blob.subarray(4, 4 + length).toString('latin1');
}
