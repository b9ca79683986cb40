/**
 * Did a request change the store? SQLite triggers on every table but the audit log (a refusal is audited, on
 * purpose) and the signatures' nonces (kept so that a replay is refused, whatever the request then becomes) record
 * each row inserted or deleted, and each row updated to a different value (a column-by-column comparison, so that
 * a write of identical values is not a change). A refused request's writes are rolled back with it, and so are
 * the triggers' records. Background work (booting instances, running tasks) is waited out after every accepted
 * request, so whatever is recorded during a refused one is that request's doing.
 */
import { sql } from 'kysely';
import type { Keyfleet } from '../../../src/app/keyfleet.js';

const EXEMPT = new Set([
  'audit_entries',
  'request_replays',
  'fuzz_changes',
  'kysely_migration',
  'kysely_migration_lock',
]);

export interface StateProbe {
  /** What changed since the last reset: `table op` for each row written, in order. */
  changes(): Promise<string[]>;
  reset(): Promise<void>;
  /** Waits until no task is queued or running and no instance is between states. */
  quiesce(): Promise<void>;
}

export async function installStateProbe(kf: Keyfleet): Promise<StateProbe> {
  const db = kf.store.db;
  if (kf.store.dialect !== 'sqlite') throw new Error('the fuzz probe uses SQLite triggers');
  const tables = (
    await sql<{
      name: string;
    }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db)
  ).rows
    .map((r) => r.name)
    .filter((t) => !EXEMPT.has(t));
  await sql`CREATE TABLE fuzz_changes (tbl TEXT NOT NULL, op TEXT NOT NULL)`.execute(db);
  for (const t of tables) {
    const columns = (await sql.raw<{ name: string }>(`PRAGMA table_info("${t}")`).execute(db)).rows.map((r) => r.name);
    const differs = columns.map((c) => `OLD."${c}" IS NOT NEW."${c}"`).join(' OR ');
    const record = (op: string) => `INSERT INTO fuzz_changes (tbl, op) VALUES ('${t}', '${op}')`;
    await sql.raw(`CREATE TRIGGER fuzz_${t}_i AFTER INSERT ON "${t}" BEGIN ${record('insert')}; END`).execute(db);
    await sql.raw(`CREATE TRIGGER fuzz_${t}_d AFTER DELETE ON "${t}" BEGIN ${record('delete')}; END`).execute(db);
    await sql
      .raw(`CREATE TRIGGER fuzz_${t}_u AFTER UPDATE ON "${t}" WHEN ${differs} BEGIN ${record('update')}; END`)
      .execute(db);
  }

  return {
    async changes() {
      return (await sql<{ tbl: string; op: string }>`SELECT tbl, op FROM fuzz_changes`.execute(db)).rows.map(
        (r) => `${r.tbl} ${r.op}`,
      );
    },
    async reset() {
      await sql`DELETE FROM fuzz_changes`.execute(db);
    },
    async quiesce() {
      for (let round = 0; ; round++) {
        await kf.core.instances.settle();
        const busy = (
          await sql<{ n: number }>`SELECT
              (SELECT count(*) FROM tasks WHERE status IN ('queued', 'running'))
            + (SELECT count(*) FROM instances WHERE status IN ('Pending', 'Starting', 'Stopping')) AS n`.execute(db)
        ).rows[0]!.n;
        if (busy === 0) return;
        if (round > 6_000) throw new Error('background work did not settle in 60 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
