/** The progress of a drift repair: the live tasks it submitted, followed like any live change, with links. */
import type { Task, TaskItem } from '../../api/types';
import { Link } from '../../app/router';
import { formatCount, plural } from '../../lib/format';
import { IconWarning } from '../../ui/Icons';
import { TaskStatusPill } from '../../ui/Pills';
import { Notice, ProgressBar } from '../../ui/Notice';

export interface RepairRun {
  tasks: Task[];
  items: TaskItem[];
  finished: boolean;
}

export function RepairProgress({ run, onNavigate }: { run: RepairRun; onNavigate: () => void }) {
  const failed = run.tasks.reduce((n, t) => n + t.failed, 0);
  const succeeded = run.tasks.reduce((n, t) => n + t.succeeded, 0);
  return (
    <section className="drift-tasks" aria-label="Repair">
      {run.tasks.map((t) => {
        const done = t.succeeded + t.failed;
        return (
          <div key={t.id} className="task-progress" data-task-id={t.id} data-task-status={t.status}>
            <ProgressBar
              label={`Repair progress of task ${t.id.slice(0, 8)}`}
              total={t.total}
              done={done}
              failed={t.failed}
            />
            <p className="muted small">
              <TaskStatusPill status={t.status} /> Live {t.kind}
              {t.keyPairName ? ` of ${t.keyPairName}` : ''} · {formatCount(done)} of {plural(t.total, 'host')} done ·{' '}
              {formatCount(t.succeeded)} succeeded · {formatCount(t.failed)} failed ·{' '}
              <Link to={`/tasks/${t.id}`} onClick={onNavigate}>
                task {t.id.slice(0, 8)}
              </Link>
            </p>
          </div>
        );
      })}
      {run.finished ? (
        failed === 0 ? (
          <Notice
            tone="success"
            title={
              <>
                Repaired {plural(succeeded, 'host')}: keyfleet&apos;s own lines were restored live and verified by
                login.
              </>
            }
          >
            <p>Hand-added keys were kept. The repaired hosts were checked again below.</p>
          </Notice>
        ) : (
          <Notice
            tone="error"
            title={
              <>
                {plural(failed, 'host')} could not be repaired{succeeded ? `, ${formatCount(succeeded)} repaired` : ''}.
              </>
            }
          >
            <p>The reasons are in the rows below and on the task page.</p>
          </Notice>
        )
      ) : (
        <p className="alert alert-warning" role="status">
          <IconWarning /> Repairing over SSH: keyfleet rewrites only its own block and drop-in and proves each host by
          login.
        </p>
      )}
    </section>
  );
}
