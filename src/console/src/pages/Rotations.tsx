/** Rotations in waves (key pair A replaced by B): a live list with each rotation's state and progress. */
import { useState } from 'react';
import { type Rotation, type RotationStatus, rotationActive, rotationsApi } from '../api/rotations';
import { Link, navigate } from '../app/router';
import { StartRotationDialog } from '../dialogs/StartRotationDialog';
import { useScope } from '../app/scope';
import { formatCount, formatTime, relativeTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconKey, IconPlus } from '../ui/Icons';
import { RefreshButton, ResourceView, SegmentedFilter } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { EmptyState } from '../ui/States';
import { DataTable } from '../ui/Table';

const FILTERS: { value: RotationStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'running', label: 'Running' },
  { value: 'paused', label: 'Paused' },
  { value: 'stopped', label: 'Stopped' },
  { value: 'completed', label: 'Completed' },
  { value: 'cancelled', label: 'Cancelled' },
];

const STATUS_LABEL: Record<RotationStatus, [string, string]> = {
  running: ['Running', 'blue busy'],
  paused: ['Paused', 'grey'],
  stopped: ['Stopped', 'red'],
  cancelled: ['Cancelled', 'orange'],
  completed: ['Completed', 'green'],
};

export function RotationStatusPill({ status }: { status: RotationStatus }) {
  const [label, tone] = STATUS_LABEL[status];
  return (
    <span className={`pill pill-${tone}`} data-rotation-status={status}>
      <span className="dot" aria-hidden />
      {label}
    </span>
  );
}

export function RotationProgress({ rotation: r }: { rotation: Rotation }) {
  const done = r.succeeded + r.failed;
  return (
    <div className="task-progress-cell">
      <div
        className="progress progress-small"
        role="progressbar"
        aria-label={`Rotation progress: ${done} of ${r.total}`}
        aria-valuemin={0}
        aria-valuemax={r.total}
        aria-valuenow={done}
      >
        <span className="progress-bar" style={{ width: `${r.total ? (r.succeeded / r.total) * 100 : 0}%` }} />
        <span
          className="progress-bar progress-failed"
          style={{ width: `${r.total ? (r.failed / r.total) * 100 : 0}%` }}
        />
      </div>
      <span className="small">
        {formatCount(r.succeeded)}/{formatCount(r.total)} replaced
        {r.failed ? <span className="error-text"> · {formatCount(r.failed)} failed</span> : null}
      </span>
    </div>
  );
}

export function RotationsPage() {
  const { regionId, regionName } = useScope();
  const [status, setStatus] = useState<RotationStatus | ''>('');
  const [starting, setStarting] = useState(false);
  const { offset, limit, pager } = usePaging(20, [regionId, status]);
  const list = useResource(
    () => rotationsApi.list({ regionId, status: status || undefined, offset, limit }),
    [regionId, status, offset, limit],
    { keepPrevious: true, pollMs: (d) => (d?.rotations.some((r) => rotationActive(r)) ? 1000 : 5000) },
  );
  const items = list.data?.rotations ?? [];
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Rotations</h1>
          <p className="muted">Key pairs replaced in waves in {regionName(regionId)}, newest first · updates live</p>
        </div>
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setStarting(true)}>
            <IconPlus /> Start rotation
          </button>
        </div>
      </header>
      <div className="toolbar">
        <SegmentedFilter label="Filter by status" options={FILTERS} value={status} onChange={setStatus} />
        <RefreshButton list={list} label="Refresh rotations" />
      </div>
      <ResourceView
        list={list}
        errorTitle="Cannot load rotations"
        loadingLabel="Loading rotations…"
        isEmpty={items.length === 0}
        empty={
          <EmptyState title={status ? 'No rotations with this status' : 'No rotations yet'} icon={<IconKey />}>
            Start one with <strong>Start rotation</strong>,{' '}
            <code>keyfleet rotations start --from A --to B --wave-size N</code> or the API.
          </EmptyState>
        }
      >
        <DataTable
          label="Rotations"
          columns={['Rotation', 'Status', 'Progress', 'Waves', 'Mode', 'Started', 'By']}
          className="table table-clickable"
        >
          {items.map((r) => (
            <tr
              key={r.id}
              data-rotation-id={r.id}
              onClick={(e) => {
                if (!(e.target as HTMLElement).closest('a')) navigate(`/rotations/${r.id}`);
              }}
            >
              <td data-label="Rotation">
                <Link to={`/rotations/${r.id}`} className="cell-main">
                  {r.fromKeyPairName} → {r.toKeyPairName}
                </Link>
                <div className="mono muted small">{r.id}</div>
              </td>
              <td data-label="Status">
                <RotationStatusPill status={r.status} />
              </td>
              <td data-label="Progress">
                <RotationProgress rotation={r} />
              </td>
              <td data-label="Waves">{r.waveCount}</td>
              <td data-label="Mode">{r.mode === 'live' ? 'Live' : 'On restart'}</td>
              <td data-label="Started">
                <span title={formatTime(r.createdAt)}>{relativeTime(r.createdAt)}</span>
              </td>
              <td data-label="By">{r.createdBy}</td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={list.data?.total ?? 0} label="rotations" />
      </ResourceView>
      {starting ? (
        <StartRotationDialog onClose={() => setStarting(false)} onStarted={(r) => navigate(`/rotations/${r.id}`)} />
      ) : null}
    </div>
  );
}
