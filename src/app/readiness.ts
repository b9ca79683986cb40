/**
 * Health and readiness, for load balancers and orchestrators (issue 21; the cluster's HAProxy checks /readyz).
 *
 * - `GET /healthz`: the process is alive and its event loop answers. Nothing else is checked, so a store outage
 *   never gets a healthy process restarted.
 * - `GET /readyz`: this process should be sent requests: the store answers a cheap query within a bound, every
 *   migration this build knows is applied, the task runner works (its sweeper read the store recently), and the
 *   process is not draining. 503 otherwise, with the failing checks named (no detail of the failure: the error
 *   text of a driver may name hosts and users, and the endpoint needs no authentication).
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { MIGRATIONS } from '../store/migrations.js';
import type { OpenedStore } from '../store/open-store.js';

export interface ReadinessDeps {
  store: OpenedStore;
  /** The core's task runner works (core.tasksAlive). */
  tasksAlive: () => boolean;
  /** How long the store may take to answer before the process is reported not ready. */
  storeTimeoutMs?: number;
}

export interface Readiness {
  /** From now on /readyz answers 503 (SIGTERM: the balancer stops sending requests before the listener closes). */
  startDraining(): void;
  draining(): boolean;
  check(): Promise<ReadinessReport>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { store: boolean; migrations: boolean; tasks: boolean; draining: boolean };
}

const STORE_TIMEOUT_MS = 2000;
/** Every migration this build knows: all must be applied. */
const KNOWN = Object.keys(MIGRATIONS);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createReadiness(deps: ReadinessDeps): Readiness {
  const timeoutMs = deps.storeTimeoutMs ?? STORE_TIMEOUT_MS;
  let draining = false;
  // Checks overlapping (a slow store, several balancers polling) share one round trip.
  let inFlight: Promise<{ store: boolean; migrations: boolean }> | null = null;

  async function storeChecks(): Promise<{ store: boolean; migrations: boolean }> {
    try {
      // One cheap query answers both: the names in Kysely's migration table (no lock taken). Not Kysely's
      // Migrator.getMigrations(), which introspects every table and column of the schema first: on PostgreSQL a
      // catalogue join, run by every process at every balancer check, that a loaded machine makes slow enough to
      // fail the check and take a healthy process out.
      const applied = await withTimeout(
        sql<{ name: string }>`select name from kysely_migration`.execute(deps.store.db),
        timeoutMs,
      );
      const names = new Set(applied.rows.map((r) => r.name));
      return { store: true, migrations: KNOWN.every((name) => names.has(name)) };
    } catch {
      return { store: false, migrations: false };
    }
  }

  return {
    startDraining: () => {
      draining = true;
    },
    draining: () => draining,
    async check() {
      inFlight ??= storeChecks().finally(() => {
        inFlight = null;
      });
      const s = await inFlight;
      const checks = { ...s, tasks: deps.tasksAlive(), draining };
      return { ready: checks.store && checks.migrations && checks.tasks && !draining, checks };
    },
  };
}

/** Mounts /healthz and /readyz on the root server (no face, no authentication). */
export function healthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const report = await readiness.check();
    return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', ...report });
  });
}
