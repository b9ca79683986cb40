import { createSemaphore } from '../../common/concurrency.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import { notFound as keyPairNotFound } from '../keypair/keypair-service.js';
import { type Tag, validateTagFilters, validateTags } from '../keypair/keypair.js';
import type { ComputeBackend, InstanceFilter, LiveAccess, Logger, Page, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import { type Instance, type InstanceStatus, validateInstanceName, validatePassword } from './instance.js';
import { AWAITING_BOOT, AWAITING_FIRST_BOOT, createBootProver } from './boot-proof.js';
import { createInstanceDriver } from './instance-driver.js';
import { isRestartPending } from './instance-state.js';
import { LIST_PAGE, pageOf } from '../paging.js';
import type { Metrics } from '../metrics.js';

export interface InstanceServiceDeps {
  store: Store;
  compute: ComputeBackend;
  /** Proves each boot with a publickey probe (boot-proof.ts). */
  live: LiveAccess;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  logger: Logger;
  /** Instances one RunInstances call may create. */
  maxAmount: number;
  /** SSH connect/operation timeout of a boot's proof. */
  liveTimeoutMs: number;
  metrics?: Metrics;
}

export interface RunInstancesInput {
  regionId: string;
  imageId: string;
  instanceType?: string;
  amount?: number;
  name?: string;
  password?: string;
  keyPairName?: string;
  resourceGroupId?: string;
  tags?: Tag[];
  description?: string;
  /** Start after creation (default true), as RunInstances does. */
  start?: boolean;
}

/** What a caller may filter instances by: the store's filter less the account (always the caller's) and internals. */
export type InstanceQuery = Omit<InstanceFilter, 'accountId' | 'backend' | 'statuses' | 'offset' | 'limit'> & {
  offset?: number;
  limit?: number;
};

export interface LifecycleOptions {
  /** Run every check (existence, permission, state) and change nothing: the clouds' DryRun. */
  dryRun?: boolean;
}

/** A registered real host is not keyfleet's machine to power: only its keys and sshd drop-in are managed (ADR 9). */
function refuseHost(inst: Instance, action: string): void {
  if (inst.backend === 'host') {
    throw new CoreError(
      'Instance.IncorrectStatus',
      `The instance '${inst.id}' is a registered host; keyfleet manages its SSH keys only and cannot do ${action} on it.`,
      { instanceId: inst.id, status: inst.status },
    );
  }
}

function checkOnly(inst: Instance, from: InstanceStatus[], action: string): Instance {
  refuseHost(inst, action);
  if (!from.includes(inst.status)) {
    throw new CoreError(
      'Instance.IncorrectStatus',
      `The instance '${inst.id}' is ${inst.status}; ${action} needs it to be ${from.join(' or ')}.`,
      { instanceId: inst.id, status: inst.status },
    );
  }
  return inst;
}

/** Running machines whose SSH is started again at once after a restart of keyfleet. */
const RESUME_CONCURRENCY = 64;

const INSTANCE_STATUSES: readonly InstanceStatus[] = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'];

export function createInstanceService(deps: InstanceServiceDeps) {
  const { store, compute, clock, ids, regions, logger } = deps;
  const driver = createInstanceDriver({ store, compute, clock, logger });
  const prover = createBootProver({
    store,
    live: deps.live,
    clock,
    logger,
    timeoutMs: deps.liveTimeoutMs,
    metrics: deps.metrics,
  });

  /**
   * Drives a transition; one that ends Running is then proven by a publickey probe, off the request path.
   * `removedKey`: the key the machine had before this boot, so an unbind applied by the boot is proven refused.
   */
  function drive(accountId: string, id: string, removedKey: string | null = null): void {
    prover.after(driver.drive(accountId, id), accountId, id, removedKey);
  }

  /** A boot is about to apply the key state: the last proof no longer says what the machine will do. */
  const awaitBoot = (i: Instance) => {
    i.verifiedAt = null;
    i.verification = AWAITING_BOOT;
  };

  async function load(caller: Caller, id: string): Promise<Instance> {
    if (typeof id !== 'string' || id === '')
      throw new CoreError('Input.Missing', 'The instance ID is required.', { parameter: 'InstanceId' });
    const inst = await store.instances.get(caller.accountId, id);
    if (!inst) throw instanceNotFound(id);
    return inst;
  }

  /** Moves an instance from one of `from` to `to` in one transaction; refuses any other state. */
  async function transition(
    caller: Caller,
    id: string,
    from: InstanceStatus[],
    to: InstanceStatus,
    action: string,
    mutate?: (i: Instance) => void,
  ): Promise<Instance> {
    return store.transaction(async (tx) => {
      const inst = await tx.instances.get(caller.accountId, id);
      if (!inst) throw instanceNotFound(id);
      checkOnly(inst, from, action);
      inst.status = to;
      inst.updatedAt = clock.now();
      mutate?.(inst);
      await tx.instances.update(inst);
      return inst;
    });
  }

  return {
    async run(caller: Caller, input: RunInstancesInput): Promise<string[]> {
      const region = requireRegion(regions, input.regionId);
      const image = compute.images().find((i) => i.id === input.imageId);
      if (!image)
        throw new CoreError('Image.NotFound', `The image '${String(input.imageId)}' does not exist.`, {
          imageId: String(input.imageId),
        });
      const types = compute.instanceTypes();
      const instanceType = input.instanceType ?? types[0]!.id;
      if (!types.some((t) => t.id === instanceType)) {
        throw new CoreError('InstanceType.NotFound', `The instance type '${instanceType}' does not exist.`, {
          instanceType,
        });
      }
      const amount = input.amount ?? 1;
      if (!Number.isInteger(amount) || amount < 1 || amount > deps.maxAmount) {
        throw new CoreError('Input.Invalid', `Amount must be an integer from 1 to ${deps.maxAmount}.`, {
          parameter: 'Amount',
        });
      }
      const name = input.name === undefined ? undefined : validateInstanceName(input.name);
      const password = input.password === undefined ? undefined : validatePassword(input.password, image.osType);
      const tags = validateTags(input.tags);
      const groups = await store.accounts.listResourceGroups(caller.accountId);
      const group = input.resourceGroupId
        ? groups.find((g) => g.id === input.resourceGroupId)
        : (groups.find((g) => g.name === 'default') ?? groups[0]);
      if (!group)
        throw new CoreError('ResourceGroup.NotFound', `The resource group '${input.resourceGroupId}' does not exist.`, {
          resourceGroupId: String(input.resourceGroupId),
        });
      let keyPair = null;
      if (input.keyPairName) {
        if (image.osType === 'windows') {
          throw new CoreError(
            'Instance.WindowsNotSupported',
            `The image '${image.id}' is Windows, which cannot use an SSH key pair.`,
            { imageId: image.id },
          );
        }
        if (types.find((t) => t.id === instanceType)?.ioOptimized === false) {
          throw new CoreError(
            'Instance.NotIoOptimized',
            `The instance type '${instanceType}' is not I/O optimized and cannot use an SSH key pair.`,
            { instanceType },
          );
        }
        keyPair = await store.keyPairs.get(caller.accountId, region.id, input.keyPairName);
        if (!keyPair) throw keyPairNotFound(input.keyPairName, region.id);
      }
      const passwordHash = password ? await compute.hashPassword(password) : null;
      const now = clock.now();
      const created = await store.transaction(async (tx) => {
        const out: Instance[] = [];
        for (let n = 0; n < amount; n++) {
          const seq = await tx.instances.nextSequence('instance');
          const { address, sshPort } = compute.addressFor(seq);
          const id = ids.next('i-', 20);
          const inst: Instance = {
            id,
            accountId: caller.accountId,
            regionId: region.id,
            zoneId: `${region.id}-a`,
            name: name ? (amount > 1 ? `${name}-${String(n + 1).padStart(3, '0')}` : name) : id,
            hostName: `iz${id.slice(2, 14)}`,
            description: (input.description ?? '').slice(0, 256),
            imageId: image.id,
            instanceType,
            osType: image.osType,
            osName: image.osName,
            status: 'Pending',
            backend: compute.kind,
            address,
            sshPort,
            loginUser: image.osType === 'windows' ? 'Administrator' : 'root',
            resourceGroupId: group.id,
            tags,
            createdAt: now,
            keyPairId: keyPair?.id ?? null,
            keyPairName: keyPair?.name ?? null,
            desiredPublicKey: keyPair?.publicKey ?? null,
            pendingPasswordHash: passwordHash,
            appliedPublicKey: null,
            appliedPasswordLogin: true,
            pendingRestart: false,
            hasPassword: passwordHash !== null,
            hostKeySha256: null,
            startAfterProvision: input.start !== false,
            verifiedAt: null,
            verification: AWAITING_FIRST_BOOT,
            updatedAt: now,
          };
          inst.pendingRestart = isRestartPending(inst);
          await tx.instances.insert(inst);
          out.push(inst);
        }
        return out;
      });
      for (const inst of created) drive(inst.accountId, inst.id);
      return created.map((i) => i.id);
    },

    async list(caller: Caller, q: InstanceQuery): Promise<Page<Instance>> {
      if (q.regionId !== undefined) requireRegion(regions, q.regionId);
      if (q.status !== undefined && !INSTANCE_STATUSES.includes(q.status)) {
        throw new CoreError(
          'Input.Invalid',
          `The status '${q.status}' is not one of ${INSTANCE_STATUSES.join(', ')}.`,
          { parameter: 'Status' },
        );
      }
      const filter: InstanceFilter = {
        accountId: caller.accountId,
        regionId: q.regionId,
        ids: q.ids,
        namePattern: q.namePattern,
        search: q.search,
        status: q.status,
        keyPairName: q.keyPairName,
        resourceGroupId: q.resourceGroupId,
        tags: validateTagFilters(q.tags),
        pendingRestart: q.pendingRestart,
        expiringBefore: q.expiringBefore,
        ...pageOf(q, LIST_PAGE),
      };
      return store.instances.list(filter);
    },

    async get(caller: Caller, id: string): Promise<Instance> {
      const inst = await load(caller, id);
      return inst;
    },

    /** The key pair changes recorded for an instance (one per task item that changed it). */
    async history(caller: Caller, id: string) {
      await load(caller, id);
      return store.events.forInstance(caller.accountId, id);
    },

    async start(caller: Caller, id: string, opts: LifecycleOptions = {}): Promise<Instance> {
      const inst = await load(caller, id);
      if (opts.dryRun) return checkOnly(inst, ['Stopped'], 'starting');
      const next = await transition(caller, id, ['Stopped'], 'Starting', 'starting', awaitBoot);
      drive(caller.accountId, id, inst.appliedPublicKey);
      return next;
    },

    async stop(caller: Caller, id: string, opts: LifecycleOptions = {}): Promise<Instance> {
      const inst = await load(caller, id);
      if (opts.dryRun) return checkOnly(inst, ['Running'], 'stopping');
      const next = await transition(caller, id, ['Running'], 'Stopping', 'stopping');
      drive(caller.accountId, id);
      return next;
    },

    /** Restart: the machine goes down and boots again, applying what waits for a restart. */
    async reboot(caller: Caller, id: string, opts: LifecycleOptions = {}): Promise<Instance> {
      const inst = await load(caller, id);
      if (opts.dryRun) return checkOnly(inst, ['Running'], 'restarting');
      const next = await transition(caller, id, ['Running'], 'Starting', 'restarting', awaitBoot);
      drive(caller.accountId, id, inst.appliedPublicKey);
      return next;
    },

    /** Sets a new root password; like ModifyInstanceAttribute it takes effect at the next start or restart. */
    async resetPassword(caller: Caller, id: string, password: string): Promise<Instance> {
      const inst = await load(caller, id);
      refuseHost(inst, 'a password reset');
      validatePassword(password, inst.osType);
      const hash = await compute.hashPassword(password);
      return store.transaction(async (tx) => {
        const cur = await tx.instances.get(caller.accountId, id);
        if (!cur) throw instanceNotFound(id);
        if (cur.status === 'Starting' || cur.status === 'Pending') {
          throw new CoreError(
            'Instance.IncorrectStatus',
            `The instance '${id}' is ${cur.status}; wait until it is Running or Stopped to reset its password.`,
            { instanceId: id, status: cur.status },
          );
        }
        cur.pendingPasswordHash = hash;
        cur.hasPassword = true;
        cur.pendingRestart = isRestartPending(cur);
        cur.updatedAt = clock.now();
        await tx.instances.update(cur);
        return cur;
      });
    },

    async delete(caller: Caller, id: string, opts: { force?: boolean } = {}): Promise<void> {
      const inst = await load(caller, id);
      if (inst.backend === 'host') {
        // Deregistering forgets the host (and its sealed management key); the machine itself is not touched.
        await store.instances.delete(caller.accountId, id);
        return;
      }
      if (inst.status !== 'Stopped' && !(opts.force && inst.status === 'Running')) {
        throw new CoreError(
          'Instance.IncorrectStatus',
          `The instance '${id}' is ${inst.status}; stop it first or delete with force.`,
          { instanceId: id, status: inst.status },
        );
      }
      await store.instances.delete(caller.accountId, id);
      await compute.destroy(inst);
    },

    /** After a keyfleet restart: finish interrupted transitions; running machines keep running. */
    async recover(): Promise<number> {
      const running = await store.instances.list({
        statuses: ['Running'],
        backend: compute.kind,
        offset: 0,
        limit: 1_000_000,
      });
      const resumes = createSemaphore(RESUME_CONCURRENCY);
      await Promise.all(running.items.map((inst) => resumes.run(() => compute.resume(inst))));
      // A boot whose proof was cut short by keyfleet's own restart is proven now (what it removed is not known).
      for (const inst of running.items) {
        if (!inst.verifiedAt && (inst.verification === AWAITING_BOOT || inst.verification === AWAITING_FIRST_BOOT))
          prover.after(Promise.resolve(), inst.accountId, inst.id, null);
      }
      const page = await store.instances.list({
        statuses: ['Pending', 'Starting', 'Stopping'],
        backend: compute.kind,
        offset: 0,
        limit: 1_000_000,
      });
      for (const inst of page.items) drive(inst.accountId, inst.id);
      return page.total;
    },

    /** Waits until every transition started so far has finished and its boot was proven (shutdown, tests). */
    async settle(): Promise<void> {
      while (prover.pending() > 0) {
        await driver.settle();
        await prover.settle();
      }
      await driver.settle();
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;

export function instanceNotFound(id: string): CoreError {
  return new CoreError('Instance.NotFound', `The instance '${id}' does not exist.`, { instanceId: id });
}
