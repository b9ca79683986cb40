/**
 * One rotation: its state (and why it stopped), progress, the plan, pause/resume/cancel, its waves (each linked to
 * its task) and the result of every machine (the proof, or why it failed).
 */
import { useState } from 'react';
import { errorText } from '../api/client';
import { type MachineStatus, type RotationMachine, rotationActive, rotationsApi } from '../api/rotations';
import { Link } from '../app/router';
import { formatCount, formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconChevronLeft } from '../ui/Icons';
import { ResourceView, SegmentedFilter } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { EmptyState, ErrorState, LoadingState } from '../ui/States';
import { Fact } from '../ui/Summary';
import { DataTable } from '../ui/Table';
import { useToasts } from '../ui/Toasts';
import { RotationProgress, RotationStatusPill } from './Rotations';

const MACHINE_FILTERS: { value: MachineStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'succeeded', label: 'Replaced' },
  { value: 'running', label: 'Running' },
  { value: 'pending', label: 'Pending' },
  { value: 'skipped', label: 'Skipped' },
];

const MACHINE_LABEL: Record<MachineStatus, [string, string]> = {
  pending: ['Pending', 'grey'],
  running: ['Running', 'blue busy'],
  succeeded: ['Replaced', 'green'],
  failed: ['Failed', 'red'],
  skipped: ['Skipped', 'orange'],
};

function MachinePill({ status }: { status: MachineStatus }) {
  const [label, tone] = MACHINE_LABEL[status];
  return (
    <span className={`pill pill-${tone}`}>
      <span className="dot" aria-hidden />
      {label}
    </span>
  );
}

export function RotationDetailPage({ id }: { id: string }) {
  const toasts = useToasts();
  const detail = useResource(() => rotationsApi.get(id), [id], {
    pollMs: (d) => (d && rotationActive(d.rotation, d.waves) ? 1000 : null),
  });
  const [status, setStatus] = useState<MachineStatus | ''>('');
  const [wave, setWave] = useState<number | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const { offset, limit, pager } = usePaging(50, [status, wave]);
  const r = detail.data?.rotation;
  const machines = useResource(
    () => rotationsApi.machines(id, { status: status || undefined, wave, offset, limit }),
    [id, status, wave, offset, limit, r?.succeeded, r?.failed, r?.status],
    { keepPrevious: true },
  );

  if (detail.error && !detail.data)
    return (
      <div className="page">
        <BackLink />
        <ErrorState title="Cannot load this rotation" error={detail.error} onRetry={detail.reload} />
      </div>
    );
  if (!detail.data || !r)
    return (
      <div className="page">
        <BackLink />
        <LoadingState label="Loading rotation…" />
      </div>
    );
  const waves = detail.data.waves;

  async function act(verb: 'pause' | 'resume' | 'cancel') {
    setBusy(true);
    try {
      const res = await rotationsApi.act(id, verb);
      toasts.push({ kind: 'success', title: `Rotation ${res.rotation.status}` });
      detail.reload();
    } catch (err) {
      toasts.push({ kind: 'error', title: `Could not ${verb} the rotation`, body: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <BackLink />
      <header className="page-header">
        <div>
          <h1>
            Rotation {r.fromKeyPairName} → {r.toKeyPairName}
          </h1>
          <p className="muted mono">{r.id}</p>
        </div>
        <RotationStatusPill status={r.status} />
      </header>
      <section className="card">
        <RotationProgress rotation={r} />
        {r.reason ? (
          <p className={r.status === 'stopped' ? 'error-text' : 'muted'} data-testid="rotation-reason">
            {r.reason}
          </p>
        ) : null}
        <dl className="facts">
          <Fact term="Mode">{r.mode === 'live' ? 'Live over SSH, each machine proven' : 'At the next restart'}</Fact>
          <Fact term="Machines">
            {formatCount(r.total)} · {formatCount(r.succeeded)} replaced · {formatCount(r.failed)} failed
          </Fact>
          <Fact term="Waves">
            canary of {r.canarySize}, then {r.waveSize} per wave, {r.pauseSeconds} s apart · stops above {r.maxFailures}{' '}
            failure{r.maxFailures === 1 ? '' : 's'} in a wave
          </Fact>
          <Fact term="Next wave">{r.status === 'running' && r.nextWaveAt ? formatTime(r.nextWaveAt) : '—'}</Fact>
          <Fact term="Started">
            {formatTime(r.createdAt)} by {r.createdBy}
          </Fact>
          <Fact term="Finished">{formatTime(r.finishedAt)}</Fact>
        </dl>
        <div className="button-row button-row-start">
          {r.status === 'running' ? (
            <button type="button" className="button" disabled={busy} onClick={() => void act('pause')}>
              Pause
            </button>
          ) : null}
          {r.status === 'paused' || r.status === 'stopped' ? (
            <button type="button" className="button button-primary" disabled={busy} onClick={() => void act('resume')}>
              {r.status === 'stopped' ? 'Resume (retry failed machines)' : 'Resume'}
            </button>
          ) : null}
          {r.status === 'running' || r.status === 'paused' || r.status === 'stopped' ? (
            <button
              type="button"
              className="button button-quiet-danger"
              disabled={busy}
              onClick={() => void act('cancel')}
            >
              Cancel rotation
            </button>
          ) : null}
        </div>
      </section>

      <h2 className="section-title">Waves</h2>
      <DataTable
        label="Waves"
        columns={['Wave', 'Status', 'Machines', 'Replaced', 'Failed', 'Attempt', 'Task', 'Finished']}
      >
        {waves.map((w) => (
          <tr key={w.n} data-wave={w.n} data-wave-status={w.status}>
            <td data-label="Wave">
              <button type="button" className="link-button" onClick={() => setWave(wave === w.n ? undefined : w.n)}>
                {w.n}
                {w.canary ? ' (canary)' : ''}
              </button>
            </td>
            <td data-label="Status">{w.status === 'done' ? 'Done' : w.status === 'running' ? 'Running' : 'Pending'}</td>
            <td data-label="Machines">{w.size}</td>
            <td data-label="Replaced">{w.succeeded}</td>
            <td data-label="Failed" className={w.failed ? 'error-text' : undefined}>
              {w.failed}
            </td>
            <td data-label="Attempt">{w.attempt}</td>
            <td data-label="Task">
              {w.taskId ? (
                <Link className="mono small" to={`/tasks/${w.taskId}`}>
                  {w.taskId.slice(0, 8)}
                </Link>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td data-label="Finished" className="nowrap">
              {formatTime(w.finishedAt)}
            </td>
          </tr>
        ))}
      </DataTable>

      <h2 className="section-title">Result per machine{wave ? ` (wave ${wave})` : ''}</h2>
      <div className="toolbar">
        <SegmentedFilter
          label="Filter machines by result"
          options={MACHINE_FILTERS}
          value={status}
          onChange={setStatus}
        />
      </div>
      <ResourceView
        list={machines}
        errorTitle="Cannot load the results"
        loadingLabel="Loading results…"
        isEmpty={(machines.data?.machines.length ?? 0) === 0}
        empty={<EmptyState title={status ? `No ${MACHINE_LABEL[status][0].toLowerCase()} machines` : 'No machines'} />}
      >
        <DataTable label="Result per machine" columns={['Instance', 'Wave', 'Result', 'Details', 'Finished']}>
          {(machines.data?.machines ?? []).map((m: RotationMachine) => (
            <tr key={m.instanceId} data-instance-id={m.instanceId}>
              <td data-label="Instance">
                <Link className="mono id" to={`/instances?search=${encodeURIComponent(m.instanceId)}`}>
                  {m.instanceId}
                </Link>
              </td>
              <td data-label="Wave">{m.wave}</td>
              <td data-label="Result">
                <MachinePill status={m.status} />
              </td>
              <td data-label="Details" className={m.status === 'failed' ? 'error-text' : undefined}>
                {m.errorCode ? `${m.errorCode}: ` : ''}
                {m.detail ?? <span className="muted">—</span>}
              </td>
              <td data-label="Finished" className="nowrap">
                {formatTime(m.finishedAt)}
              </td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={machines.data?.total ?? 0} label="machines" sizes={[50, 100, 500]} />
      </ResourceView>
    </div>
  );
}

function BackLink() {
  return (
    <Link to="/rotations" className="back-link">
      <IconChevronLeft /> Rotations
    </Link>
  );
}
