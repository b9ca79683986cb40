/**
 * On-restart changes (Alibaba's way, cloud-init style): the desired key state is recorded now and the machine
 * applies it at its next start or restart. One transaction decides, records and completes the item. A dry run
 * records nothing: it reads the instance and asks the compute backend what its next boot would write
 * (boot-preview.ts), outside any transaction (the read touches the machine's disk), and keeps that with the item.
 */
import type { Authorizer } from '../authz/authorizer.js';
import type { Clock } from '../clock.js';
import type { InstanceType } from '../instance/instance.js';
import type { Instance } from '../instance/instance.js';
import type { Store } from '../ports.js';
import type { Task } from '../task/task.js';
import { type BootPreviewer, previewNextBoot } from './boot-preview.js';
import { previewPayload } from './dry-run-preview.js';
import { itemRefusal } from './item-eligibility.js';
import { type ItemRecorder, type ItemRun, NOT_BOUND_NOTE, unbindsAnother } from './item-record.js';
import { LeaseLost } from './live-change.js';

export interface OnRestartDeps {
  store: Store;
  clock: Clock;
  authz: Authorizer;
  instanceTypes: () => readonly InstanceType[];
  recorder: ItemRecorder;
  /** Reads what a machine's next boot would write, for dry runs (absent: a dry run says it cannot show it). */
  compute?: BootPreviewer;
}

/** When the recorded change takes effect, as a risk's wording says it. */
function whenOf(task: Task, inst: Instance): string {
  if (task.mode === 'live') return 'its next start';
  return inst.status === 'Stopped' ? 'its next start' : 'its next restart';
}

/** The item's note: when the recorded change takes effect. */
function noteOf(task: Task, inst: Instance): string {
  if (task.mode === 'live') return 'instance is Stopped: takes effect at its next start';
  return inst.status === 'Stopped' ? 'takes effect at the next start' : 'takes effect at the next restart';
}

export function createOnRestartExecutor(deps: OnRestartDeps) {
  const { store, recorder } = deps;

  /** A dry run: the item's preview of the next boot, kept with it; nothing about the instance is recorded. */
  async function previewForBoot({ caller, task, item, keyPair: kp, owner }: ItemRun): Promise<void> {
    const inst = await store.instances.get(task.accountId, item.instanceId);
    const refusal = itemRefusal(deps.authz, deps.instanceTypes(), caller, task, inst, item);
    if (refusal || !inst) return recorder.fail(item, refusal!, owner);
    if (unbindsAnother(task, inst)) return recorder.note(item, `dry run: ${NOT_BOUND_NOTE}`, owner);
    const note = `dry run: would ${task.kind} (${noteOf(task, inst)}); nothing recorded`;
    const shown = await previewNextBoot(deps.compute, inst, task, kp, whenOf(task, inst));
    if ('unavailable' in shown) return recorder.note(item, `${note}; preview unavailable: ${shown.unavailable}`, owner);
    return recorder.note(item, note, owner, previewPayload(shown.preview));
  }

  /** Records one item's change for the next start (a live task's Stopped instance comes here too). */
  return async function recordForBoot(run: ItemRun): Promise<void> {
    if (run.task.options.dryRun) return previewForBoot(run);
    const { caller, task, item, keyPair: kp, owner } = run;
    await store.transaction(async (tx) => {
      const inst = await tx.instances.get(task.accountId, item.instanceId);
      const refusal = itemRefusal(deps.authz, deps.instanceTypes(), caller, task, inst, item);
      if (refusal || !inst) return recorder.fail(item, refusal!, owner, tx);
      // Lease lost: the transaction rolls back and the runner that holds the item records it.
      if (!(await recorder.succeed(tx, task, item, inst, kp, false, noteOf(task, inst), owner))) throw new LeaseLost();
    });
  };
}

export type RecordForBoot = ReturnType<typeof createOnRestartExecutor>;
