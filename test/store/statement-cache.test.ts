/** The SQLite prepared-statement cache under Kysely (src/store/statement-cache.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { withStatementCache } from '../../src/store/statement-cache.js';

test('the same SQL text is prepared once; other texts get their own statement', () => {
  const raw = new BetterSqlite3(':memory:');
  let prepared = 0;
  const counting = Object.assign(Object.create(raw), {
    prepare: (sql: string) => (prepared++, raw.prepare(sql)),
    close: () => raw.close(),
  });
  const db = withStatementCache(counting);
  const a = db.prepare('SELECT 1 AS x');
  assert.equal(db.prepare('SELECT 1 AS x'), a);
  assert.notEqual(db.prepare('SELECT 2 AS x'), a);
  assert.equal(prepared, 2);
  db.close();
});

test('bounded, least recently used goes first', () => {
  const raw = new BetterSqlite3(':memory:');
  const db = withStatementCache(raw, 2);
  const one = db.prepare('SELECT 1');
  db.prepare('SELECT 2');
  assert.equal(db.prepare('SELECT 1'), one, 'used again: now the most recent');
  db.prepare('SELECT 3'); // evicts SELECT 2
  assert.equal(db.prepare('SELECT 1'), one);
  db.close();
});

test('a cached statement sees a schema change made after it was prepared (migrations)', () => {
  const db = withStatementCache(new BetterSqlite3(':memory:'));
  db.prepare('CREATE TABLE t (a INTEGER)').run([]);
  db.prepare('INSERT INTO t (a) VALUES (?)').run([1]);
  const select = db.prepare('SELECT * FROM t');
  assert.deepEqual(select.all([]), [{ a: 1 }]);
  db.prepare('ALTER TABLE t ADD COLUMN b TEXT').run([]);
  db.prepare('UPDATE t SET b = ?').run(['x']);
  assert.deepEqual(db.prepare('SELECT * FROM t').all([]), [{ a: 1, b: 'x' }]);
  db.close();
});
