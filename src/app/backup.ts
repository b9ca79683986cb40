/**
 * Backup and restore of the embedded store (issue 21).
 *
 * A backup is taken beside a running keyfleet, from this process: the database is opened read-only and copied
 * with SQLite's online backup API (better-sqlite3's `db.backup()`). Its first step copies every page at once
 * inside one read transaction, so the copy is one consistent moment of the store; in WAL mode that read blocks
 * no writer, and the server's lock on the data directory (a lock file, not a SQLite lock) is not needed. Why not
 * an API endpoint: the backup holds every account's data and, with --include-key, the key-encryption key, so the
 * right to take one is the right to read the data directory (0700, keyfleet's OS user), not an account's policy;
 * and neither the key nor its passphrase then crosses HTTP.
 *
 * The backup file is itself a SQLite database (mode 0600): the store as it was, plus one table `keyfleet_backup`
 * with one row saying what it is (format, id, time, schema version, the key's id and, when included, the key sealed
 * with a passphrase: backup-key.ts). `sqlite3 <file> 'PRAGMA integrity_check'` works on it as on any database.
 *
 * A restore goes into an empty data directory only: nothing is merged or overwritten. The file is checked
 * (integrity, what it is, a schema this keyfleet knows) before anything is written.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from '../store/migrations.js';
import { embeddedDatabasePath } from '../store/open-store.js';
import { type KeyEnvelope, keyId, openKey, sealKey } from './backup-key.js';
import { MASTER_KEY_ID_FILE, masterKeyPath, securePrivateDir } from './data-dir.js';

export const BACKUP_FORMAT = 1;
/** better-sqlite3 steps 100 pages at a time unless told otherwise; this is "all remaining pages" (its maximum). */
const ALL_AT_ONCE = { progress: () => 0x7fffffff };
const META_TABLE = 'keyfleet_backup';

/** A refusal with a stable code; the CLI prints the message and exits 1. */
export class BackupError extends Error {
  constructor(
    readonly code:
      | 'Backup.NoStore'
      | 'Backup.Exists'
      | 'Backup.Postgres'
      | 'Restore.NotEmpty'
      | 'Restore.NotABackup'
      | 'Restore.Damaged'
      | 'Restore.NewerSchema'
      | 'Restore.WrongPassphrase'
      | 'Restore.KeyMismatch'
      | 'Restore.NeedPassphrase',
    message: string,
  ) {
    super(message);
  }
}

export interface BackupSummary {
  file: string;
  backupId: string;
  createdAt: string;
  schemaVersion: string | null;
  /** The id of the key-encryption key the store's sealed values need (null: no key known to this process). */
  keyId: string | null;
  keyIncluded: boolean;
  bytes: number;
  counts: { keyPairs: number; instances: number; unfinishedTasks: number };
}

interface MetaRow {
  format: number;
  backup_id: string;
  created_at: string;
  schema_version: string | null;
  key_id: string | null;
  key_envelope: string | null;
}

function count(db: BetterSqlite3.Database, sql: string): number {
  try {
    return Number((db.prepare(sql).pluck().get() as number | bigint | undefined) ?? 0);
  } catch {
    return 0;
  }
}

function appliedMigrations(db: BetterSqlite3.Database): string[] {
  try {
    return (db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[]) ?? [];
  } catch {
    return [];
  }
}

/** null when `PRAGMA integrity_check` says ok, else what it (or SQLite, for a page it cannot even read) says. */
function integrity(db: BetterSqlite3.Database): string | null {
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.length === 1 && rows[0]!.integrity_check === 'ok'
      ? null
      : rows
          .slice(0, 5)
          .map((r) => r.integrity_check)
          .join('; ');
  } catch (err) {
    return (err as Error).message;
  }
}

export interface CreateBackupOptions {
  dataDir: string;
  out: string;
  /** The key-encryption key in use (configured or the data directory's file), or null when there is none. */
  masterKey: Buffer | null;
  /** Given: the key is included, sealed with this passphrase. */
  passphrase?: string;
}

export async function createBackup(opts: CreateBackupOptions): Promise<BackupSummary> {
  const dbFile = embeddedDatabasePath(opts.dataDir);
  if (!fs.existsSync(dbFile))
    throw new BackupError('Backup.NoStore', `There is no embedded store at ${dbFile} (is KEYFLEET_DATA_DIR right?).`);
  const out = path.resolve(opts.out);
  if (fs.existsSync(out)) throw new BackupError('Backup.Exists', `${out} exists; a backup never overwrites a file.`);
  // Written beside the target and renamed at the end: a backup file that exists is a whole one.
  const tmp = `${out}.partial-${process.pid}`;
  fs.closeSync(fs.openSync(tmp, 'wx', 0o600));
  try {
    const src = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true, timeout: 10_000 });
    try {
      // Every page in one step: one read transaction, so one consistent snapshot, never restarted by the server's
      // writes (a copy in steps of 100 pages restarts whenever another connection writes between two steps).
      await src.backup(tmp, ALL_AT_ONCE);
    } finally {
      src.close();
    }
    const backupId = randomUUID();
    const createdAt = new Date().toISOString();
    const dst = new BetterSqlite3(tmp, { fileMustExist: true });
    let summary: BackupSummary;
    try {
      // One self-contained file: no -wal beside it.
      dst.pragma('journal_mode = DELETE');
      const damaged = integrity(dst);
      if (damaged) throw new BackupError('Restore.Damaged', `The copy failed its integrity check: ${damaged}`);
      const migrations = appliedMigrations(dst);
      const envelope =
        opts.passphrase !== undefined && opts.masterKey
          ? await sealKey(opts.masterKey, opts.passphrase, backupId)
          : null;
      dst.exec(`CREATE TABLE ${META_TABLE} (format INTEGER NOT NULL, backup_id TEXT NOT NULL, created_at TEXT NOT NULL,
        schema_version TEXT, key_id TEXT, key_envelope TEXT)`);
      dst
        .prepare(`INSERT INTO ${META_TABLE} VALUES (?, ?, ?, ?, ?, ?)`)
        .run(
          BACKUP_FORMAT,
          backupId,
          createdAt,
          migrations.at(-1) ?? null,
          opts.masterKey ? keyId(opts.masterKey) : null,
          envelope ? JSON.stringify(envelope) : null,
        );
      summary = {
        file: out,
        backupId,
        createdAt,
        schemaVersion: migrations.at(-1) ?? null,
        keyId: opts.masterKey ? keyId(opts.masterKey) : null,
        keyIncluded: envelope !== null,
        bytes: 0,
        counts: {
          keyPairs: count(dst, 'SELECT count(*) FROM key_pairs'),
          instances: count(dst, 'SELECT count(*) FROM instances'),
          unfinishedTasks: count(dst, 'SELECT count(*) FROM tasks WHERE finished_at IS NULL'),
        },
      };
    } finally {
      dst.close();
    }
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, out);
    return { ...summary, bytes: fs.statSync(out).size };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export interface BackupInfo {
  backupId: string;
  createdAt: string;
  schemaVersion: string | null;
  keyId: string | null;
  keyIncluded: boolean;
}

/** Opens a backup read-only and checks it: a SQLite file that passes integrity_check, made by `keyfleet backup`. */
function inspect(file: string): { db: BetterSqlite3.Database; meta: MetaRow } {
  if (!fs.existsSync(file)) throw new BackupError('Restore.NotABackup', `${file} does not exist.`);
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
  } catch {
    throw new BackupError('Restore.NotABackup', `${file} is not a keyfleet backup (not a SQLite database).`);
  }
  try {
    const damaged = integrity(db);
    if (damaged) throw new BackupError('Restore.Damaged', `${file} failed its integrity check: ${damaged}`);
    let meta: MetaRow | undefined;
    try {
      meta = db.prepare(`SELECT * FROM ${META_TABLE}`).get() as MetaRow | undefined;
    } catch {
      meta = undefined;
    }
    if (!meta || meta.format !== BACKUP_FORMAT)
      throw new BackupError(
        'Restore.NotABackup',
        `${file} is not a keyfleet backup of format ${BACKUP_FORMAT} (no ${META_TABLE} row): make one with \`keyfleet backup\`.`,
      );
    const unknown = appliedMigrations(db).filter((m) => !(m in MIGRATIONS));
    if (unknown.length)
      throw new BackupError(
        'Restore.NewerSchema',
        `${file} was written by a newer keyfleet (schema ${unknown.join(', ')}); restore it with that version or later.`,
      );
    return { db, meta };
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface RestoreOptions {
  file: string;
  dataDir: string;
  /** Asked only when the backup includes the key. */
  passphrase: () => Promise<string | undefined>;
  /** KEYFLEET_MASTER_KEY, when configured: checked against the key the backup's store needs. */
  configuredKey: Buffer | null;
}

export interface RestoreSummary extends BackupInfo {
  dataDir: string;
  /** Where the key now comes from: the restored key file, the configuration, or nowhere yet (the user must add it). */
  key: 'restored-file' | 'configured' | 'missing';
}

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreSummary> {
  const dataDir = path.resolve(opts.dataDir);
  if (!isEmptyDir(dataDir))
    throw new BackupError(
      'Restore.NotEmpty',
      `${dataDir} is not empty; a restore goes into an empty data directory only (nothing is merged or overwritten).`,
    );
  const { db: src, meta } = inspect(path.resolve(opts.file));
  const written: string[] = [];
  const createdDir = !fs.existsSync(dataDir);
  try {
    // The key first: a wrong passphrase or a key that does not match refuses before anything is written.
    let restoredKey: Buffer | null = null;
    if (meta.key_envelope) {
      const passphrase = await opts.passphrase();
      if (passphrase === undefined)
        throw new BackupError(
          'Restore.NeedPassphrase',
          'This backup includes the key-encryption key: give its passphrase (KEYFLEET_BACKUP_PASSPHRASE or the prompt).',
        );
      try {
        restoredKey = await openKey(JSON.parse(meta.key_envelope) as KeyEnvelope, passphrase, meta.backup_id);
      } catch (err) {
        throw new BackupError('Restore.WrongPassphrase', (err as Error).message);
      }
    }
    const configured = opts.configuredKey;
    if (configured && meta.key_id && keyId(configured) !== meta.key_id)
      throw new BackupError(
        'Restore.KeyMismatch',
        `KEYFLEET_MASTER_KEY is key ${keyId(configured)}, but this backup's store was sealed with key ${meta.key_id}.`,
      );

    securePrivateDir(dataDir);
    const dbFile = embeddedDatabasePath(dataDir);
    fs.closeSync(fs.openSync(dbFile, 'wx', 0o600));
    written.push(dbFile);
    await src.backup(dbFile, ALL_AT_ONCE);
    const dst = new BetterSqlite3(dbFile, { fileMustExist: true });
    try {
      dst.exec(`DROP TABLE ${META_TABLE}`);
      dst.exec('VACUUM');
      const damaged = integrity(dst);
      if (damaged)
        throw new BackupError('Restore.Damaged', `The restored store failed its integrity check: ${damaged}`);
    } finally {
      dst.close();
    }
    if (restoredKey) {
      const keyFile = masterKeyPath(dataDir);
      written.push(keyFile);
      fs.writeFileSync(keyFile, restoredKey.toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    if (meta.key_id) {
      // keyfleet refuses to start on this directory with any other key, and never makes a new one for it.
      const idFile = path.join(dataDir, MASTER_KEY_ID_FILE);
      written.push(idFile);
      fs.writeFileSync(idFile, `${meta.key_id}\n`, { mode: 0o600, flag: 'wx' });
    }
    return {
      dataDir,
      backupId: meta.backup_id,
      createdAt: meta.created_at,
      schemaVersion: meta.schema_version,
      keyId: meta.key_id,
      keyIncluded: meta.key_envelope !== null,
      key: restoredKey ? 'restored-file' : configured ? 'configured' : 'missing',
    };
  } catch (err) {
    for (const f of written.reverse()) fs.rmSync(f, { force: true });
    for (const f of ['-wal', '-shm', '-journal']) fs.rmSync(embeddedDatabasePath(dataDir) + f, { force: true });
    if (createdDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  } finally {
    src.close();
  }
}
