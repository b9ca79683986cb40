/**
 * Makes the schema fixtures of test/fixtures/schemas/: one small data directory per migration version, as a
 * keyfleet whose newest migration was that one would have left it, with representative rows (an account and its
 * administrator and access key, a user with a password, a group and a policy where the schema has them, a key pair
 * with its escrowed private key, two simulated instances, one of them bound, a registered host with its sealed
 * management key, the bind tasks with their items and binding events, audit entries). test/ops/upgrade.test.ts
 * opens each with the current code, migrates it forward and uses it.
 *
 *   node --import tsx scripts/make-schema-fixture.ts              # every version that has no fixture yet
 *   node --import tsx scripts/make-schema-fixture.ts 0012 0013    # these versions (made again if they exist)
 *
 * How: the current keyfleet (in this process, SSH answered by the in-memory fleet) writes the rows through its
 * API; then, for version N, a new database is migrated up to N with the real migrations and each row is copied
 * into it with the columns that exist at N (migrations only add, so an older row is a subset of a newer one). A
 * row the schema of N cannot hold (a registered host before 0003) is left out with what refers to it. The
 * database is stored gzipped (mostly empty pages: some KB instead of hundreds), with the key-encryption key file
 * and a fixture.json listing what the test should find.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { loadConfig } from '../src/app/config.js';
import { startKeyfleet } from '../src/app/keyfleet.js';
import { MIGRATIONS, migrationProvider } from '../src/store/migrations.js';
import { Api, LINUX_IMAGE, tempDir, testEnv } from '../test/support/keyfleet.js';
import { memoryFleet } from '../test/support/memory-fleet.js';

const OUT = path.resolve(import.meta.dirname, '../test/fixtures/schemas');
/** The fixtures' key-encryption key: a test key, public by design (32 bytes). */
const FIXTURE_MASTER_KEY = Buffer.from('keyfleet-schema-fixture-key-0001').toString('base64');
const REGION = 'cn-hangzhou';

/** Writes the representative rows with the current keyfleet; returns its data directory and what it made. */
async function writeRows(): Promise<{ dataDir: string; expect: Record<string, unknown> }> {
  const dataDir = tempDir();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'master.key'), FIXTURE_MASTER_KEY, { mode: 0o600 });
  const env = await testEnv({ dataDir, bootMs: 0, extra: { KEYFLEET_SIM_SERVE: '0' } });
  const kf = await startKeyfleet(loadConfig(env), { live: memoryFleet() });
  try {
    const api = new Api(kf.url);
    await api.signIn();
    const base = `/api/v1/regions/${REGION}`;
    const { privateKey } = await api.createKeyPair('fixture-key', 'ed25519');
    const ids = await api.run({ imageId: LINUX_IMAGE, amount: 2, name: 'fixture', start: false });
    await api.waitStatus(ids, 'Stopped');
    const bind = await api.call('POST', `${base}/bindings`, {
      action: 'bind',
      keyPairName: 'fixture-key',
      instanceIds: [ids[0]],
      wait: true,
    });
    if (bind.task.succeeded !== 1) throw new Error(`bind: ${JSON.stringify(bind.task)}`);
    await api.call('POST', '/api/v1/users', { name: 'fixture-user', password: 'Fixture-Pass-0001' });
    // The user may list key pairs through a policy of its own and through its group's.
    await api.call('POST', '/api/v1/policies', {
      name: 'fixture-read',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
    await api.call('PUT', '/api/v1/users/fixture-user/policies/fixture-read');
    await api.call('POST', '/api/v1/groups', { name: 'fixture-group' });
    await api.call('PUT', '/api/v1/groups/fixture-group/members/fixture-user');
    await api.call('PUT', '/api/v1/groups/fixture-group/policies/fixture-read');
    const host = await api.call('POST', `${base}/hosts`, {
      name: 'fixture-host',
      address: '192.0.2.10',
      port: 22,
      loginUser: 'root',
      managementPrivateKey: privateKey,
    });
    const hostId = host.instance?.id ?? host.instanceId ?? host.id;
    const live = await api.call('POST', `${base}/bindings`, {
      action: 'bind',
      keyPairName: 'fixture-key',
      instanceIds: [hostId],
      mode: 'live',
      wait: true,
    });
    if (live.task.succeeded !== 1) throw new Error(`live bind: ${JSON.stringify(live.task)}`);
    return {
      dataDir,
      expect: {
        keyPair: 'fixture-key',
        boundInstance: ids[0],
        otherInstance: ids[1],
        host: hostId,
        tasks: [bind.task.id, live.task.id],
        user: 'fixture-user',
        userPassword: 'Fixture-Pass-0001',
      },
    };
  } finally {
    await kf.close();
  }
}

type Row = Record<string, unknown>;

function columnsOf(db: BetterSqlite3.Database, table: string): string[] {
  return (db.pragma(`table_info(${JSON.stringify(table)})`) as Array<{ name: string }>).map((c) => c.name);
}

function tablesOf(db: BetterSqlite3.Database): string[] {
  return db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%'",
    )
    .pluck()
    .all() as string[];
}

/** A new database migrated up to `version` with the real migrations. */
async function migratedTo(file: string, version: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(version);
    if (error) throw error;
  } finally {
    await db.destroy();
  }
}

async function makeFixture(version: string, source: string, expect: Record<string, unknown>): Promise<void> {
  const dir = path.join(OUT, version);
  const work = tempDir();
  const file = path.join(work, 'keyfleet.db');
  await migratedTo(file, version);
  const src = new BetterSqlite3(source, { readonly: true });
  const dst = new BetterSqlite3(file);
  const left: Record<string, number> = {};
  try {
    dst.pragma('foreign_keys = OFF');
    const target = new Set(tablesOf(dst));
    const instanceCols = new Set(columnsOf(dst, 'instances'));
    // Registered hosts came with 0003: before it there is nowhere to keep how keyfleet reaches one.
    const skipped = new Set(
      (src.prepare("SELECT id FROM instances WHERE backend = 'host'").pluck().all() as string[]).filter(
        () => !instanceCols.has('sealed_management_key'),
      ),
    );
    const skippedTasks = new Set<string>();
    for (const t of src.prepare('SELECT DISTINCT task_id, instance_id FROM task_items').all() as Row[])
      if (skipped.has(t.instance_id as string)) skippedTasks.add(t.task_id as string);
    const keep = (table: string, row: Row): boolean => {
      if (table === 'instances') return !skipped.has(row.id as string);
      if (table === 'tasks') return !skippedTasks.has(row.id as string);
      if ('task_id' in row && skippedTasks.has(row.task_id as string)) return false;
      if ('instance_id' in row && skipped.has(row.instance_id as string)) return false;
      // Sessions are ended by 0010 anyway; a fixture signs in afresh.
      return table !== 'sessions';
    };
    dst.transaction(() => {
      for (const table of tablesOf(src)) {
        if (!target.has(table)) continue;
        const cols = columnsOf(dst, table);
        const rows = (src.prepare(`SELECT * FROM "${table}"`).all() as Row[]).filter((r) => keep(table, r));
        const insert = dst.prepare(
          `INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        );
        for (const r of rows) insert.run(cols.map((c) => (c in r ? r[c] : null)));
        left[table] = rows.length;
      }
    })();
    const fk = dst.pragma('foreign_key_check') as unknown[];
    if (fk.length) throw new Error(`${version}: foreign key check failed: ${JSON.stringify(fk)}`);
    dst.pragma('journal_mode = DELETE');
    dst.exec('VACUUM');
  } finally {
    src.close();
    dst.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'keyfleet.db.gz'), gzipSync(fs.readFileSync(file), { level: 9 }));
  fs.writeFileSync(path.join(dir, 'master.key'), FIXTURE_MASTER_KEY);
  const hostKept = left.instances === 3;
  fs.writeFileSync(
    path.join(dir, 'fixture.json'),
    `${JSON.stringify({ version, rows: left, ...expect, host: hostKept ? expect.host : null, tasks: hostKept ? expect.tasks : (expect.tasks as string[]).slice(0, 1) }, null, 2)}\n`,
  );
  fs.rmSync(work, { recursive: true, force: true });
  process.stdout.write(`${version}: ${JSON.stringify(left)} -> ${path.relative(process.cwd(), dir)}\n`);
}

async function main(): Promise<void> {
  const all = Object.keys(MIGRATIONS);
  const asked = process.argv.slice(2);
  const versions = asked.length
    ? asked.map((a) => {
        const v = all.find((m) => m === a || m.startsWith(`${a}-`));
        if (!v) throw new Error(`No migration ${a} (known: ${all.join(', ')}).`);
        return v;
      })
    : all.filter((v) => !fs.existsSync(path.join(OUT, v, 'keyfleet.db.gz')));
  if (!versions.length) {
    process.stdout.write('Every migration has its fixture.\n');
    return;
  }
  const { dataDir, expect } = await writeRows();
  const source = path.join(dataDir, 'keyfleet.db');
  // The rows are read from one file: fold the write-ahead log into it first.
  const db = new BetterSqlite3(source);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  for (const v of versions) await makeFixture(v, source, expect);
  fs.rmSync(dataDir, { recursive: true, force: true });
  execFileSync('du', ['-sh', OUT], { stdio: 'inherit' });
}

await main();
