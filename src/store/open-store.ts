/**
 * Opens the store: the embedded SQLite file (default, no server, no setup) or PostgreSQL (several keyfleet
 * processes), with the same schema, migrations and queries through Kysely.
 *
 * SQLite settings and why: WAL so readers never block the writer; synchronous=NORMAL, which in WAL mode is
 * crash-safe for the database (a power cut may lose the last commits, a process crash loses nothing);
 * case_sensitive_like so LIKE means the same on both stores; foreign keys on. better-sqlite3 is synchronous, and
 * Kysely funnels every query through its single connection, so transactions never interleave.
 */
import { createBindingExpiryRepo } from './repos/binding-expiry-repo.js';
import { createReobservationRepo } from './repos/reobservation-repo.js';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { withStatementCache } from './statement-cache.js';
import { createGroupCommit } from './group-commit.js';
import pg from 'pg';
import { createPostgresPool } from './postgres-pool.js';
import { CoreError } from '../core/errors.js';
import type { Repos, Store } from '../core/ports.js';
import { migrationProvider } from './migrations.js';
import { createAccountRepo } from './repos/account-repo.js';
import { createAuditRepo } from './repos/audit-repo.js';
import { createBindingEventRepo } from './repos/event-repo.js';
import { createInstanceRepo } from './repos/instance-repo.js';
import { createKeyPairRepo } from './repos/keypair-repo.js';
import { createTaskRepo } from './repos/task-repo.js';
import { createEventOutboxRepo } from './repos/event-outbox-repo.js';
import { createRotationRepo } from './repos/rotation-repo.js';
import { createTagRepo } from './repos/tag-repo.js';
import { createRevocationRepo } from './repos/revocation-repo.js';
import { createRequestGuardRepo } from './repos/request-guard-repo.js';
import type { Database, Dialect } from './schema.js';

export interface StoreOptions {
  /** `postgres://…` for PostgreSQL; otherwise the embedded store lives in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** Told when PostgreSQL ends an idle connection (restart, failover); the pool reconnects on the next query. */
  onConnectionLost?: (err: Error) => void;
  /** Told each transaction's duration (from the call to its commit or failure), for metrics. */
  onTransaction?: (seconds: number, ok: boolean) => void;
}

export interface OpenedStore extends Store {
  dialect: Dialect;
  db: Kysely<Database>;
}

// pg returns int8 as strings to be safe with big numbers; ours (epoch ms, counters) fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

function reposOver(db: Kysely<Database>, dialect: Dialect): Repos {
  const ctx = { db, dialect };
  const keyPairs = createKeyPairRepo(ctx);
  return {
    keyPairs: {
      ...keyPairs,
      async insert(kp) {
        try {
          await keyPairs.insert(kp);
        } catch (err) {
          if (isUniqueViolation(err))
            throw new CoreError(
              'KeyPair.AlreadyExists',
              `A key pair named '${kp.name}' already exists in region '${kp.regionId}'.`,
              { keyPairName: kp.name },
            );
          throw err;
        }
      },
    },
    instances: createInstanceRepo(ctx),
    tasks: createTaskRepo(ctx),
    events: createBindingEventRepo(ctx),
    accounts: createAccountRepo(ctx),
    audit: createAuditRepo(ctx),
    outbox: createEventOutboxRepo(ctx),
    guards: createRequestGuardRepo(ctx),
    expiries: createBindingExpiryRepo(ctx),
    rotations: createRotationRepo(ctx),
    revocations: createRevocationRepo(ctx),
    tags: createTagRepo(ctx),
    reobservations: createReobservationRepo(ctx),
  };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The embedded store's directory is 0700 and its files (database, -wal, -shm) 0600, whatever the umask or an
 * earlier version made them (issue 18). The database file is created empty with that mode before SQLite opens it
 * (SQLite takes an empty file as a new database), so there is no moment when it is readable by others.
 */
function ownerOnlyFiles(dataDir: string, file: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      fs.chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export function embeddedDatabasePath(dataDir: string): string {
  return path.join(dataDir, 'keyfleet.db');
}

export async function openStore(opts: StoreOptions): Promise<OpenedStore> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let endPool = async (): Promise<void> => undefined;
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    dialect = 'postgres';
    const managed = createPostgresPool(
      opts.databaseUrl,
      opts.onConnectionLost ?? ((err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`)),
    );
    endPool = managed.end;
    // A connection that dies while a query holds it (the server gone) fails that query, and pg also emits 'error' on
    // the client, which the pool listens for only while the client is idle: unheard, it would end the process.
    // The query's own failure is what reports it; the pool drops the dead client when it is released.
    managed.pool.on('connect', (client) => client.on('error', () => undefined));
    // Kysely's destroy() ends the pool too; managed.end() is idempotent and also waits for the sockets to close.
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: managed.pool }) });
  } else {
    dialect = 'sqlite';
    const file = embeddedDatabasePath(opts.dataDir);
    ownerOnlyFiles(opts.dataDir, file);
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    // SQLite gives its -wal and -shm files the database file's mode; those left by an earlier run are fixed too.
    ownerOnlyFiles(opts.dataDir, file);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('case_sensitive_like = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  const repos = reposOver(db, dialect);
  // SQLite has one writer: transactions of the same moment share a COMMIT (group-commit.ts). PostgreSQL runs them
  // side by side on its pool.
  const grouped = dialect === 'sqlite' ? createGroupCommit(db) : null;
  const run = <T>(fn: (tx: Repos) => Promise<T>): Promise<T> =>
    grouped
      ? grouped((trx) => fn(reposOver(trx, dialect)))
      : db.transaction().execute((trx) => fn(reposOver(trx, dialect)));
  const observe = opts.onTransaction;
  return {
    ...repos,
    dialect,
    db,
    transaction: observe
      ? async (fn) => {
          const started = performance.now();
          try {
            const result = await run(fn);
            observe((performance.now() - started) / 1000, true);
            return result;
          } catch (err) {
            observe((performance.now() - started) / 1000, false);
            throw err;
          }
        }
      : run,
    close: async () => {
      await db.destroy();
      await endPool();
    },
  };
}
