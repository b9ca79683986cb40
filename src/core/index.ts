/**
 * createCore wires the use cases over the ports. It is the only entry the faces (ECS, KPS, native API, console)
 * use; none of them implements a rule of its own.
 */
import { createAccountService } from './account/account-service.js';
import { createIdentityService } from './account/identity-service.js';
import { createRateLimiter } from './account/rate-limiter.js';
import type { AuditFilter } from './audit/audit.js';
import { createAuditor } from './audit/auditor.js';
import { auditedDrift, auditedHosts, auditedIdentity, auditedInstances, auditedKeyPairs, auditedTasks } from './facade.js';
import type { ResourceRef } from './authz/actions.js';
import type { Authorizer } from './authz/authorizer.js';
import { createBindingService, type BindRequest } from './binding/binding-service.js';
import { createDriftService } from './binding/drift-service.js';
import type { Caller } from './caller.js';
import type { Clock, IdGen } from './clock.js';
import { createHostService } from './instance/host-service.js';
import { createInstanceService } from './instance/instance-service.js';
import type { KeyMaterial } from './keypair/key-material.js';
import { createKeyPairService } from './keypair/keypair-service.js';
import type { ComputeBackend, LiveAccess, Logger, PasswordHasher, SecretBox, Store } from './ports.js';
import type { Region } from './region.js';
import { systemCaller } from './caller.js';
import type { Task } from './task/task.js';
import { createTaskRunner } from './task/task-runner.js';
import { createTaskService } from './task/task-service.js';

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
  liveTimeoutMs: number;
  keyPairQuotaPerRegion: number;
  maxRunAmount: number;
  sessionTtlMs: number;
  /** Requests per second per access key or user session (0: unlimited); bursts of twice that are allowed. */
  rateLimitPerSecond: number;
}

export function createCore(deps: CoreDeps) {
  const { store, clock, ids, logger, regions, authz, settings } = deps;
  const auditor = createAuditor({ store, clock, ids, logger });
  const limiter = createRateLimiter({ perSecond: settings.rateLimitPerSecond, burst: Math.max(1, settings.rateLimitPerSecond * 2), clock });
  const accounts = createAccountService({ store, secrets: deps.secrets, passwords: deps.passwords, clock, ids, sessionTtlMs: settings.sessionTtlMs, limiter });
  const identity = createIdentityService({ store, secrets: deps.secrets, passwords: deps.passwords, clock, ids });
  const keyPairs = createKeyPairService({ store, keys: deps.keys, secrets: deps.secrets, clock, ids, regions, authz, quotaPerRegion: settings.keyPairQuotaPerRegion });
  const instances = createInstanceService({ store, compute: deps.compute, clock, ids, regions, authz, logger, maxAmount: settings.maxRunAmount });
  const bindings = createBindingService({ store, instanceTypes: () => deps.compute.instanceTypes(), live: deps.live, clock, ids, regions, authz, logger, liveTimeoutMs: settings.liveTimeoutMs, secrets: deps.secrets, keys: deps.keys });
  const hosts = createHostService({ store, live: deps.live, keys: deps.keys, secrets: deps.secrets, clock, ids, regions, authz, liveTimeoutMs: settings.liveTimeoutMs });
  /** The caller who submitted each running task (authorization per item uses it); memory only. */
  const submitters = new Map<string, Caller>();

  const runner = createTaskRunner({
    store,
    clock,
    logger,
    owner: settings.owner,
    concurrency: settings.taskConcurrency,
    chunk: settings.taskChunk,
    leaseMs: settings.taskLeaseMs,
    itemsPerSecond: settings.taskItemsPerSecond,
    execute: (task, item, owner) => {
      const caller = submitters.get(task.id) ?? systemCaller(task.accountId, task.requestId);
      return bindings.execute(caller, task, item, owner);
    },
    onFinished: (task) => {
      bindings.forget(task.id);
      submitters.delete(task.id);
    },
  });
  let sweeper: NodeJS.Timeout | null = null;

  const tasks = createTaskService({
    store,
    authz,
    async submit(caller: Caller, req: BindRequest): Promise<Task> {
      const task = await bindings.submit(caller, req);
      submitters.set(task.id, caller);
      runner.kick(task.id);
      return task;
    },
    waitFor: (accountId, taskId) => runner.waitFor(accountId, taskId),
    subscribe: (taskId, cb) => runner.subscribe(taskId, cb),
  });
  const drift = createDriftService({ store, live: deps.live, secrets: deps.secrets, keys: deps.keys, authz, regions, logger, liveTimeoutMs: settings.liveTimeoutMs, submit: tasks.submit, concurrency: settings.taskConcurrency });

  return {
    accounts: {
      ...accounts,
      /** Sign-ins are recorded in the audit trail (who, from where, through which face); failures are not attributable. */
      async signIn(input: Parameters<typeof accounts.signIn>[0], ctx: Parameters<typeof accounts.signIn>[1]) {
        const result = await accounts.signIn(input, ctx);
        await auditor.append(result.caller, 'iam:SignIn', [], 'success', null);
        return result;
      },
    },
    identity: auditedIdentity(identity, accounts, auditor),
    keyPairs: auditedKeyPairs(keyPairs, auditor),
    instances: auditedInstances(instances, auditor, store),
    hosts: auditedHosts(hosts, auditor),
    tasks: auditedTasks(tasks, auditor),
    drift: auditedDrift(drift, auditor, store),
    audit: {
      async query(caller: Caller, filter: Omit<AuditFilter, 'accountId'>) {
        return auditor.run(caller, 'audit:Describe', [{ type: 'audit', regionId: '*', id: '*' }], false, async () => {
          authz.check(caller, 'audit:Describe', [{ type: 'audit', regionId: '*', id: '*' }]);
          return store.audit.query({ ...filter, accountId: caller.accountId, offset: Math.max(0, filter.offset), limit: Math.min(Math.max(1, filter.limit), 10_000) });
        });
      },
    },
    /**
     * Whether a live credential (one sent with the task, or a host's unsealed management key) is still held in
     * memory for the task. For tests and diagnostics: it must be false once the task has ended, however it ended.
     */
    holdsLiveCredential: (taskId: string): boolean => bindings.holdsCredential(taskId),
    /** The configured regions, for the core's and the faces' own scoping (project ids, region checks): no authorization. */
    regions,
    /** The compute backend's catalog, for internal use (instance views, run validation): no authorization. */
    images: () => deps.compute.images(),
    instanceTypes: () => deps.compute.instanceTypes(),
    /**
     * The catalog as callers read it: region:Describe for the regions, image:Describe for the images and the
     * instance types (the compute catalog). Reads: audited only when denied.
     */
    catalog: {
      regions(caller: Caller): Promise<readonly Region[]> {
        const refs: ResourceRef[] = [{ type: 'region', regionId: '*', id: '*' }];
        return auditor.run(caller, 'region:Describe', refs, false, async () => {
          authz.check(caller, 'region:Describe', refs);
          return regions;
        });
      },
      images(caller: Caller, regionId?: string): Promise<ReturnType<ComputeBackend['images']>> {
        const refs: ResourceRef[] = [{ type: 'image', regionId: regionId ?? '*', id: '*' }];
        return auditor.run(caller, 'image:Describe', refs, false, async () => {
          authz.check(caller, 'image:Describe', refs);
          return deps.compute.images();
        });
      },
      instanceTypes(caller: Caller): Promise<ReturnType<ComputeBackend['instanceTypes']>> {
        const refs: ResourceRef[] = [{ type: 'image', regionId: '*', id: '*' }];
        return auditor.run(caller, 'image:Describe', refs, false, async () => {
          authz.check(caller, 'image:Describe', refs);
          return deps.compute.instanceTypes();
        });
      },
    },
    /** Resumes machines and unfinished tasks after a (re)start. */
    async start(): Promise<{ resumedTasks: number; recoveredInstances: number }> {
      if (settings.singleWriter) await store.tasks.releaseLeases('all', clock.now());
      const recoveredInstances = await instances.recover();
      const resumedTasks = await runner.resumeAll();
      sweeper = setInterval(() => {
        void store.tasks.releaseLeases('expired', clock.now()).then(() => runner.resumeAll()).catch((err: unknown) => logger.warn('task sweep failed', { error: String(err) }));
      }, 15_000);
      sweeper.unref();
      return { resumedTasks, recoveredInstances };
    },
    async close(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      await runner.close();
      await instances.settle();
    },
  };
}

export type Core = ReturnType<typeof createCore>;
