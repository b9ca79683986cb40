/**
 * Group commit for the embedded SQLite store: the transactions asked for in one turn of the event loop run one
 * after another inside a single SQLite transaction, each in its own savepoint, and share one COMMIT.
 *
 * Why: SQLite has one writer, and Kysely funnels every query through its one connection, so transactions already
 * run one at a time; what each one pays on its own is the COMMIT (its pages appended to the WAL). A fan-out to
 * hundreds of hosts finishes each host in a short transaction (instance, item, counters, event), and the COMMIT
 * was most of that transaction's cost (bench/task-layer.ts). Under load several hosts finish in the same turn,
 * and they now commit together.
 *
 * What a caller sees is unchanged: its promise settles after the COMMIT that made its writes durable; if its
 * function throws, only its own savepoint is rolled back and the others commit; if the COMMIT itself fails, every
 * transaction of the group fails with that error. A lone transaction runs as before, without savepoints.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Transactions in one group at most: a burst of API calls must not hold the writer for long. */
const MAX_GROUP = 256;

interface Job {
  fn: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

export function createGroupCommit(db: Kysely<Database>) {
  let queue: Job[] = [];
  let scheduled = false;

  async function runGroup(jobs: Job[]): Promise<void> {
    if (jobs.length === 1) {
      const [job] = jobs as [Job];
      await db.transaction().execute(job.fn).then(job.resolve, job.reject);
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const job of jobs) {
          await sql`savepoint kf_job`.execute(trx);
          try {
            outcomes.push({ ok: true, value: await job.fn(trx) });
            await sql`release kf_job`.execute(trx);
          } catch (err) {
            outcomes.push({ ok: false, err });
            await sql`rollback to kf_job`.execute(trx);
            await sql`release kf_job`.execute(trx);
          }
        }
      });
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    jobs.forEach((job, n) => {
      const o = outcomes[n]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.err);
    });
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const jobs = queue.slice(0, MAX_GROUP);
      queue = queue.slice(MAX_GROUP);
      // Groups queue on Kysely's connection in order; nothing here awaits them.
      void runGroup(jobs);
    }
  }

  return function transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        // After the I/O callbacks of this turn, so hosts that finished together commit together.
        setImmediate(flush);
      }
    });
  };
}
