/** Every bind and unbind is a task: a live list (polled each second while one runs) with progress and results. */
import { useState } from 'react';
import { api } from '../api/client';
import type { Task, TaskStatus } from '../api/types';
import { Link, navigate } from '../app/router';
import { useScope } from '../app/scope';
import { formatCount, formatDuration, formatTime, relativeTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { taskTitle } from '../lib/tasks';
import { usePaging } from '../lib/usePaging';
import { IconTasks } from '../ui/Icons';
import { RefreshButton, ResourceView, SegmentedFilter } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { TaskStatusPill } from '../ui/Pills';
import { EmptyState } from '../ui/States';
import { DataTable } from '../ui/Table';

const FILTERS: { value: TaskStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'running', label: 'Running' },
  { value: 'queued', label: 'Queued' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'partial', label: 'Partly failed' },
  { value: 'failed', label: 'Failed' },
];

export const isActive = (t: Task) => t.status === 'queued' || t.status === 'running';

export function TasksPage() {
  const { regionId, regionName } = useScope();
  const [status, setStatus] = useState<TaskStatus | ''>('');
  const { offset, limit, pager } = usePaging(20, [regionId, status]);

  const list = useResource(
    () => api.tasks({ regionId, status: status || undefined, offset, limit }),
    [regionId, status, offset, limit],
    { keepPrevious: true, pollMs: (d) => (d?.items.some(isActive) ? 1000 : 3000) },
  );
  const items = list.data?.items ?? [];

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Tasks</h1>
          <p className="muted">Bind and unbind changes in {regionName(regionId)}, newest first · updates live</p>
        </div>
      </header>
      <div className="toolbar">
        <SegmentedFilter label="Filter by status" options={FILTERS} value={status} onChange={setStatus} />
        <RefreshButton list={list} label="Refresh tasks" />
      </div>

      <ResourceView
        list={list}
        errorTitle="Cannot load tasks"
        loadingLabel="Loading tasks…"
        isEmpty={items.length === 0}
        empty={
          <EmptyState
            title={status ? 'No tasks with this status' : `No tasks in ${regionName(regionId)} yet`}
            icon={<IconTasks />}
          >
            A task appears here for every bind or unbind, from the console, the CLI or the cloud APIs.
          </EmptyState>
        }
      >
        <DataTable
          label="Tasks"
          columns={['Task', 'Status', 'Progress', 'Mode', 'Started', 'Duration', 'Through']}
          className="table table-clickable"
        >
          {items.map((t) => (
            <tr
              key={t.id}
              data-task-id={t.id}
              onClick={(e) => {
                if (!(e.target as HTMLElement).closest('a')) navigate(`/tasks/${t.id}`);
              }}
            >
              <td data-label="Task">
                <Link to={`/tasks/${t.id}`} className="cell-main">
                  {taskTitle(t)}
                </Link>
                <div className="mono muted small">{t.id}</div>
              </td>
              <td data-label="Status">
                <TaskStatusPill status={t.status} />
              </td>
              <td data-label="Progress">
                <TaskProgress task={t} />
              </td>
              <td data-label="Mode">{t.mode === 'live' ? 'Live' : 'On restart'}</td>
              <td data-label="Started">
                <span title={formatTime(t.createdAt)}>{relativeTime(t.createdAt)}</span>
              </td>
              <td data-label="Duration">{formatDuration(t.startedAt ?? t.createdAt, t.finishedAt)}</td>
              <td data-label="Through">
                <span className="face">{t.face}</span>
              </td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={list.data?.total ?? 0} label="tasks" />
      </ResourceView>
    </div>
  );
}

/** `wide`: the bar fills its container (a task's card) instead of a table cell's 120 px. */
export function TaskProgress({ task: t, wide = false }: { task: Task; wide?: boolean }) {
  const done = t.succeeded + t.failed;
  return (
    <div className={wide ? 'task-progress' : 'task-progress-cell'}>
      <div
        className={wide ? 'progress' : 'progress progress-small'}
        role="progressbar"
        aria-label={`Task progress: ${done} of ${t.total}`}
        aria-valuemin={0}
        aria-valuemax={t.total}
        aria-valuenow={done}
      >
        <span className="progress-bar" style={{ width: `${t.total ? (t.succeeded / t.total) * 100 : 0}%` }} />
        <span
          className="progress-bar progress-failed"
          style={{ width: `${t.total ? (t.failed / t.total) * 100 : 0}%` }}
        />
      </div>
      <span className="small">
        {formatCount(done)}/{formatCount(t.total)}
        {t.failed ? <span className="error-text"> · {formatCount(t.failed)} failed</span> : null}
      </span>
    </div>
  );
}
