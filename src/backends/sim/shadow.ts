/**
 * /etc/shadow of a simulated instance: password hashes in a crypt-like scrypt format,
 * `$scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>`. `*`, `!…` or an empty field mean no password login.
 * Hashing is async (node:crypto scrypt runs on the thread pool) so logins never block the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import fsp from 'node:fs/promises';
import { hostPath, replaceFile } from './rootfs.js';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const HASH_FORMAT = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const SHADOW = '/etc/shadow';

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P }, KEY_LENGTH);
  return `$scrypt$N=${N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (!hash || hash === '*' || hash.startsWith('!')) return false;
  const match = HASH_FORMAT.exec(hash);
  if (!match) return false;
  const params = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  // A hash in the file is data, not trusted: cost parameters outside sane bounds would let it exhaust memory.
  if (!isPowerOfTwo(params.N) || params.N > 1 << 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16)
    return false;
  const expected = Buffer.from(match[5]!, 'base64');
  if (expected.length < 16 || expected.length > 64) return false;
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), params, expected.length);
  return timingSafeEqual(expected, actual);
}

/** The hash field of `user` in /etc/shadow, or null when the user or the file is missing. */
export async function readShadowHash(rootDir: string, user: string): Promise<string | null> {
  const content = await fsp.readFile(hostPath(rootDir, SHADOW), 'utf8').catch(() => null);
  if (content === null) return null;
  for (const line of content.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === user && fields.length >= 2) return fields[1]!;
  }
  return null;
}

/** Sets (or, with null, locks: `*`) the password of `user`, keeping every other line and field. */
export async function setShadowHash(rootDir: string, user: string, hash: string | null): Promise<void> {
  if (hash !== null && /[:\n]/.test(hash)) throw new Error('A shadow hash cannot contain ":" or a newline.');
  const file = hostPath(rootDir, SHADOW);
  const content = (await fsp.readFile(file, 'utf8').catch(() => '')) || '';
  const daysSinceEpoch = String(Math.floor(Date.now() / 86_400_000));
  const lines = content.split('\n').filter((line, i, all) => !(line === '' && i === all.length - 1));
  let found = false;
  const updated = lines.map((line) => {
    const fields = line.split(':');
    if (fields[0] !== user) return line;
    found = true;
    fields[1] = hash ?? '*';
    if (fields.length > 2) fields[2] = daysSinceEpoch;
    return fields.join(':');
  });
  if (!found) updated.push(`${user}:${hash ?? '*'}:${daysSinceEpoch}:0:99999:7:::`);
  await replaceFile(file, updated.join('\n') + '\n', 0o600);
}

function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
  length: number,
): Promise<Buffer> {
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { ...params, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
}
