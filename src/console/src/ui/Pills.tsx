/** Status pills and the "Restart needed" marker. */
import type { Instance, InstanceStatus, TaskItemStatus, TaskStatus } from '../api/types';
import { IconWarning } from './Icons';
import { Tooltip } from './Tooltip';

const INSTANCE_TONE: Record<InstanceStatus, string> = {
  Running: 'green',
  Stopped: 'grey',
  Starting: 'blue busy',
  Stopping: 'blue busy',
  Pending: 'blue busy',
};

export function InstanceStatusPill({ status }: { status: InstanceStatus }) {
  return (
    <span className={`pill pill-${INSTANCE_TONE[status]}`}>
      <span className="dot" aria-hidden />
      {status}
    </span>
  );
}

const TASK_LABEL: Record<TaskStatus, [string, string]> = {
  queued: ['Queued', 'grey'],
  running: ['Running', 'blue busy'],
  succeeded: ['Succeeded', 'green'],
  failed: ['Failed', 'red'],
  partial: ['Partly failed', 'orange'],
};

export function TaskStatusPill({ status }: { status: TaskStatus }) {
  const [label, tone] = TASK_LABEL[status];
  return (
    <span className={`pill pill-${tone}`}>
      <span className="dot" aria-hidden />
      {label}
    </span>
  );
}

const ITEM_LABEL: Record<TaskItemStatus, [string, string]> = {
  pending: ['Pending', 'grey'],
  running: ['Running', 'blue busy'],
  succeeded: ['Succeeded', 'green'],
  failed: ['Failed', 'red'],
};

export function ItemStatusPill({ status }: { status: TaskItemStatus }) {
  const [label, tone] = ITEM_LABEL[status];
  return (
    <span className={`pill pill-${tone}`}>
      <span className="dot" aria-hidden />
      {label}
    </span>
  );
}

/** What a pending change is, in words, for the marker's tooltip. */
export function pendingText(
  i: Pick<Instance, 'keyPairName' | 'status' | 'name'> & Partial<Pick<Instance, 'pendingChanges'>>,
): string {
  const when = i.status === 'Stopped' ? 'when it next starts' : 'at the next restart';
  if (i.pendingChanges?.password && !i.pendingChanges.keyPair)
    return `A new root password waits: ${i.name} keeps its previous password until it takes effect ${when}.`;
  return i.keyPairName
    ? `Key pair ${i.keyPairName} is bound, but ${i.name} keeps its previous login settings until the change takes effect ${when} (or is applied live).`
    : `A login change (key pair unbound or new root password) waits: ${i.name} keeps its previous settings until the change takes effect ${when} (or is applied live).`;
}

export function RestartNeeded({
  instance,
}: {
  instance: Pick<Instance, 'keyPairName' | 'status' | 'name'> & Partial<Pick<Instance, 'pendingChanges'>>;
}) {
  return (
    <Tooltip content={pendingText(instance)} className="marker-restart">
      <IconWarning /> Restart needed
    </Tooltip>
  );
}
