/**
 * better-sqlite3 behind Kysely prepares every statement anew (Kysely's SQLite driver calls `prepare(sql)` per
 * query); preparing was a quarter of the CPU of a hot read (README, ECS benchmark). The same SQL text maps to the
 * same prepared statement here, most recently used kept, so each distinct query is parsed once. Safe because
 * every call runs a statement to completion synchronously (all/run; keyfleet never streams from SQLite), and
 * SQLite re-prepares a cached statement by itself after a schema change (migrations).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept; `IN (?, ?, …)` lists of many lengths make many texts, so the cache is bounded. */
const MAX_STATEMENTS = 500;

export function withStatementCache(db: BetterSqlite3.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql); // re-insert: most recently used last
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt as unknown as SqliteStatement;
    },
    close(): void {
      cache.clear();
      db.close();
    },
  };
}
