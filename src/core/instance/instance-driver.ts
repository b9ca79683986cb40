/**
 * The instance driver moves a machine from a transitional state (Pending, Starting, Stopping) to a stable one
 * through the compute backend, one step at a time, recording each step in the store. One driver at a time per
 * instance, so transitions on one machine never interleave; every step is safe to run again after a crash.
 */
import type { Clock } from '../clock.js';
import type { ComputeBackend, Logger, Store } from '../ports.js';
import { bootConfigOf, withApplied } from './instance-state.js';

export interface InstanceDriverDeps {
  store: Store;
  compute: ComputeBackend;
  clock: Clock;
  logger: Logger;
}

export function createInstanceDriver({ store, compute, clock, logger }: InstanceDriverDeps) {
  const drivers = new Map<string, Promise<void>>();

  /** Brings a machine from a transitional state to a stable one. Safe to call again after a crash. */
  async function step(accountId: string, id: string): Promise<void> {
    const inst = await store.instances.get(accountId, id);
    if (!inst) return;
    if (inst.status === 'Pending') {
      const { hostKeySha256 } = await compute.provision(inst, null);
      await store.transaction(async (tx) => {
        const cur = await tx.instances.get(accountId, id);
        if (!cur || cur.status !== 'Pending') return;
        cur.hostKeySha256 = hostKeySha256;
        // Created with start=false: rest Stopped once the disk is ready.
        cur.status = cur.startAfterProvision ? 'Starting' : 'Stopped';
        cur.updatedAt = clock.now();
        await tx.instances.update(cur);
      });
      return step(accountId, id);
    }
    if (inst.status === 'Starting') {
      const config = bootConfigOf(inst);
      await compute.boot(inst, config);
      await store.transaction(async (tx) => {
        const cur = await tx.instances.get(accountId, id);
        if (!cur || cur.status !== 'Starting') return;
        const next = withApplied(cur, config);
        next.status = 'Running';
        next.hasPassword = cur.hasPassword;
        next.updatedAt = clock.now();
        await tx.instances.update(next);
      });
      return;
    }
    if (inst.status === 'Stopping') {
      await compute.shutdown(inst);
      await store.transaction(async (tx) => {
        const cur = await tx.instances.get(accountId, id);
        if (!cur || cur.status !== 'Stopping') return;
        cur.status = 'Stopped';
        cur.updatedAt = clock.now();
        await tx.instances.update(cur);
      });
    }
  }

  /** Drives the instance to a stable state after whatever transition is running on it now. */
  function drive(accountId: string, id: string): Promise<void> {
    const prev = drivers.get(id) ?? Promise.resolve();
    const next = prev
      .then(() => step(accountId, id))
      .catch((err: unknown) => {
        logger.error('instance transition failed', {
          instanceId: id,
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        if (drivers.get(id) === next) drivers.delete(id);
      });
    drivers.set(id, next);
    return next;
  }

  return {
    drive,
    /** Waits until every transition started so far has finished (used at shutdown and by tests). */
    async settle(): Promise<void> {
      while (drivers.size > 0) await Promise.allSettled([...drivers.values()]);
    },
  };
}
