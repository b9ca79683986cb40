/**
 * The data directory: one keyfleet process owns it at a time (the embedded store assumes a single writer, so a
 * second process is refused instead of corrupting state), and it holds the key-encryption key unless the
 * configuration gives one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyId } from './backup-key.js';

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

export const masterKeyPath = (dataDir: string): string => path.join(dataDir, 'master.key');

/**
 * Written by `keyfleet restore` (src/app/backup.ts): the id of the key the restored store was sealed with. With it
 * keyfleet starts only with that key, and never makes a new one, which would leave escrow and sealed secrets shut.
 */
export const MASTER_KEY_ID_FILE = 'master.key.id';

function expectedKeyId(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, MASTER_KEY_ID_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function checkRestoredKey(dataDir: string, key: Buffer): Buffer {
  const expected = expectedKeyId(dataDir);
  const id = keyId(key);
  if (expected && id !== expected)
    throw new Error(
      `This data directory was restored from a backup sealed with key ${expected}; the key given is ${id}.`,
    );
  return key;
}

/** The key-encryption key if there is one (configured or the data directory's file); never creates one. */
export function readMasterKey(dataDir: string, configured: string | undefined): Buffer | null {
  if (configured) return loadMasterKey(dataDir, configured);
  if (!fs.existsSync(masterKeyPath(dataDir))) return null;
  return Buffer.from(fs.readFileSync(masterKeyPath(dataDir), 'utf8').trim(), 'base64');
}

/** The 32-byte key-encryption key: from configuration (base64), else a file created once with mode 0600. */
export function loadMasterKey(dataDir: string, configured: string | undefined): Buffer {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    if (key.length !== 32) throw new Error('KEYFLEET_MASTER_KEY must be 32 bytes, base64-encoded.');
    return checkRestoredKey(dataDir, key);
  }
  securePrivateDir(dataDir);
  const file = masterKeyPath(dataDir);
  const expected = expectedKeyId(dataDir);
  if (!fs.existsSync(file) && expected)
    throw new Error(
      `This data directory was restored from a backup without its key-encryption key: set KEYFLEET_MASTER_KEY or put the key file (key ${expected}) at ${file}.`,
    );
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  // A key file copied in (or restored) with a looser mode is the owner's only again.
  fs.chmodSync(file, 0o600);
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key.`);
  return checkRestoredKey(dataDir, key);
}
