/**
 * /etc/shadow of a simulated instance: password hashes in a crypt-like scrypt format,
 * `$scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>`. `*`, `!…` or an empty field mean no password login.
 * Hashing is async (node:crypto scrypt runs on the thread pool) so logins never block the event loop.
 *
 * A hash in the guest's file is data its root wrote, and every tenant shares this process: a hash whose cost is
 * above MAX_SCRYPT_WORK (N·r·p ≤ 2^18: twice keyfleet's own N=2^14, r=8, p=1, at most 32 MiB, the range of
 * scrypt/yescrypt hashes distributions write) never matches and is not computed. At most HASHING_SLOTS guest hashes
 * are computed at once in the whole process, one per instance, so password guessing cannot take the thread pool
 * that every tenant's file reads need.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createSemaphore } from '../../common/concurrency.js';
import { ACCOUNT_FILE_MAX_BYTES, GuestFileTooLarge, readCapped } from './guest-file-limits.js';
import { hostPath, replaceFile } from './rootfs.js';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const HASH_FORMAT = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const SHADOW = '/etc/shadow';
/** N·r·p: the work (and N·r the memory, 128 bytes each) of one verification. */
export const MAX_SCRYPT_WORK = 1 << 18;
const HASHING_SLOTS = 2;
const hashingSlots = createSemaphore(HASHING_SLOTS);
/** Per instance, the verification under way (or queued): the next one of that instance waits for it. */
const instanceHashing = new Map<string, Promise<unknown>>();

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P }, KEY_LENGTH);
  return `$scrypt$N=${N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * verifyPassword for a hash read from the instance at rootDir, one at a time per instance and in the process-wide
 * hashing slots.
 */
export function verifyGuestPassword(rootDir: string, password: string, hash: string | null): Promise<boolean> {
  const previous = instanceHashing.get(rootDir) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(() => hashingSlots.run(() => verifyPassword(password, hash)));
  instanceHashing.set(rootDir, mine);
  const forget = () => {
    if (instanceHashing.get(rootDir) === mine) instanceHashing.delete(rootDir);
  };
  mine.then(forget, forget);
  return mine;
}

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (!hash || hash === '*' || hash.startsWith('!')) return false;
  const match = HASH_FORMAT.exec(hash);
  if (!match) return false;
  const params = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  // A hash in the file is data, not trusted: a cost above MAX_SCRYPT_WORK never matches (see the header).
  if (!isPowerOfTwo(params.N) || params.r < 1 || params.p < 1 || params.N * params.r * params.p > MAX_SCRYPT_WORK)
    return false;
  const expected = Buffer.from(match[5]!, 'base64');
  if (expected.length < 16 || expected.length > 64) return false;
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), params, expected.length);
  return timingSafeEqual(expected, actual);
}

/** The hash field of `user` in /etc/shadow, or null when the user or the file is missing. */
export async function readShadowHash(rootDir: string, user: string): Promise<string | null> {
  // Over ACCOUNT_FILE_MAX_BYTES the file is not read: no hash, so no password login.
  const content = await Promise.resolve()
    .then(() => readCapped(hostPath(rootDir, SHADOW), ACCOUNT_FILE_MAX_BYTES))
    .catch(() => null);
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
  // A missing file starts empty; one over ACCOUNT_FILE_MAX_BYTES is refused (Instance.GuestFileTooLarge, the file
  // left as it is), never read whole.
  const content = await readCapped(file, ACCOUNT_FILE_MAX_BYTES).catch((e: unknown) => {
    if (e instanceof GuestFileTooLarge)
      throw new GuestFileTooLarge(file, e.limit, SHADOW, `the password of ${user} was not changed`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  });
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
