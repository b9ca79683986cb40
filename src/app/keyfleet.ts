/**
 * The composition root: the only place that sees every part. It opens the store, builds the compute backend,
 * the SSH access, crypto and the core, mounts each face on one HTTP server, and resumes unfinished work.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../api/http/server.js';
import { metricsRoute } from '../api/http/metrics-route.js';
import { createRequestAccounts, observedAccounts } from '../api/http/request-accounts.js';
import { observeRequests } from '../api/http/request-observation.js';
import { ECS_ACTION_NAMES } from '../api/ecs/action-names.js';
import { consolePlugin } from '../api/console/plugin.js';
import { ecsApiPlugin } from '../api/ecs/plugin.js';
import { kpsApiPlugin } from '../api/kps/plugin.js';
import { nativeApiPlugin } from '../api/native/plugin.js';
import { createFleetFollower } from '../backends/sim/fleet-follower.js';
import { createSimCompute, createSimDriftSource, instanceRoot } from '../backends/sim/sim-compute.js';
import { createSimSshFleet } from '../backends/sim/ssh-server.js';
import { sshLiveAccess } from '../backends/ssh/ssh-session.js';
import { createHttpWebhookSender } from '../backends/webhook/http-sender.js';
import { countedLiveAccess } from '../backends/ssh/counted-access.js';
import { createPolicyAuthorizer } from '../core/authz/policy-authorizer.js';
import { type Core, createCore } from '../core/index.js';
import { noMetrics } from '../core/metrics.js';
import type { LiveAccess, Logger } from '../core/ports.js';
import { createPasswordHasher } from '../crypto/password-hasher.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { createSshKeyMaterial } from '../crypto/ssh-key-material.js';
import { createPostgresCluster, createSoloCluster } from '../store/leadership.js';
import { openStore, type OpenedStore } from '../store/open-store.js';
import { countTasks } from '../store/task-counts.js';
import type { Config } from './config.js';
import { answerRouterRefusal } from './router-refusals.js';
import { lockDataDir, loadMasterKey } from './data-dir.js';
import { createPrometheusMetrics } from './prometheus-metrics.js';
import { createIdGen, systemClock } from './ids.js';
import { createReadiness, healthRoutes, type Readiness } from './readiness.js';

export interface Keyfleet {
  app: FastifyInstance;
  core: Core;
  store: OpenedStore;
  config: Config;
  /** http://host:port once listening. */
  url: string;
  readiness: Readiness;
  /** Whether this process serves the simulated fleet's SSH now (the leader of the processes on one store). */
  servesFleet(): boolean;
  bootstrap: {
    accessKeyId: string;
    generatedAccessKeySecret: string | null;
    generatedAdminPassword: string | null;
    created: boolean;
  };
  /**
   * Drains, then stops: /readyz answers 503 at once, no task item is claimed any more, items in flight finish and
   * those claimed but not started are handed back; after the configured drain delay the listener closes, open
   * requests are answered, and everything else is closed.
   */
  close(): Promise<void>;
}

/** How often the process serving the simulated fleet reconciles its listeners with the store (PostgreSQL). */
const FLEET_RECONCILE_MS = 5000;

function coreLogger(app: FastifyInstance): Logger {
  return {
    info: (msg, fields) => app.log.info(fields ?? {}, msg),
    warn: (msg, fields) => app.log.warn(fields ?? {}, msg),
    error: (msg, fields) => app.log.error(fields ?? {}, msg),
  };
}

/** What a caller may put in place of the real adapters (benchmarks measuring keyfleet without the network). */
export interface KeyfleetOverrides {
  live?: LiveAccess;
}

export async function startKeyfleet(config: Config, overrides: KeyfleetOverrides = {}): Promise<Keyfleet> {
  const releaseLock = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  const app = buildHttpServer({
    bodyLimitBytes: config.bodyLimitBytes,
    logLevel: config.logLevel,
    routerRefusal: answerRouterRefusal,
  });
  const logger = coreLogger(app);
  // KEYFLEET_METRICS=0: nothing is counted and /metrics does not exist; the request log lines stay.
  const metrics = config.metrics.enabled
    ? createPrometheusMetrics({ taskCountsMaxAgeMs: config.metrics.taskCountsMaxAgeMs })
    : null;
  const requestAccounts = createRequestAccounts();
  observeRequests(app, { metrics: metrics ?? noMetrics, accounts: requestAccounts, ecsActions: ECS_ACTION_NAMES });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    ...(metrics && {
      onTransaction: (seconds: number, ok: boolean) =>
        metrics.observe('store_transaction_duration_seconds', { result: ok ? 'ok' : 'error' }, seconds),
    }),
    onConnectionLost: (err) =>
      logger.warn('PostgreSQL ended an idle connection; the next query opens a new one', { err: err.message }),
  });
  // With several processes on one PostgreSQL only one of them, the leader, serves the simulated fleet's SSH (the
  // addresses are the same in every process) and follows the power changes any process makes (fleet-follower.ts);
  // KEYFLEET_SIM_SERVE=0 keeps a process from ever leading. The disks live in the shared data directory.
  const owner = `${process.pid}-${randomUUID()}`;
  const cluster = config.databaseUrl
    ? createPostgresCluster({
        connectionString: config.databaseUrl,
        db: store.db,
        competes: config.sim.serve,
        warn: (m, f) => logger.warn(m, f),
      })
    : createSoloCluster(config.sim.serve);
  const fleet = createFleetFollower({
    fleet: createSimSshFleet({ logger: { warn: (m: string) => logger.warn(m) } }),
    leadership: cluster.leadership,
    signals: cluster.signals,
    origin: owner,
    rootDirOf: (id) => instanceRoot(config.dataDir, { id }),
    running: async () =>
      (
        await store.instances.list({ statuses: ['Running', 'Starting'], backend: 'sim', offset: 0, limit: 1_000_000 })
      ).items
        .filter((i) => i.osType === 'linux')
        .map((i) => ({
          instanceId: i.id,
          address: i.address,
          sshPort: i.sshPort,
          status: i.status === 'Running' ? ('Running' as const) : ('Starting' as const),
        })),
    warn: (m, f) => logger.warn(m, f),
    reconcileMs: config.databaseUrl ? FLEET_RECONCILE_MS : 0,
  });
  const compute = createSimCompute({
    dataDir: config.dataDir,
    sshPort: config.sim.sshPort,
    bootDelayMs: config.sim.bootDelayMs,
    fleet,
  });
  const secrets = createSecretBox(loadMasterKey(config.dataDir, config.masterKey));
  const core = createCore({
    store,
    compute,
    live: metrics ? countedLiveAccess(overrides.live ?? sshLiveAccess, metrics) : (overrides.live ?? sshLiveAccess),
    keys: createSshKeyMaterial(),
    secrets,
    passwords: createPasswordHasher(),
    authz: createPolicyAuthorizer(),
    clock: systemClock,
    ids: createIdGen(),
    logger,
    regions: config.regions,
    driftSource: createSimDriftSource(config.dataDir),
    webhookSender: createHttpWebhookSender({ networks: config.webhooks.networks }),
    metrics: metrics ?? noMetrics,
    settings: {
      owner,
      singleWriter: !config.databaseUrl,
      taskConcurrency: config.tasks.concurrency,
      taskChunk: config.tasks.chunk,
      taskLeaseMs: config.tasks.leaseMs,
      taskSweepMs: config.tasks.sweepMs,
      expirySweepMs: config.tasks.expirySweepMs,
      expiryRetryMs: config.tasks.expiryRetryMs,
      reobserveMs: config.tasks.reobserveMs,
      hostNetworks: config.hostNetworks,
      taskItemsPerSecond: config.tasks.itemsPerSecond,
      liveTimeoutMs: config.liveTimeoutMs,
      keyPairQuotaPerRegion: config.keyPairQuotaPerRegion,
      maxRunAmount: 1000,
      sessionTtlMs: config.sessionTtlMs,
      rateLimitPerSecond: config.rateLimitPerSecond,
      webhooks: config.webhooks,
      rotationPollMs: config.rotationPollMs,
      revokeTickMs: config.revoke.tickMs,
      revokeRetryMs: config.revoke.retryMs,
    },
  });
  const boot = await core.accounts.bootstrap(config.bootstrap);

  const readiness = createReadiness({ store, tasksAlive: () => core.tasksAlive() });
  healthRoutes(app, readiness);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'keyfleet native API',
        version: '1',
        description: 'Key pairs, instances, bindings and tasks. Sign in with POST /api/v1/sessions.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({
      schema: (url.startsWith('/api/v1') ? schema : { ...schema, hide: true }) as never,
      url,
    }),
  });
  // The faces authenticate through an account service that notes each request's account for its log line.
  const facesCore: Core = { ...core, accounts: observedAccounts(core.accounts, requestAccounts) };
  await app.register(nativeApiPlugin, { prefix: '/api/v1', core: facesCore, maxBatch: config.nativeMaxBatch });
  await app.register(ecsApiPlugin, { core: facesCore });
  await app.register(kpsApiPlugin, { core: facesCore });
  await app.register(consolePlugin, {
    prefix: '/console',
    distDir: path.resolve(import.meta.dirname, '../../dist/console'),
  });
  if (metrics) {
    metrics.countTasksWith(() => countTasks(store.db));
    metricsRoute(app, { token: config.metrics.token, render: () => metrics.render() });
  }

  fleet.start();
  await core.start();
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let closed = false;
  return {
    app,
    core,
    store,
    config,
    url: `http://${config.host}:${port}`,
    readiness,
    servesFleet: () => fleet.isLeader(),
    bootstrap: {
      accessKeyId: boot.accessKeyId,
      generatedAccessKeySecret: boot.generatedAccessKeySecret,
      generatedAdminPassword: boot.generatedAdminPassword,
      created: boot.created,
    },
    async close() {
      if (closed) return;
      closed = true;
      readiness.startDraining();
      const drained = core.drain();
      if (config.drainDelayMs > 0) await new Promise((r) => setTimeout(r, config.drainDelayMs));
      await app.close();
      await drained;
      await core.close();
      await fleet.close();
      await cluster.close();
      await compute.close();
      await store.close();
      releaseLock();
    },
  };
}
