/**
 * The data directory: one keyfleet process owns it at a time (the embedded store assumes a single writer, so a
 * second process is refused instead of corrupting state), and it holds the key-encryption key unless the
 * configuration gives one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates the data directory if needed and makes it the owner's only (0700), also when it already existed with a
 * looser mode: it holds the store, the key-encryption key and the lock (issue 18).
 */
export function securePrivateDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}

/** Takes the lock file; a lock left by a dead process (kill -9) is taken over. Returns a release function. */
export function lockDataDir(dataDir: string): () => void {
  securePrivateDir(dataDir);
  const file = path.join(dataDir, 'keyfleet.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(`The data directory ${dataDir} is in use by keyfleet process ${holder}.`);
      }
      fs.unlinkSync(file);
    }
  }
  throw new DataDirLockedError(`Could not lock the data directory ${dataDir}.`);
}

/** The 32-byte key-encryption key: from configuration (base64), else a file created once with mode 0600. */
export function loadMasterKey(dataDir: string, configured: string | undefined): Buffer {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    if (key.length !== 32) throw new Error('KEYFLEET_MASTER_KEY must be 32 bytes, base64-encoded.');
    return key;
  }
  securePrivateDir(dataDir);
  const file = path.join(dataDir, 'master.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  // A key file copied in (or restored) with a looser mode is the owner's only again.
  fs.chmodSync(file, 0o600);
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key.`);
  return key;
}
