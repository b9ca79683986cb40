/**
 * On-restart changes (Alibaba's way, cloud-init style): the desired key state is recorded now and the machine
 * applies it at its next start or restart. One transaction decides, records and completes the item.
 */
import type { Authorizer } from '../authz/authorizer.js';
import type { Clock } from '../clock.js';
import type { InstanceType } from '../instance/instance.js';
import type { Store } from '../ports.js';
import { itemRefusal } from './item-eligibility.js';
import type { ItemRecorder, ItemRun } from './item-record.js';
import { LeaseLost } from './live-change.js';

export interface OnRestartDeps {
  store: Store;
  clock: Clock;
  authz: Authorizer;
  instanceTypes: () => readonly InstanceType[];
  recorder: ItemRecorder;
}

export function createOnRestartExecutor(deps: OnRestartDeps) {
  const { store, recorder } = deps;
  /** Records one item's change for the next start (a live task's Stopped instance comes here too). */
  return async function recordForBoot({ caller, task, item, keyPair: kp, owner }: ItemRun): Promise<void> {
    await store.transaction(async (tx) => {
      const inst = await tx.instances.get(task.accountId, item.instanceId);
      const refusal = itemRefusal(deps.authz, deps.instanceTypes(), caller, task, inst, item);
      if (refusal || !inst) return recorder.fail(item, refusal!, owner, tx);
      const note =
        task.mode === 'live'
          ? 'instance is Stopped: takes effect at its next start'
          : inst.status === 'Stopped'
            ? 'takes effect at the next start'
            : 'takes effect at the next restart';
      if (task.options.dryRun) {
        await tx.tasks.finishItem(
          {
            ...item,
            status: 'succeeded',
            finishedAt: deps.clock.now(),
            note: `dry run: would ${task.kind} (${note}); nothing recorded`,
          },
          owner,
        );
        return;
      }
      // Lease lost: the transaction rolls back and the runner that holds the item records it.
      if (!(await recorder.succeed(tx, task, item, inst, kp, false, note, owner))) throw new LeaseLost();
    });
  };
}

export type RecordForBoot = ReturnType<typeof createOnRestartExecutor>;
