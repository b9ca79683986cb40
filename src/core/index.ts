/**
 * createCore wires the modules over the ports and puts every use case behind the gate (usecase/gate.ts). It holds
 * no rule and no state of its own: each module declares its use cases (`*-use-cases.ts`), the binding module
 * registers its executors with the task runner, and the faces call only what is returned here.
 */
import { createAccountService } from './account/account-service.js';
import { createIdentityService } from './account/identity-service.js';
import { identityUseCases } from './account/identity-use-cases.js';
import { createRateLimiter } from './account/rate-limiter.js';
import { createRequestGuard } from './account/request-guard.js';
import { createAuditor } from './audit/auditor.js';
import type { Authorizer } from './authz/authorizer.js';
import { createBindingModule } from './binding/binding-module.js';
import { bindingUseCases } from './binding/binding-use-cases.js';
import { createDriftService } from './binding/drift-service.js';
import type { DriftSource } from './binding/drift-source.js';
import { driftUseCases } from './binding/drift-use-cases.js';
import { createExpirySweeper } from './binding/expiry-sweeper.js';
import { DEFAULT_REOBSERVE_DELAYS_MS } from './binding/reobservation.js';
import { createReobserveSweeper } from './binding/reobserve-sweeper.js';
import { expiryUseCases } from './binding/expiry-use-cases.js';
import { auditUseCases, catalogUseCases } from './catalog-use-cases.js';
import type { Clock, IdGen } from './clock.js';
import { createHostService } from './instance/host-service.js';
import { hostUseCases } from './instance/host-use-cases.js';
import { createInstanceService } from './instance/instance-service.js';
import { instanceUseCases } from './instance/instance-use-cases.js';
import { createInventoryImport } from './instance/inventory-import.js';
import type { KeyMaterial } from './keypair/key-material.js';
import { createKeyPairService } from './keypair/keypair-service.js';
import { keyPairUseCases } from './keypair/keypair-use-cases.js';
import type { Metrics } from './metrics.js';
import type { ComputeBackend, LiveAccess, Logger, PasswordHasher, SecretBox, Store } from './ports.js';
import type { Region } from './region.js';
import { createTaskRunner } from './task/task-runner.js';
import { createTaskService } from './task/task-service.js';
import { createEventsModule, type WebhookSettings } from './events/events-module.js';
import type { WebhookSender } from './events/outbox.js';
import { webhookUseCases } from './events/webhook-use-cases.js';
import { taskUseCases } from './task/task-use-cases.js';
import { createRotationDriver } from './rotation/rotation-driver.js';
import { createRotationService } from './rotation/rotation-service.js';
import { rotationUseCases } from './rotation/rotation-use-cases.js';
import { createRevocationService } from './revocation/revocation-service.js';
import { revocationUseCases } from './revocation/revocation-use-cases.js';
import { createRevocationWorker } from './revocation/revocation-worker.js';
import type { Task } from './task/task.js';
import { createGate } from './usecase/gate.js';
import { createResourceGroupService } from './account/resource-groups.js';
import { resourceGroupUseCases } from './account/resource-group-use-cases.js';
import { createTagService } from './tag/tag-service.js';
import { keyPairTagFilterUseCases, tagUseCases } from './tag/tag-use-cases.js';
import { createKeyPairTagFilter } from './tag/keypair-tag-filter.js';

export interface CoreDeps {
  store: Store;
  compute: ComputeBackend;
  live: LiveAccess;
  keys: KeyMaterial;
  secrets: SecretBox;
  passwords: PasswordHasher;
  authz: Authorizer;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  regions: readonly Region[];
  settings: CoreSettings;
  /** Reads simulated instances' files for drift scans (the sim backend's); absent: scans skip those machines. */
  driftSource?: DriftSource;
  /** Counters and histograms the core records (live changes, proofs, drift); absent: nothing is recorded. */
  metrics?: Metrics;
  /** Posts webhook deliveries (src/backends/webhook); absent: events are kept in the outbox, none is sent. */
  webhookSender?: WebhookSender;
}

export interface CoreSettings {
  /** Process identity for task leases. */
  owner: string;
  /** True when this process is the only writer (embedded store): interrupted items are reclaimed at once. */
  singleWriter: boolean;
  taskConcurrency: number;
  taskChunk: number;
  taskLeaseMs: number;
  taskItemsPerSecond: number;
  /** How often a process looks for items whose lease expired (a process that died) and resumes their tasks. */
  taskSweepMs?: number;
  /** How often due binding expiries are unbound (issue 19; default 5 s); also once at start. */
  expirySweepMs?: number;
  /** How long after a failed expiry unbind it is tried again. */
  expiryRetryMs?: number;
  /** Delays between asks of a machine that did not answer after an interrupted live change (ADR 26). */
  reobserveMs?: readonly number[];
  liveTimeoutMs: number;
  /** The networks (CIDRs) hosts may be registered in (KEYFLEET_HOST_NETWORKS); absent or empty: any address. */
  hostNetworks?: readonly string[];
  keyPairQuotaPerRegion: number;
  maxRunAmount: number;
  sessionTtlMs: number;
  /** Requests per second per access key or user session (0: unlimited); bursts of twice that are allowed. */
  rateLimitPerSecond: number;
  /** Webhook delivery and where endpoints may point (KEYFLEET_WEBHOOK_*); absent: the defaults. */
  webhooks?: WebhookSettings;
  /** How often a process looks for rotation waves that are due or finished (KEYFLEET_ROTATION_POLL_MS; default 1000). */
  rotationPollMs?: number;
  /** Revocations (issue 19): how often due ones are looked for, and the first retry delay of an unreachable machine. */
  revokeTickMs?: number;
  revokeRetryMs?: number;
}

/** Default of CoreSettings.taskSweepMs. */
const SWEEP_MS = 15_000;

export function createCore(deps: CoreDeps) {
  const { store, clock, ids, logger, regions, authz, settings, compute } = deps;
  const auditor = createAuditor({ store, clock, ids, logger });
  const gate = createGate({ authz, auditor });
  const guard = createRequestGuard({ repo: store.guards, clock, logger });
  const limiter = createRateLimiter({
    perSecond: settings.rateLimitPerSecond,
    burst: Math.max(1, settings.rateLimitPerSecond * 2),
    clock,
    // Several processes on one store share their buckets there; a lone process keeps them in memory.
    ...(settings.singleWriter ? {} : { shared: store.guards }),
  });
  const accounts = createAccountService({
    store,
    secrets: deps.secrets,
    passwords: deps.passwords,
    clock,
    ids,
    sessionTtlMs: settings.sessionTtlMs,
    limiter,
  });
  const identity = createIdentityService({ store, secrets: deps.secrets, passwords: deps.passwords, clock, ids });
  const keyPairs = createKeyPairService({
    store,
    keys: deps.keys,
    secrets: deps.secrets,
    clock,
    ids,
    regions,
    quotaPerRegion: settings.keyPairQuotaPerRegion,
  });
  const instances = createInstanceService({
    store,
    compute,
    live: deps.live,
    clock,
    ids,
    regions,
    logger,
    maxAmount: settings.maxRunAmount,
    liveTimeoutMs: settings.liveTimeoutMs,
    metrics: deps.metrics,
  });
  const hosts = createHostService({
    store,
    live: deps.live,
    keys: deps.keys,
    secrets: deps.secrets,
    clock,
    ids,
    regions,
    liveTimeoutMs: settings.liveTimeoutMs,
    logger,
    hostNetworks: settings.hostNetworks,
  });
  const runner = createTaskRunner({
    store,
    clock,
    logger,
    owner: settings.owner,
    concurrency: settings.taskConcurrency,
    chunk: settings.taskChunk,
    leaseMs: settings.taskLeaseMs,
    itemsPerSecond: settings.taskItemsPerSecond,
  });
  const binding = createBindingModule({
    store,
    runner,
    live: deps.live,
    keys: deps.keys,
    secrets: deps.secrets,
    authz,
    instanceTypes: () => compute.instanceTypes(),
    clock,
    ids,
    regions,
    logger,
    liveTimeoutMs: settings.liveTimeoutMs,
    reobserveDelaysMs: settings.reobserveMs,
    callerOfTask: accounts.callerOfTask,
    metrics: deps.metrics,
    compute,
  });
  const imports = createInventoryImport({
    store,
    runner,
    hosts,
    keys: deps.keys,
    secrets: deps.secrets,
    clock,
    ids,
    regions,
    logger,
  });
  const tasks = createTaskService({ store, clock, waitFor: runner.waitFor, subscribe: runner.subscribe });
  const events = createEventsModule({
    store,
    secrets: deps.secrets,
    clock,
    ids,
    logger,
    owner: settings.owner,
    singleWriter: settings.singleWriter,
    sender: deps.webhookSender,
    settings: settings.webhooks,
  });
  const drift = createDriftService({
    store,
    live: deps.live,
    secrets: deps.secrets,
    keys: deps.keys,
    authz,
    regions,
    logger,
    liveTimeoutMs: settings.liveTimeoutMs,
    submit: binding.submit,
    concurrency: settings.taskConcurrency,
    source: deps.driftSource,
    onScanned: events.driftScanned,
    metrics: deps.metrics,
  });
  const expiries = createExpirySweeper({
    store,
    clock,
    ids,
    logger,
    kick: (taskId) => runner.kick(taskId),
    audit: (caller, action, refs, taskId) => auditor.append(caller, action, refs, 'success', null, { taskId }),
    retryMs: settings.expiryRetryMs,
  });
  let stopExpirySweeper: (() => void) | null = null;
  const reobserver = createReobserveSweeper({
    store,
    live: deps.live,
    clock,
    ids,
    logger,
    liveTimeoutMs: settings.liveTimeoutMs,
    delaysMs: settings.reobserveMs ?? DEFAULT_REOBSERVE_DELAYS_MS,
  });
  let stopReobserver: (() => void) | null = null;
  const rotationDriver = createRotationDriver({
    store,
    secrets: deps.secrets,
    clock,
    ids,
    logger,
    submit: binding.submit,
    callerOf: accounts.callerOfTask,
    waitFor: runner.waitFor,
    pollMs: settings.rotationPollMs ?? 1_000,
  });
  const rotations = createRotationService({
    store,
    secrets: deps.secrets,
    clock,
    ids,
    regions,
    kick: rotationDriver.kick,
  });
  const revocationWorker = createRevocationWorker({
    store,
    live: deps.live,
    secrets: deps.secrets,
    clock,
    ids,
    logger,
    source: deps.driftSource,
    liveTimeoutMs: settings.liveTimeoutMs,
    owner: settings.owner,
    concurrency: settings.taskConcurrency,
    tickMs: settings.revokeTickMs ?? 2_000,
    retryMs: settings.revokeRetryMs ?? 10_000,
    // One lease setting for everything a process holds while it works (task items, revocations).
    leaseMs: settings.taskLeaseMs,
    submit: binding.submit,
    // The applier, as a resumed task's submitter is (with their current policies).
    callerOf: (r) =>
      accounts.callerOfTask({
        accountId: r.accountId,
        createdBy: r.createdBy,
        face: r.face,
        requestId: r.requestId,
        submitter: r.submitter,
      } as Task),
  });
  const revocations = createRevocationService({
    store,
    live: deps.live,
    secrets: deps.secrets,
    authz,
    clock,
    ids,
    regions,
    logger,
    liveTimeoutMs: settings.liveTimeoutMs,
    concurrency: settings.taskConcurrency,
    source: deps.driftSource,
    submit: binding.submit,
    wake: revocationWorker.wake,
  });
  let stopSweeper: (() => void) | null = null;
  let stopGuardSweeper: (() => void) | null = null;

  return {
    accounts: {
      ...accounts,
      /** Whether a signed request's once-only value (ECS nonce, KPS signature) is presented for the first time, on any process. */
      firstUse: guard.firstUse,
      /** Sign-ins are recorded in the audit trail (who, from where, through which face); failures are not attributable. */
      async signIn(input: Parameters<typeof accounts.signIn>[0], ctx: Parameters<typeof accounts.signIn>[1]) {
        const result = await accounts.signIn(input, ctx);
        await auditor.append(result.caller, 'iam:SignIn', [], 'success', null);
        return result;
      },
    },
    identity: gate.expose(identityUseCases(identity, accounts, store)),
    keyPairs: { ...gate.expose(keyPairUseCases(keyPairs)), usage: keyPairs.usage },
    instances: {
      ...gate.expose(instanceUseCases(instances, store)),
      recover: instances.recover,
      settle: instances.settle,
    },
    hosts: gate.expose(hostUseCases(hosts, imports, store)),
    tasks: {
      ...gate.expose(taskUseCases(tasks, store)),
      ...gate.expose(bindingUseCases(binding, tasks, store)),
      ...gate.expose(expiryUseCases(binding, tasks, store, clock)),
    },
    /** The binding expiry sweeper: sweep() unbinds every due expiry now (tests; it also runs on a timer). */
    expirySweeper: expiries,
    /** The re-observation sweeper (ADR 26): sweep() asks every due machine now (tests; it also runs on a timer). */
    reobserver,
    drift: gate.expose(driftUseCases(drift, store)),
    rotations: gate.expose(rotationUseCases(rotations, store)),
    /** The rotation driver: round() advances every rotation now (tests). */
    rotationDriver,
    revocations: gate.expose(revocationUseCases(revocations, store)),
    audit: gate.expose(auditUseCases(store)),
    tags: {
      ...gate.expose(tagUseCases(createTagService({ store, regions }), store)),
      ...gate.expose(keyPairTagFilterUseCases(createKeyPairTagFilter({ store, regions }))),
    },
    resourceGroups: gate.expose(resourceGroupUseCases(createResourceGroupService({ store, clock, ids }), store)),
    webhooks: gate.expose(webhookUseCases(events.service)),
    /** The webhook dispatcher (null without a sender): poll() runs a round of deliveries now. */
    webhookDispatcher: events.dispatcher,
    catalog: gate.expose(catalogUseCases(regions, compute)),
    /**
     * Whether a live credential (one sent with the task, a host's unsealed management key, or an import's
     * management key) is still held in memory for the task. For tests and diagnostics: it must be false once the
     * task has ended, however it ended.
     */
    holdsLiveCredential: (taskId: string): boolean =>
      binding.holdsCredential(taskId) || imports.holdsCredential(taskId),
    /** The configured regions, for the core's and the faces' own scoping (project ids, region checks): no authorization. */
    regions,
    /** The compute backend's catalog, for internal use (instance views, run validation): no authorization. */
    images: () => compute.images(),
    instanceTypes: () => compute.instanceTypes(),
    /** Resumes machines and unfinished tasks after a (re)start. */
    async start(): Promise<{ resumedTasks: number; recoveredInstances: number }> {
      if (settings.singleWriter) await store.tasks.releaseLeases('all', clock.now());
      const recoveredInstances = await instances.recover();
      const resumedTasks = await runner.resumeAll();
      stopSweeper = clock.every(settings.taskSweepMs ?? SWEEP_MS, () => {
        void store.tasks
          .releaseLeases('expired', clock.now())
          .then(() => runner.resumeAll())
          .catch((err: unknown) => logger.warn('task sweep failed', { error: String(err) }));
      });
      stopGuardSweeper = guard.startSweeper();
      // Expiries that came while keyfleet was down are unbound now, then as they come.
      await expiries.sweep().catch((err: unknown) => logger.warn('expiry sweep failed', { error: String(err) }));
      stopExpirySweeper = clock.every(settings.expirySweepMs ?? 5_000, () => {
        void expiries.sweep().catch((err: unknown) => logger.warn('expiry sweep failed', { error: String(err) }));
      });
      // Machines left unverified by an interrupted change are asked again, also those marked before a restart.
      const reobserveTick = Math.min(...(settings.reobserveMs ?? DEFAULT_REOBSERVE_DELAYS_MS), 5_000);
      stopReobserver = clock.every(reobserveTick, () => {
        void reobserver
          .sweep()
          .catch((err: unknown) => logger.warn('re-observation sweep failed', { error: String(err) }));
      });
      await events.start();
      rotationDriver.start();
      revocationWorker.start();
      return { resumedTasks, recoveredInstances };
    },
    /**
     * Readiness: the task runner works (not draining, and its sweeper read the store within three sweeps, or 30 s
     * with a short sweep: a busy machine delays a timer without anything being wrong).
     */
    tasksAlive: (): boolean => runner.alive(Math.max(30_000, 3 * (settings.taskSweepMs ?? SWEEP_MS))),
    /**
     * Drain (SIGTERM): stop claiming task items, let those in flight finish and hand back the ones claimed but not
     * started, so another process takes them at once. close() follows.
     */
    async drain(): Promise<void> {
      await rotationDriver.close();
      await revocationWorker.close();
      stopSweeper?.();
      stopSweeper = null;
      stopExpirySweeper?.();
      stopExpirySweeper = null;
      stopReobserver?.();
      stopReobserver = null;
      await runner.close();
    },
    async close(): Promise<void> {
      await rotationDriver.close();
      await revocationWorker.close();
      await events.close();
      stopSweeper?.();
      stopExpirySweeper?.();
      stopReobserver?.();
      stopGuardSweeper?.();
      await runner.close();
      await instances.settle();
    },
  };
}

export type Core = ReturnType<typeof createCore>;
