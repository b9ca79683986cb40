/**
 * Leadership and instance power signals through the store (ports Leadership and InstanceSignals).
 *
 * PostgreSQL: each process keeps one dedicated connection (not the pool's: a session advisory lock belongs to its
 * session) on which it LISTENs and competes for the lock twice a second. The holder leads. When the holder dies the
 * server ends its session and frees the lock, and another process takes it at its next attempt; when the holder
 * cannot reach the server (its check query fails or does not answer in time) it gives the role up at once, before
 * anyone else can be granted the lock. Signals are NOTIFY on the pool (delivered in commit order, to every
 * listening session, the sender's own included).
 *
 * Embedded store: one process, always the leader; signals have no one else to reach.
 */
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { InstancePowerSignal, InstanceSignals, Leadership } from '../core/ports.js';
import type { Database } from './schema.js';

export interface ClusterLink {
  leadership: Leadership;
  signals: InstanceSignals;
}

export interface PostgresClusterOptions {
  connectionString: string;
  /** The store's own connection pool (signals are sent through it). */
  db: Kysely<Database>;
  /** False: never lead (KEYFLEET_SIM_SERVE=0), only hear and send signals. */
  competes: boolean;
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** How often the lock is tried (not leading) or the connection checked (leading); default 500 ms. */
  tickMs?: number;
  /** A check that takes longer than this means the server is out of reach: the role is given up. */
  checkTimeoutMs?: number;
}

const CHANNEL = 'keyfleet_instance_power';
/** The advisory lock's key: 'kfsimldr' read as a number, unlikely to meet another application's. */
const LOCK_KEY = '7740535106459935858';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function parseSignal(payload: string): InstancePowerSignal | null {
  try {
    const s = JSON.parse(payload) as InstancePowerSignal;
    if ((s.op === 'serve' || s.op === 'stop') && typeof s.instanceId === 'string' && typeof s.origin === 'string')
      return s;
  } catch {
    // not ours
  }
  return null;
}

export function createPostgresCluster(opts: PostgresClusterOptions): ClusterLink & { close(): Promise<void> } {
  const tickMs = opts.tickMs ?? 500;
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2000;
  const subscribers = new Set<(s: InstancePowerSignal) => void>();
  let client: pg.Client | null = null;
  let leader = false;
  let onChange: (leader: boolean) => void = () => undefined;
  let timer: NodeJS.Timeout | null = null;
  let busy = false;
  let closed = false;

  function setLeader(v: boolean): void {
    if (leader === v) return;
    leader = v;
    onChange(v);
  }

  function drop(c: pg.Client, why: string): void {
    if (client !== c) return;
    client = null;
    if (leader) opts.warn('lost the PostgreSQL connection that held leadership; giving the role up', { why });
    setLeader(false);
    // A black-holed socket would keep end() waiting: the socket is destroyed outright.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    c.end().catch(() => undefined);
  }

  async function connect(): Promise<pg.Client> {
    const c = new pg.Client({
      connectionString: opts.connectionString,
      keepAlive: true,
      application_name: 'keyfleet-leadership',
      connectionTimeoutMillis: checkTimeoutMs,
    });
    c.on('error', (err) => drop(c, err.message));
    c.on('end', () => drop(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      const s = parseSignal(msg.payload);
      if (s) for (const cb of subscribers) cb(s);
    });
    try {
      await c.connect();
      await withTimeout(c.query(`LISTEN ${CHANNEL}`), checkTimeoutMs);
    } catch (err) {
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      c.end().catch(() => undefined);
      throw err;
    }
    return c;
  }

  /** The tick in flight, which close() waits for: pg refuses (and pg@9 will reject) a second query meanwhile. */
  let ticking: Promise<void> | null = null;
  function tick(): Promise<void> {
    if (busy || closed) return ticking ?? Promise.resolve();
    ticking = tickOnce().finally(() => {
      ticking = null;
    });
    return ticking;
  }

  async function tickOnce(): Promise<void> {
    busy = true;
    let c: pg.Client | null = client;
    try {
      if (!c) {
        c = await connect();
        if (closed) {
          await c.end().catch(() => undefined);
          return;
        }
        client = c;
      }
      if (!leader && opts.competes) {
        const r = await withTimeout(
          c.query<{ got: boolean }>('select pg_try_advisory_lock($1::bigint) as got', [LOCK_KEY]),
          checkTimeoutMs,
        );
        if (r.rows[0]?.got && client === c && !closed) setLeader(true);
      } else {
        await withTimeout(c.query('select 1'), checkTimeoutMs);
      }
    } catch (err) {
      if (c) drop(c, err instanceof Error ? err.message : String(err));
    } finally {
      busy = false;
    }
  }

  async function close(): Promise<void> {
    closed = true;
    if (timer) clearInterval(timer);
    timer = null;
    await ticking;
    const c = client;
    client = null;
    setLeader(false);
    if (c) {
      // Ending the session frees the lock; the explicit unlock only makes it visible a round trip sooner.
      await withTimeout(c.query('select pg_advisory_unlock_all()'), checkTimeoutMs).catch(() => undefined);
      await withTimeout(c.end(), checkTimeoutMs).catch(() =>
        (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy(),
      );
    }
  }

  return {
    leadership: {
      start(cb) {
        onChange = cb;
        void tick();
        timer ??= setInterval(() => void tick(), tickMs);
        timer.unref();
      },
      isLeader: () => leader,
      close,
    },
    signals: {
      async publish(s) {
        await sql`select pg_notify(${CHANNEL}, ${JSON.stringify(s)})`.execute(opts.db);
      },
      subscribe(cb) {
        subscribers.add(cb);
        return () => subscribers.delete(cb);
      },
    },
    close,
  };
}

/** The embedded store: this process is the only one, so it leads (unless told never to serve). */
export function createSoloCluster(competes: boolean): ClusterLink & { close(): Promise<void> } {
  const subscribers = new Set<(s: InstancePowerSignal) => void>();
  let leader = false;
  return {
    leadership: {
      start(cb) {
        if (!competes || leader) return;
        leader = true;
        cb(true);
      },
      isLeader: () => leader,
      close: async () => undefined,
    },
    signals: {
      async publish(s) {
        for (const cb of subscribers) cb(s);
      },
      subscribe(cb) {
        subscribers.add(cb);
        return () => subscribers.delete(cb);
      },
    },
    async close() {
      leader = false;
    },
  };
}
