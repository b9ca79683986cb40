/**
 * authorized_keys as the simulated sshd reads it: every AuthorizedKeysFile entry (tokens %h %u %U %% expanded,
 * relative to the home directory), StrictModes applied like OpenSSH (the file, its directories up to and including
 * the home, must not be writable by group or others), and each line parsed like sshd: `[options] type base64
 * [comment]`; a line sshd would skip (bad options, bad key) is skipped. The options are parsed and applied by
 * sshd-key-options.ts. Each file is read up to AUTHORIZED_KEYS_MAX_BYTES only (see guest-file-limits.ts).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EffectiveSshdConfig } from './sshd-config.js';
import { readAccounts, readGroups, type GuestUser } from './sshd-passwd.js';
import { hostPath } from './rootfs.js';
import { noKeyOptions, parseKeyOptions, type KeyOptions } from './sshd-key-options.js';
import { AUTHORIZED_KEYS_MAX_BYTES, AUTHORIZED_KEYS_MAX_LINE, readHead } from './guest-file-limits.js';

export interface AuthorizedKey {
  type: string;
  blob: Buffer;
  options: KeyOptions;
}

const KEY_TYPE =
  /^(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)(?:-cert-v01@openssh\.com)?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Listings of the key asked about that are parsed per file (each costs a few µs; a MiB holds 13,000 of them). */
export const MAX_LISTINGS_OF_ONE_KEY = 64;
export async function readAuthorizedKeys(
  rootDir: string,
  user: GuestUser,
  config: EffectiveSshdConfig,
  warn: (msg: string) => void,
  /** Only listings of this key are parsed (a login asks about one key; parsing a MiB of others costs ~0.1 s). */
  onlyBlob?: Buffer,
): Promise<AuthorizedKey[]> {
  const mentions = mentionsOf(onlyBlob);
  const keys: AuthorizedKey[] = [];
  for (const entry of config.authorizedKeysFile) {
    const guestFile = expandKeysFilePath(entry, user);
    let hostFile: string;
    try {
      hostFile = hostPath(rootDir, guestFile);
    } catch {
      continue;
    }
    const head = await readHead(hostFile, AUTHORIZED_KEYS_MAX_BYTES).catch(() => null);
    if (head === null) continue;
    if (config.strictModes && !(await hasSecureModes(rootDir, guestFile, user))) {
      warn(`Authentication refused: bad ownership or modes for file ${guestFile}`);
      continue;
    }
    if (head.truncated) warn(`${guestFile}: only its first ${AUTHORIZED_KEYS_MAX_BYTES} bytes are read`);
    let listings = 0;
    for (const line of keyLines(head)) {
      if (!mentions(line)) continue;
      // sshd takes the first listing whose options let the client in; past a few dozen of one key, stop looking.
      if (onlyBlob && ++listings > MAX_LISTINGS_OF_ONE_KEY) break;
      const key = parseAuthorizedKeyLine(line);
      if (key && (!onlyBlob || key.blob.equals(onlyBlob))) keys.push(key);
    }
  }
  return keys;
}

/**
 * The complete lines of a (possibly cut) key file: a line cut by the size limit is dropped rather than read as
 * a shorter one, and a line longer than any real key listing is skipped unparsed.
 */
function keyLines(head: { bytes: Buffer; truncated: boolean }): string[] {
  const lines = head.bytes.toString('utf8').split('\n');
  if (head.truncated) lines.pop();
  return lines.filter((line) => line.length <= AUTHORIZED_KEYS_MAX_LINE);
}

/**
 * sshd's revocation check: a key listed in the RevokedKeys file is refused, and so is every key when the file cannot
 * be read. A binary KRL is not parsed here, so it too refuses every key (failing closed).
 */
export async function isRevoked(rootDir: string, config: EffectiveSshdConfig, blob: Buffer): Promise<boolean> {
  if (config.revokedKeys === null) return false;
  let head: { bytes: Buffer; truncated: boolean };
  try {
    head = await readHead(hostPath(rootDir, path.posix.resolve('/', config.revokedKeys)), AUTHORIZED_KEYS_MAX_BYTES);
  } catch {
    return true;
  }
  // A list too long to read whole might revoke this key further on: fail closed, as for an unreadable one.
  if (head.truncated || head.bytes.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC)) return true;
  const mentions = mentionsOf(blob);
  return keyLines(head).some((line) => mentions(line) && (parseAuthorizedKeyLine(line)?.blob.equals(blob) ?? false));
}

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');

/**
 * A cheap test that a line may list `blob`: it holds the blob's base64 but for the last quantum (which another
 * encoding of the same bytes may spell differently), so only such lines are parsed.
 */
function mentionsOf(blob: Buffer | undefined): (line: string) => boolean {
  if (!blob) return () => true;
  const stem = blob.toString('base64').slice(0, -4);
  return (line) => line.includes(stem);
}

export function expandKeysFilePath(entry: string, user: GuestUser): string {
  const expanded = entry.replace(/%([%hUu])/g, (_, token: string) =>
    token === '%' ? '%' : token === 'h' ? user.home : token === 'u' ? user.name : String(user.uid),
  );
  return path.posix.isAbsolute(expanded) ? path.posix.normalize(expanded) : path.posix.join(user.home, expanded);
}

/**
 * OpenSSH's secure_path check, by mode bits (every file of a simulated instance belongs to the user logging in and
 * their primary group): the file and each directory up to the home must not be world-writable, nor group-writable
 * unless, by Debian's patch, the group is the user's private group (its only member is the user).
 */
async function hasSecureModes(rootDir: string, guestFile: string, user: GuestUser): Promise<boolean> {
  try {
    const groupWritableOk = await isPrivateGroup(rootDir, user);
    const secure = (mode: number) => (mode & 0o002) === 0 && ((mode & 0o020) === 0 || groupWritableOk);
    const fileStat = await fsp.stat(hostPath(rootDir, guestFile));
    if (!fileStat.isFile() || !secure(fileStat.mode)) return false;
    for (let dir = path.posix.dirname(guestFile); ; dir = path.posix.dirname(dir)) {
      if (!secure((await fsp.stat(hostPath(rootDir, dir))).mode)) return false;
      if (dir === user.home || dir === '/') return true;
    }
  } catch {
    return false;
  }
}

/** Debian's secure_permissions: the group exists and its members, primary and supplementary, are the user alone. */
async function isPrivateGroup(rootDir: string, user: GuestUser): Promise<boolean> {
  const [groups, accounts] = await Promise.all([readGroups(rootDir), readAccounts(rootDir)]);
  const group = groups.find((g) => g.gid === user.gid);
  if (!group) return false;
  const primaryOwners = accounts.filter((a) => a.gid === user.gid).map((a) => a.uid);
  if (primaryOwners.some((uid) => uid !== user.uid)) return false;
  if (group.members.length > 1 || (group.members.length === 1 && group.members[0] !== user.name)) return false;
  return primaryOwners.length + group.members.length > 0;
}

export function parseAuthorizedKeyLine(rawLine: string): AuthorizedKey | null {
  const line = rawLine.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (line === '' || line.startsWith('#')) return null;
  let rest = line;
  let options = noKeyOptions();
  const firstToken = line.split(/[ \t]/, 1)[0]!;
  if (!KEY_TYPE.test(firstToken)) {
    const optionsText = takeOptionsText(line);
    if (optionsText === null) return null;
    const parsed = parseKeyOptions(optionsText);
    if (parsed === null) return null;
    options = parsed;
    rest = line.slice(optionsText.length).replace(/^[ \t]+/, '');
  }
  const [type, base64] = rest.split(/[ \t]+/);
  if (!type || !base64 || !KEY_TYPE.test(type) || !BASE64.test(base64)) return null;
  const blob = Buffer.from(base64, 'base64');
  if (embeddedType(blob) !== type) return null;
  return { type, blob, options };
}

/** The options field (sshkey_advance_past_options): up to the first space or tab outside quotes; `\"` is skipped. */
function takeOptionsText(line: string): string | null {
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === '"') i++;
    else if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === ' ' || c === '\t')) return line.slice(0, i);
  }
  return null;
}

/** The key type recorded inside an SSH public key blob (its first string). */
export function embeddedType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return null;
  return blob.subarray(4, 4 + length).toString('latin1');
}
