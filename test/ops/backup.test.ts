/**
 * Backup and restore (issue 21): `keyfleet backup` taken through the CLI while keyfleet serves a 10,000-instance
 * batch bind restores into an empty data directory, passes SQLite's integrity check, and the keyfleet started on
 * it finishes the batch: every item done, each instance's binding recorded once. Then what a restore refuses, and
 * how the key-encryption key is handled when the backup does not hold it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { BackupError, restoreBackup } from '../../src/app/backup.js';
import { Api, LINUX_IMAGE, sleep, startChild, tempDir, testEnv } from '../support/keyfleet.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');
const N = 10_000;
const PASSPHRASE = 'correct horse battery staple';

const children: Array<{ kill(sig: NodeJS.Signals): boolean; exitCode: number | null }> = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** The CLI as a user runs it, with its exit code. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The test runner's environment without its KEYFLEET_* settings, plus the data directory and `extra`. */
function cliEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYFLEET_') && v !== undefined) env[k] = v;
  return { ...env, KEYFLEET_DATA_DIR: dataDir, ...extra };
}

function integrity(file: string): string {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>)
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
}

function query<T>(file: string, sql: string, ...params: unknown[]): T {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}

async function stop(child: { kill(sig: NodeJS.Signals): boolean; once(e: 'exit', f: () => void): unknown }) {
  const exited = new Promise<void>((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

test('a backup taken during a 10,000-instance batch restores, passes the integrity check, and the restored keyfleet finishes the batch', {
  timeout: 600_000,
}, async (t) => {
  const started = performance.now();
  const phase = (name: string, since: number) =>
    t.diagnostic(`${name}: ${((performance.now() - since) / 1000).toFixed(1)} s`);
  // Paced so that the batch is still running when the backup is taken (200 s at 50 instances/s); the server is
  // stopped right after the backup, so the pace costs no time.
  const env = await testEnv({
    bootMs: 0,
    extra: { KEYFLEET_TASK_ITEMS_PER_SECOND: '50', KEYFLEET_SIM_SERVE: '0', KEYFLEET_TASK_CHUNK: '500' },
  });
  const run = await startChild(env);
  children.push(run.child);
  const api = new Api(run.url);
  await api.signIn();
  await api.createKeyPair('fleet-key', 'ed25519');

  // Created stopped: an on-restart bind records the key for the next start, as for a running machine.
  let t0 = performance.now();
  const ids: string[] = [];
  for (let made = 0; made < N; made += 1000)
    ids.push(...(await api.run({ imageId: LINUX_IMAGE, amount: 1000, name: `node${made}`, start: false })));
  for (;;) {
    const page = await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1&status=Stopped');
    if (page.total >= N) break;
    await sleep(200);
  }
  phase(`create ${N} instances`, t0);

  const submitted = await api.call('POST', '/api/v1/regions/cn-hangzhou/bindings', {
    action: 'bind',
    keyPairName: 'fleet-key',
    instanceIds: ids,
  });
  const taskId = submitted.task.id;
  for (;;) {
    const task = (await api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    if (task.succeeded >= 100) break;
    await sleep(50);
  }

  t0 = performance.now();
  const backupFile = path.join(tempDir(), 'keyfleet.backup');
  const backup = await cli(
    ['backup', backupFile, '--include-key', '--json'],
    cliEnv(env.KEYFLEET_DATA_DIR!, { KEYFLEET_BACKUP_PASSPHRASE: PASSPHRASE }),
  );
  phase('backup through the CLI, beside the running batch', t0);
  assert.equal(backup.code, 0, backup.stderr);
  const summary = JSON.parse(backup.stdout);
  assert.equal(summary.keyIncluded, true);
  assert.equal(summary.counts.instances, N);
  assert.equal(fs.statSync(backupFile).mode & 0o777, 0o600, 'the backup file is the owner’s only');
  await stop(run.child);

  // The backup holds the batch mid-way: started, not finished.
  const atBackup = query<{ done: number; finished: number | null }>(
    backupFile,
    "SELECT (SELECT count(*) FROM task_items WHERE task_id = ? AND status = 'succeeded') AS done, finished_at AS finished FROM tasks WHERE id = ?",
    taskId,
    taskId,
  );
  assert.equal(atBackup.finished, null, 'the batch was still running in the backup');
  assert.ok(
    atBackup.done >= 100 && atBackup.done < N,
    `the backup was taken mid-batch (${atBackup.done} of ${N} done)`,
  );

  t0 = performance.now();
  const restoredDir = path.join(tempDir(), 'restored');
  const restore = await cli(
    ['restore', backupFile, '--data-dir', restoredDir],
    cliEnv(restoredDir, { KEYFLEET_BACKUP_PASSPHRASE: PASSPHRASE }),
  );
  phase('restore through the CLI', t0);
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, /integrity check/);
  const restoredDb = path.join(restoredDir, 'keyfleet.db');
  assert.equal(integrity(restoredDb), 'ok');
  assert.equal(fs.statSync(path.join(restoredDir, 'master.key')).mode & 0o777, 0o600);

  t0 = performance.now();
  const restoredEnv = await testEnv({ dataDir: restoredDir, bootMs: 0, extra: { KEYFLEET_SIM_SERVE: '0' } });
  const again = await startChild(restoredEnv);
  children.push(again.child);
  const api2 = new Api(again.url);
  // The access key's secret is sealed: signing in proves the restored key opens the restored store.
  await api2.signIn();
  let task: any;
  for (;;) {
    task = (await api2.call('GET', `/api/v1/tasks/${taskId}`)).task;
    if (task.finishedAt) break;
    await sleep(200);
  }
  phase('the restored keyfleet finishes the batch', t0);
  assert.equal(task.status, 'succeeded');
  assert.equal(task.succeeded, N);
  assert.equal(task.failed, 0);
  const bound = await api2.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1&keyPairName=fleet-key');
  assert.equal(bound.total, N, 'every instance ends bound');
  await stop(again.child);
  const events = query<{ events: number; instances: number }>(
    restoredDb,
    'SELECT count(*) AS events, count(DISTINCT instance_id) AS instances FROM binding_events WHERE task_id = ?',
    taskId,
  );
  assert.deepEqual(events, { events: N, instances: N }, "each instance's binding recorded, once");
  assert.equal(integrity(restoredDb), 'ok');
  phase('whole test', started);
});

test('restore refuses a non-empty data dir, a damaged or foreign file, a newer schema and a wrong passphrase; without the key it says what to supply', {
  timeout: 300_000,
}, async () => {
  const env = await testEnv({ bootMs: 0, extra: { KEYFLEET_SIM_SERVE: '0' } });
  const dataDir = env.KEYFLEET_DATA_DIR!;
  const run = await startChild(env);
  children.push(run.child);
  const api = new Api(run.url);
  await api.signIn();
  await api.createKeyPair('kept-key', 'ed25519');
  const work = tempDir();
  const plain = path.join(work, 'plain.backup');
  const sealed = path.join(work, 'sealed.backup');
  const b1 = await cli(['backup', plain], cliEnv(dataDir));
  assert.equal(b1.code, 0, b1.stderr);
  assert.match(b1.stdout, /NOT in this backup/, 'says the key is not in the backup');
  assert.match(b1.stdout, /cannot decrypt/);
  const b2 = await cli(
    ['backup', sealed, '--include-key'],
    cliEnv(dataDir, { KEYFLEET_BACKUP_PASSPHRASE: PASSPHRASE }),
  );
  assert.equal(b2.code, 0, b2.stderr);
  const again = await cli(['backup', plain], cliEnv(dataDir));
  assert.equal(again.code, 1, 'a backup never overwrites a file');
  const short = await cli(
    ['backup', path.join(work, 'x'), '--include-key'],
    cliEnv(dataDir, { KEYFLEET_BACKUP_PASSPHRASE: 'short' }),
  );
  assert.equal(short.code, 1, 'a short passphrase is refused');
  await stop(run.child);

  // Through the CLI once: exit code 1, the reason on stderr, the target untouched.
  const other = path.join(work, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
  const r0 = await cli(['restore', plain, '--data-dir', other], cliEnv(other));
  assert.equal(r0.code, 1);
  assert.match(r0.stderr, /not empty/);
  assert.deepEqual(fs.readdirSync(other), ['notes.txt']);

  const refused = async (
    file: string,
    target: string,
    code: string,
    opts: { passphrase?: string; key?: Buffer } = {},
  ) => {
    const before = fs.existsSync(target) ? fs.readdirSync(target).sort() : null;
    await assert.rejects(
      restoreBackup({
        file,
        dataDir: target,
        passphrase: async () => opts.passphrase,
        configuredKey: opts.key ?? null,
      }),
      (err: any) => err instanceof BackupError && err.code === code,
      `${path.basename(file)} into ${target}: ${code}`,
    );
    const now = fs.existsSync(target) ? fs.readdirSync(target).sort() : null;
    assert.deepEqual(now, before, 'the target is left as it was');
  };
  // Not empty: the live data directory.
  await refused(plain, dataDir, 'Restore.NotEmpty');
  // Not a backup: any file, and a keyfleet database that `keyfleet backup` did not write.
  fs.writeFileSync(path.join(work, 'junk'), 'not a database at all, just text');
  await refused(path.join(work, 'junk'), path.join(work, 'r1'), 'Restore.NotABackup');
  await refused(path.join(dataDir, 'keyfleet.db'), path.join(work, 'r1'), 'Restore.NotABackup');
  // Damaged: an index's root page header overwritten.
  const damaged = path.join(work, 'damaged.backup');
  fs.copyFileSync(plain, damaged);
  const pageSize = query<{ page_size: number }>(plain, 'PRAGMA page_size').page_size;
  const { rootpage } = query<{ rootpage: number }>(
    plain,
    "SELECT rootpage FROM sqlite_master WHERE name = 'key_pairs_sha256'",
  );
  const fd = fs.openSync(damaged, 'r+');
  fs.writeSync(fd, Buffer.alloc(12, 0xa5), 0, 12, (rootpage - 1) * pageSize);
  fs.closeSync(fd);
  await refused(damaged, path.join(work, 'r1'), 'Restore.Damaged');
  // Newer schema: a migration this keyfleet does not know.
  const newer = path.join(work, 'newer.backup');
  fs.copyFileSync(plain, newer);
  const db = new BetterSqlite3(newer);
  db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(
    '9999-from-the-future',
    new Date().toISOString(),
  );
  db.close();
  await refused(newer, path.join(work, 'r1'), 'Restore.NewerSchema');
  // Wrong passphrase, no passphrase, and a configured key that is not the store's.
  await refused(sealed, path.join(work, 'r2'), 'Restore.WrongPassphrase', { passphrase: 'not the passphrase' });
  await refused(sealed, path.join(work, 'r2'), 'Restore.NeedPassphrase');
  await refused(plain, path.join(work, 'r3'), 'Restore.KeyMismatch', { key: Buffer.alloc(32, 9) });

  // Without the key in the backup: restored, told what to supply, and keyfleet will not start without it (it
  // would otherwise make a new key and every sealed value would stay shut)…
  const noKey = path.join(work, 'r4');
  const r = await cli(['restore', plain, '--data-dir', noKey], cliEnv(noKey));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /set KEYFLEET_MASTER_KEY or copy the key file/);
  const envNoKey = await testEnv({ dataDir: noKey, bootMs: 0, extra: { KEYFLEET_SIM_SERVE: '0' } });
  await assert.rejects(startChild(envNoKey), /restored from a backup without its key-encryption key/);
  assert.equal(fs.existsSync(path.join(noKey, 'master.key')), false, 'no new key was made');
  // …and starts with it, the store's sealed values open (signing in opens the access key's secret).
  const key = fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
  const withKey = await startChild({ ...envNoKey, KEYFLEET_MASTER_KEY: key });
  children.push(withKey.child);
  const api2 = new Api(withKey.url);
  await api2.signIn();
  const kps = (await api2.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs')).keyPairs;
  assert.deepEqual(
    kps.map((k: any) => k.name),
    ['kept-key'],
  );
  await stop(withKey.child);
});
