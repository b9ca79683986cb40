/**
 * Drift of registered hosts (the Instances page's "Check drift", for every host of the region or one host from
 * its Actions menu). keyfleet logs in to each host with its sealed management key (host key pinned), reads
 * authorized_keys and its sshd drop-in, and compares them with the binding; nothing is written. A row per host:
 * its status, the findings, and every key keyfleet did not write (hand-added lines outside its block, foreign lines
 * inside it) with the fingerprint ssh-keygen prints, the key pair it belongs to when known and keyfleet's own
 * management key labelled. Drifted hosts can be repaired: the server scans them again and submits one live task per
 * key pair, which rewrites only keyfleet's block and drop-in (hand-added lines are kept) and proves the result by
 * login. The dialog follows the tasks like any live change, links them, then checks the repaired hosts again.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { DriftKey, DriftResult, DriftStatus, Instance, Task, TaskItem } from '../api/types';
import { Link } from '../app/router';
import { useScope } from '../app/scope';
import { formatCount, plural } from '../lib/format';
import { useMounted } from '../lib/hooks';
import { followTask } from '../lib/tasks';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconError, IconRefresh, IconWarning } from '../ui/Icons';
import { TaskStatusPill } from '../ui/Pills';
import { InlineError, LoadingState } from '../ui/States';

const DRIFT_LABEL: Record<DriftStatus, [string, string]> = {
  'in-sync': ['In sync', 'green'],
  drifted: ['Drifted', 'orange'],
  unreachable: ['Unreachable', 'red'],
  error: ['Error', 'red'],
  skipped: ['Skipped', 'grey'],
};

export function DriftStatusPill({ status }: { status: DriftStatus }) {
  const [label, tone] = DRIFT_LABEL[status];
  return (
    <span className={`pill pill-${tone}`} data-drift-status={status}>
      <span className="dot" aria-hidden />
      {label}
    </span>
  );
}

interface RepairRun {
  tasks: Task[];
  items: TaskItem[];
  finished: boolean;
}

/** `hosts`: the instances to check, or 'all' for every registered host of the region. */
export function DriftDialog({
  hosts,
  onClose,
  onChanged,
}: {
  hosts: 'all' | Instance[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const { regionId, regionName } = useScope();
  const mounted = useMounted();
  const ids = useMemo(() => (hosts === 'all' ? undefined : hosts.map((h) => h.id)), [hosts]);
  const [results, setResults] = useState<DriftResult[] | null>(null);
  const [scanning, setScanning] = useState(false);
  const [scanError, setScanError] = useState<unknown>(null);
  const [repair, setRepair] = useState<RepairRun | null>(null);
  const [repairing, setRepairing] = useState(false);
  const [repairError, setRepairError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const scanSeq = useRef(0);

  const merge = useCallback((fresh: DriftResult[]) => {
    setResults((old) => {
      if (!old) return fresh;
      const byId = new Map(fresh.map((r) => [r.instanceId, r]));
      const merged = old.map((r) => byId.get(r.instanceId) ?? r);
      for (const r of fresh) if (!old.some((o) => o.instanceId === r.instanceId)) merged.push(r);
      return merged;
    });
  }, []);

  const scan = useCallback(async () => {
    const seq = ++scanSeq.current;
    setScanning(true);
    setScanError(null);
    try {
      const r = await api.driftScan(regionId, ids);
      if (mounted() && seq === scanSeq.current) setResults(r);
    } catch (err) {
      if (mounted() && seq === scanSeq.current) setScanError(err);
    } finally {
      if (mounted() && seq === scanSeq.current) setScanning(false);
    }
  }, [regionId, ids, mounted]);

  useEffect(() => {
    void scan();
  }, [scan]);

  const runRepair = async (instanceIds: string[]) => {
    if (instanceIds.length === 0) return;
    setRepairing(true);
    setRepairError(null);
    setNote(null);
    setRepair(null);
    try {
      const r = await api.driftRepair(regionId, instanceIds);
      if (!mounted()) return;
      merge(r.results);
      if (r.tasks.length === 0) {
        setNote('Nothing needed repair: a fresh check found no drifted host among those chosen.');
        return;
      }
      setRepair({ tasks: r.tasks, items: [], finished: false });
      const onProgress = (t: Task) => {
        if (mounted())
          setRepair((cur) => (cur ? { ...cur, tasks: cur.tasks.map((x) => (x.id === t.id ? t : x)) } : cur));
      };
      const done = await Promise.all(r.tasks.map((t) => followTask(t.id, onProgress, { cancelled: () => !mounted() })));
      if (!mounted()) return;
      setRepair({ tasks: done.map((d) => d.task), items: done.flatMap((d) => d.items), finished: true });
      onChanged();
      // Check the repaired hosts again, so the rows say what the hosts have now.
      merge(await api.driftScan(regionId, instanceIds));
    } catch (err) {
      if (mounted()) setRepairError(err);
    } finally {
      if (mounted()) setRepairing(false);
    }
  };

  const list = results ?? [];
  const count = (s: DriftStatus) => list.filter((r) => r.status === s).length;
  const drifted = list.filter((r) => r.status === 'drifted').map((r) => r.instanceId);
  const failedItem = new Map(
    (repair?.items ?? []).filter((it) => it.status === 'failed').map((it) => [it.instanceId, it]),
  );
  const busy = scanning || repairing;
  const scope =
    hosts === 'all'
      ? `every registered host in ${regionName(regionId)}`
      : hosts.length === 1
        ? hosts[0]!.name
        : plural(hosts.length, 'host');

  return (
    <Dialog
      title="Drift check"
      onClose={onClose}
      busy={repairing}
      size="large"
      testId="drift-dialog"
      description={
        <>
          Reads {scope} over SSH with keyfleet&apos;s management key and compares authorized_keys and the sshd drop-in
          with what keyfleet bound. A check writes nothing.
        </>
      }
      footer={
        <>
          <button type="button" className="button" onClick={() => void scan()} disabled={busy}>
            <IconRefresh className={scanning ? 'spin' : undefined} /> Check again
          </button>
          {drifted.length > 0 ? (
            <button
              type="button"
              className="button button-primary"
              onClick={() => void runRepair(drifted)}
              disabled={busy}
            >
              {repairing ? 'Repairing…' : `Repair all drifted (${formatCount(drifted.length)})`}
            </button>
          ) : null}
          <button type="button" className="button" onClick={onClose} disabled={repairing}>
            Close
          </button>
        </>
      }
    >
      {repair ? <RepairProgress run={repair} onNavigate={onClose} /> : null}
      {note ? (
        <p className="alert alert-info" role="status">
          {note}
        </p>
      ) : null}
      <InlineError error={repairError} />
      {results === null ? (
        scanError ? (
          <InlineError error={scanError} />
        ) : (
          <LoadingState label="Reading the hosts over SSH…" />
        )
      ) : (
        <>
          <InlineError error={scanError} />
          {list.length === 0 ? (
            <p className="muted" role="status">
              There are no registered hosts in {regionName(regionId)} to check. Register one with{' '}
              <strong>Register host</strong>.
            </p>
          ) : (
            <>
              <p className="drift-summary" role="status" aria-live="polite" data-testid="drift-summary">
                <span>
                  {plural(list.length, 'host')} checked{scanning ? ' · checking again…' : ''}:
                </span>
                {(['in-sync', 'drifted', 'unreachable', 'error', 'skipped'] as DriftStatus[])
                  .filter((s) => count(s) > 0)
                  .map((s) => (
                    <span key={s}>
                      {formatCount(count(s))} {DRIFT_LABEL[s][0].toLowerCase()}
                    </span>
                  ))}
              </p>
              <div className="table-wrap">
                <table className="table table-compact drift-table" aria-label="Drift per host">
                  <thead>
                    <tr>
                      <th scope="col">Host</th>
                      <th scope="col">Status</th>
                      <th scope="col">Findings and keys keyfleet did not write</th>
                      <th scope="col" className="col-actions">
                        <span className="visually-hidden">Repair</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((r) => (
                      <DriftRow
                        key={r.instanceId}
                        result={r}
                        failed={failedItem.get(r.instanceId)}
                        busy={busy}
                        onRepair={() => void runRepair([r.instanceId])}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </Dialog>
  );
}

function DriftRow({
  result: r,
  failed,
  busy,
  onRepair,
}: {
  result: DriftResult;
  failed: TaskItem | undefined;
  busy: boolean;
  onRepair: () => void;
}) {
  return (
    <tr data-instance-id={r.instanceId} data-drift={r.status}>
      <td data-label="Host">
        <div className="cell-main">{r.name}</div>
        <div className="mono muted small id">{r.instanceId}</div>
        <div className="mono small">
          {r.address}:{r.sshPort}
        </div>
        <div className="small">
          Key pair:{' '}
          {r.keyPairName ? <span className="key-name">{r.keyPairName}</span> : <span className="muted">none</span>}
        </div>
      </td>
      <td data-label="Status">
        <DriftStatusPill status={r.status} />
      </td>
      <td data-label="Details">
        {r.findings.length > 0 ? (
          <ul className="drift-findings" aria-label={`Findings on ${r.name}`}>
            {r.findings.map((f, n) => (
              <li key={n} data-code={f.code}>
                {f.message}
              </li>
            ))}
          </ul>
        ) : r.status === 'in-sync' ? (
          <span className="muted small">No findings: the host has what keyfleet bound.</span>
        ) : null}
        {r.reason ? <p className="small muted">{r.reason}</p> : null}
        {r.errorCode || r.errorMessage ? (
          <p className="small field-error">
            <span className="mono">{r.errorCode}</span> {r.errorMessage}
          </p>
        ) : null}
        {failed ? (
          <p className="small field-error">
            Repair failed: <span className="mono">{failed.errorCode}</span> {failed.errorMessage}
          </p>
        ) : null}
        {r.unmanagedKeys.length > 0 ? <UnmanagedKeys name={r.name} keys={r.unmanagedKeys} /> : null}
      </td>
      <td data-label="Repair" className="col-actions">
        {r.status === 'drifted' ? (
          <button
            type="button"
            className="button button-small"
            onClick={onRepair}
            disabled={busy}
            aria-label={`Repair ${r.name}`}
          >
            Repair
          </button>
        ) : null}
      </td>
    </tr>
  );
}

function UnmanagedKeys({ name, keys }: { name: string; keys: DriftKey[] }) {
  return (
    <table className="table table-compact drift-keys" aria-label={`Unmanaged keys on ${name}`}>
      <caption>{plural(keys.length, 'key')} keyfleet did not write (they can log in)</caption>
      <thead>
        <tr>
          <th scope="col">Fingerprint</th>
          <th scope="col">Type</th>
          <th scope="col">Comment</th>
          <th scope="col">Key pair</th>
          <th scope="col">Line</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={`${k.line}-${k.fingerprintSha256}`} data-fingerprint={k.fingerprintSha256}>
            <td data-label="Fingerprint" className="mono break">
              {k.fingerprintSha256}
            </td>
            <td data-label="Type" className="mono nowrap">
              {k.keyType}
            </td>
            <td data-label="Comment">{k.comment || <span className="muted">—</span>}</td>
            <td data-label="Key pair">
              {k.keyPairName ?? <span className="muted">unknown</span>}
              {k.managementKey ? (
                <>
                  {' '}
                  <span className="badge badge-mgmt" title="The key keyfleet itself logs in to this host with">
                    management key
                  </span>
                </>
              ) : null}
            </td>
            <td data-label="Line">
              {k.line}
              {k.location === 'block' ? (
                <>
                  {' '}
                  <span className="badge badge-block" title="A line keyfleet did not write, inside keyfleet's block">
                    in keyfleet&apos;s block
                  </span>
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RepairProgress({ run, onNavigate }: { run: RepairRun; onNavigate: () => void }) {
  const failed = run.tasks.reduce((n, t) => n + t.failed, 0);
  const succeeded = run.tasks.reduce((n, t) => n + t.succeeded, 0);
  return (
    <section className="drift-tasks" aria-label="Repair">
      {run.tasks.map((t) => {
        const done = t.succeeded + t.failed;
        return (
          <div key={t.id} className="task-progress" data-task-id={t.id} data-task-status={t.status}>
            <div
              className="progress"
              role="progressbar"
              aria-label={`Repair progress of task ${t.id.slice(0, 8)}`}
              aria-valuemin={0}
              aria-valuemax={t.total}
              aria-valuenow={done}
            >
              <span
                className={`progress-bar${t.failed ? ' has-failed' : ''}`}
                style={{ width: `${t.total ? (done / t.total) * 100 : 0}%` }}
              />
            </div>
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
          <div className="notice notice-success" role="status">
            <IconCheck />
            <div>
              <strong>
                Repaired {plural(succeeded, 'host')}: keyfleet&apos;s own lines were restored live and verified by
                login.
              </strong>
              <p>Hand-added keys were kept. The repaired hosts were checked again below.</p>
            </div>
          </div>
        ) : (
          <div className="notice notice-error" role="alert">
            <IconError />
            <div>
              <strong>
                {plural(failed, 'host')} could not be repaired{succeeded ? `, ${formatCount(succeeded)} repaired` : ''}.
              </strong>
              <p>The reasons are in the rows below and on the task page.</p>
            </div>
          </div>
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
