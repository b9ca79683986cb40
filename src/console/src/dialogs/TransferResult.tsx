/**
 * The transfer dialog while its task runs and when it has finished: progress, the outcome, the result of every
 * instance, and (for a change recorded for the next restart) the offer to restart the running instances now.
 */
import { useMemo, useState } from 'react';
import { mapLimit } from '../../../common/concurrency.js';
import { api } from '../api/client';
import type { Instance, KeyPair, Task, TaskItem } from '../api/types';
import { Link } from '../app/router';
import { formatCount, plural } from '../lib/format';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconWarning } from '../ui/Icons';
import { useToasts } from '../ui/Toasts';
import { DataTable, ItemResultCells } from '../ui/Table';
import { Notice, ProgressBar } from '../ui/Notice';

export function TransferResult({
  keyPair,
  action,
  step,
  task,
  items,
  selected,
  onClose,
  onChanged,
}: {
  keyPair: KeyPair;
  action: 'bind' | 'unbind';
  step: 'running' | 'result';
  task: Task | null;
  items: TaskItem[];
  selected: Instance[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const toasts = useToasts();
  const verb = action === 'bind' ? 'Bind' : 'Unbind';
  const [restart, setRestart] = useState<{ done: number; total: number; failed: number } | null>(null);
  const byId = useMemo(() => new Map(selected.map((i) => [i.id, i])), [selected]);
  const needRestart =
    step === 'result' && task?.mode === 'on-restart'
      ? items
          .filter((it) => it.status === 'succeeded' && byId.get(it.instanceId)?.status === 'Running')
          .map((it) => it.instanceId)
      : [];
  const needStart =
    step === 'result' && task?.mode === 'on-restart'
      ? items.filter((it) => it.status === 'succeeded' && byId.get(it.instanceId)?.status === 'Stopped').length
      : 0;

  const restartAll = async () => {
    setRestart({ done: 0, total: needRestart.length, failed: 0 });
    const results = await mapLimit(
      needRestart,
      4,
      (iid) => api.instanceAction(iid, 'restart'),
      (done) => setRestart((r) => (r ? { ...r, done } : r)),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    setRestart({ done: needRestart.length, total: needRestart.length, failed });
    toasts.push({
      kind: failed ? 'warning' : 'info',
      title: `Restarting ${plural(needRestart.length - failed, 'instance')}`,
      body: failed ? `${failed} could not be restarted.` : `The ${action} takes effect as each one comes back.`,
    });
    onChanged();
    onClose();
  };

  const finished = step === 'result' && task;
  const progress = task ? task.succeeded + task.failed : 0;
  return (
    <Dialog
      title={finished ? `${verb} finished` : `${verb}ing ${keyPair.name}…`}
      onClose={onClose}
      busy={!finished || (restart !== null && restart.done < restart.total)}
      size="large"
      step={step}
      testId="transfer-result"
      footer={
        finished ? (
          needRestart.length > 0 ? (
            <>
              <button type="button" className="button" onClick={onClose} disabled={restart !== null}>
                Restart later
              </button>
              <button
                type="button"
                className="button button-primary"
                onClick={() => void restartAll()}
                disabled={restart !== null}
              >
                {restart
                  ? `Restarting ${restart.done}/${restart.total}…`
                  : `Restart ${plural(needRestart.length, 'instance')} now`}
              </button>
            </>
          ) : (
            <button type="button" className="button button-primary" onClick={onClose}>
              Close
            </button>
          )
        ) : null
      }
    >
      {task ? (
        <div className="task-progress">
          <ProgressBar label={`${verb} progress`} total={task.total} done={progress} failed={task.failed} />
          <p className="muted small">
            {formatCount(progress)} of {formatCount(task.total)} done · {formatCount(task.succeeded)} succeeded ·{' '}
            {formatCount(task.failed)} failed ·{' '}
            <Link to={`/tasks/${task.id}`} onClick={onClose}>
              task {task.id.slice(0, 8)}
            </Link>
          </p>
        </div>
      ) : (
        <p className="muted">Submitting…</p>
      )}
      {finished ? (
        <>
          {task.failed === 0 ? (
            <div className={`notice ${task.mode === 'on-restart' ? 'notice-warning' : 'notice-success'}`} role="status">
              {task.mode === 'on-restart' ? <IconWarning /> : <IconCheck />}
              <div>
                <strong>
                  {keyPair.name} {action === 'bind' ? 'bound to' : 'unbound from'} {plural(task.succeeded, 'instance')}.
                  {task.mode === 'on-restart'
                    ? ' It takes effect after a restart.'
                    : ' Applied live and verified by login.'}
                </strong>
                {task.mode === 'on-restart' ? (
                  <p>
                    {needRestart.length > 0
                      ? `${plural(needRestart.length, 'running instance')} ${needRestart.length === 1 ? 'is' : 'are'} marked Restart needed until restarted.`
                      : ''}
                    {needStart > 0
                      ? ` ${plural(needStart, 'stopped instance')} take${needStart === 1 ? 's' : ''} it at the next start.`
                      : ''}
                  </p>
                ) : null}
              </div>
            </div>
          ) : (
            <Notice
              tone="error"
              title={
                <>
                  {plural(task.failed, 'instance')} failed
                  {task.succeeded ? `, ${formatCount(task.succeeded)} succeeded` : ''}.
                </>
              }
            >
              <p>The reasons are listed below and on the Tasks page.</p>
            </Notice>
          )}
          <DataTable
            label="Result per instance"
            columns={['Instance', 'Result', 'Details']}
            className="table table-compact"
            wrapClassName="table-wrap table-wrap-short"
          >
            {items.map((it) => {
              const inst = byId.get(it.instanceId);
              return (
                <tr key={it.seq} data-instance-id={it.instanceId}>
                  <td data-label="Instance">
                    <div className="cell-main">{inst?.name ?? it.instanceId}</div>
                    <div className="mono muted small id">{it.instanceId}</div>
                  </td>
                  <ItemResultCells item={it} noNote="" />
                </tr>
              );
            })}
          </DataTable>
        </>
      ) : null}
    </Dialog>
  );
}
