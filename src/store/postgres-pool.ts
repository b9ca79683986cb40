/**
 * The PostgreSQL connection pool, with the two things node-postgres leaves to its user.
 *
 * 1. An idle connection can die under the pool: PostgreSQL restarts, fails over, or an administrator ends the
 *    backend. The pool then emits 'error', and an EventEmitter 'error' without a listener ends the process. A
 *    dead idle connection is not a keyfleet failure (the pool drops it and opens a new one on the next query),
 *    so it is reported and nothing else.
 * 2. `pool.end()` resolves when the pool has forgotten its clients, before their sockets are closed. Whoever
 *    closes the store and then drops or restarts the database would still meet live backends. `end` here
 *    resolves only after every client the pool opened has closed.
 */
import pg from 'pg';

export interface ManagedPool {
  pool: pg.Pool;
  /** Ends the pool and waits until every connection it opened is closed. */
  end(): Promise<void>;
}

export function createPostgresPool(connectionString: string, onIdleError: (err: Error) => void, max = 10): ManagedPool {
  const pool = new pg.Pool({ connectionString, max });
  const open = new Set<pg.PoolClient>();
  const waiters: Array<() => void> = [];
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => {
    open.delete(client);
    if (open.size === 0) waiters.splice(0).forEach((wake) => wake());
  });
  pool.on('error', (err) => onIdleError(err));
  return {
    pool,
    end: async () => {
      // Kysely's destroy() may have ended the pool already; pg-pool refuses a second end().
      if (!pool.ending) await pool.end();
      if (open.size > 0) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
