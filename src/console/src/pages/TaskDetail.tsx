/** One task: facts, live progress, and the result of every instance (failed ones with their error). */
import { useState } from 'react';
import { api } from '../api/client';
import type { TaskItemStatus } from '../api/types';
import { Link } from '../app/router';
import { formatCount, formatDuration, formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { taskTitle } from '../lib/tasks';
import { usePaging } from '../lib/usePaging';
import { IconChevronLeft } from '../ui/Icons';
import { ResourceView, SegmentedFilter } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { TaskStatusPill } from '../ui/Pills';
import { EmptyState, ErrorState, LoadingState } from '../ui/States';
import { isActive, TaskProgress } from './Tasks';
import { Fact } from '../ui/Summary';
import { DataTable, ItemResultCells } from '../ui/Table';

const ITEM_FILTERS: { value: TaskItemStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'running', label: 'Running' },
  { value: 'pending', label: 'Pending' },
];

export function TaskDetailPage({ id }: { id: string }) {
  const task = useResource(() => api.task(id), [id], { pollMs: (t) => (t && isActive(t) ? 1000 : null) });
  const [status, setStatus] = useState<TaskItemStatus | ''>('');
  const { offset, limit, pager } = usePaging(50, [status]);
  const active = task.data ? isActive(task.data) : true;
  const items = useResource(
    () => api.taskItems(id, { status: status || undefined, offset, limit }),
    [id, status, offset, limit, task.data?.succeeded, task.data?.failed, task.data?.status],
    { keepPrevious: true },
  );

  if (task.error && !task.data) {
    return (
      <div className="page">
        <BackLink />
        <ErrorState title="Cannot load this task" error={task.error} onRetry={task.reload} />
      </div>
    );
  }
  if (!task.data)
    return (
      <div className="page">
        <BackLink />
        <LoadingState label="Loading task…" />
      </div>
    );
  const t = task.data;

  return (
    <div className="page">
      <BackLink />
      <header className="page-header">
        <div>
          <h1>{taskTitle(t)}</h1>
          <p className="muted mono">{t.id}</p>
        </div>
        <TaskStatusPill status={t.status} />
      </header>
      <section className="card">
        <TaskProgress task={t} wide />
        <dl className="facts">
          <Fact term="Region">{t.regionId}</Fact>
          <Fact term="Mode">
            {t.mode === 'live'
              ? `Live over SSH${t.options.port ? ` (port ${t.options.port})` : ''}`
              : 'At the next restart'}
          </Fact>
          <Fact term="Instances">
            {formatCount(t.total)} · {formatCount(t.succeeded)} succeeded · {formatCount(t.failed)} failed
          </Fact>
          <Fact term="Created">{formatTime(t.createdAt)}</Fact>
          <Fact term="Duration">
            {formatDuration(t.startedAt ?? t.createdAt, t.finishedAt)}
            {active ? ' (running)' : ''}
          </Fact>
          <Fact term="Through">{t.face}</Fact>
          <Fact term="Request ID" className="mono small break">
            {t.requestId}
          </Fact>
        </dl>
      </section>

      <h2 className="section-title">Result per instance</h2>
      <div className="toolbar">
        <SegmentedFilter
          label="Filter instances by result"
          options={ITEM_FILTERS}
          value={status}
          onChange={setStatus}
          count={(v) => (v === 'failed' && t.failed ? ` (${formatCount(t.failed)})` : '')}
        />
      </div>
      <ResourceView
        list={items}
        errorTitle="Cannot load the results"
        loadingLabel="Loading results…"
        isEmpty={(items.data?.items.length ?? 0) === 0}
        empty={<EmptyState title={status ? `No ${status} instances` : 'No instances'} />}
      >
        <DataTable label="Result per instance" columns={['#', 'Instance', 'Result', 'Details', 'Attempts', 'Finished']}>
          {(items.data?.items ?? []).map((it) => (
            <tr key={it.seq} data-instance-id={it.instanceId}>
              <td data-label="#">{it.seq + 1}</td>
              <td data-label="Instance">
                <Link className="mono id" to={`/instances/${encodeURIComponent(it.instanceId)}`}>
                  {it.instanceId}
                </Link>
              </td>
              <ItemResultCells item={it} noNote={<span className="muted">—</span>} />
              <td data-label="Attempts">{it.attempts}</td>
              <td data-label="Finished" className="nowrap">
                {formatTime(it.finishedAt)}
              </td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={items.data?.total ?? 0} label="results" sizes={[50, 100, 500]} />
      </ResourceView>
    </div>
  );
}

function BackLink() {
  return (
    <Link to="/tasks" className="back-link">
      <IconChevronLeft /> Tasks
    </Link>
  );
}
