/**
 * Drift of registered hosts and simulated instances (the Instances page's "Check drift", for every machine of the
 * region or one host from its Actions menu). keyfleet logs in to each host with its sealed management key (host key
 * pinned) and reads a simulated instance from its disk; it compares authorized_keys and its sshd drop-in with what
 * it wrote; nothing is written. A row per machine: its status, the findings (a key inside keyfleet's block that
 * keyfleet did not put there is one, with its fingerprint), and every key keyfleet did not write, with the
 * fingerprint ssh-keygen prints, the key pair it belongs to when known and keyfleet's own management key labelled.
 * Drifted machines can be repaired: the server scans them again and submits one live task per key pair, which
 * rewrites keyfleet's block whole (removing keys planted inside it) and its drop-in, keeps the lines outside the
 * block and proves the result by login. Simulated instances have no management key: repairing one first asks for
 * a credential (RepairCredential.tsx). The dialog follows the tasks like any live change, links them, then checks
 * the repaired machines again.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { DriftResult, DriftStatus, Instance, LiveCredential, Task } from '../api/types';
import { useScope } from '../app/scope';
import { formatCount, plural } from '../lib/format';
import { useMounted } from '../lib/hooks';
import { followTask } from '../lib/tasks';
import { Dialog } from '../ui/Dialog';
import { IconRefresh } from '../ui/Icons';
import { InlineError, LoadingState } from '../ui/States';
import { DRIFT_LABEL, DriftRow } from './drift/DriftRow';
import {
  emptyRepairCredential,
  RepairCredential,
  type RepairCredentialValue,
  repairCredential,
  repairCredentialProblem,
} from './drift/RepairCredential';
import { RepairProgress, type RepairRun } from './drift/RepairProgress';
import { DataTable } from '../ui/Table';

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
  /** A repair naming drifted simulated instances waits here for the credential to log in to them with. */
  const [asking, setAsking] = useState<string[] | null>(null);
  const [credential, setCredential] = useState<RepairCredentialValue>(emptyRepairCredential('privateKey'));
  const [showCredentialErrors, setShowCredentialErrors] = useState(false);
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

  const simsIn = (instanceIds: string[]) =>
    (results ?? []).filter((r) => r.backend === 'sim' && r.status === 'drifted' && instanceIds.includes(r.instanceId));

  /** Repairs at once, or first asks for a credential when drifted simulated instances are among those named. */
  const requestRepair = (instanceIds: string[]) => {
    if (instanceIds.length === 0) return;
    const sims = simsIn(instanceIds);
    if (sims.length === 0) return void runRepair(instanceIds);
    setAsking(instanceIds);
    setShowCredentialErrors(false);
    setCredential(emptyRepairCredential(sims.every((r) => r.keyPairName === null) ? 'password' : 'privateKey'));
  };

  const repairWithCredential = () => {
    if (!asking) return;
    if (repairCredentialProblem(credential)) return setShowCredentialErrors(true);
    const sent = repairCredential(credential);
    // Sent once with this request; forget it now.
    setCredential(emptyRepairCredential(credential.kind));
    setAsking(null);
    void runRepair(asking, sent);
  };

  const runRepair = async (instanceIds: string[], sent?: LiveCredential) => {
    if (instanceIds.length === 0) return;
    setRepairing(true);
    setRepairError(null);
    setNote(null);
    setRepair(null);
    try {
      const r = await api.driftRepair(regionId, instanceIds, sent);
      if (!mounted()) return;
      merge(r.results);
      if (r.tasks.length === 0) {
        setNote('Nothing needed repair: a fresh check found no drifted machine among those chosen.');
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
      // Check the repaired machines again, so the rows say what they have now.
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
  const busy = scanning || repairing || asking !== null;
  const scope =
    hosts === 'all'
      ? `every registered host and simulated instance in ${regionName(regionId)}`
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
          Reads {scope} (a registered host over SSH with keyfleet&apos;s management key, a simulated instance from its
          disk) and compares authorized_keys and the sshd drop-in with what keyfleet wrote. A check writes nothing.
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
              onClick={() => requestRepair(drifted)}
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
      {asking ? (
        <RepairCredential
          instances={simsIn(asking).map((r) => ({ name: r.name, keyPairName: r.keyPairName }))}
          value={credential}
          onChange={setCredential}
          showErrors={showCredentialErrors}
          busy={repairing}
          onSubmit={repairWithCredential}
          onCancel={() => {
            setAsking(null);
            setCredential(emptyRepairCredential('privateKey'));
          }}
        />
      ) : null}
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
          <LoadingState label="Reading the machines…" />
        )
      ) : (
        <>
          <InlineError error={scanError} />
          {list.length === 0 ? (
            <p className="muted" role="status">
              There are no registered hosts or simulated instances in {regionName(regionId)} to check. Register a host
              with <strong>Register host</strong>.
            </p>
          ) : (
            <>
              <p className="drift-summary" role="status" aria-live="polite" data-testid="drift-summary">
                <span>
                  {plural(list.length, 'machine')} checked{scanning ? ' · checking again…' : ''}:
                </span>
                {(['in-sync', 'drifted', 'unreachable', 'error', 'skipped'] as DriftStatus[])
                  .filter((s) => count(s) > 0)
                  .map((s) => (
                    <span key={s}>
                      {formatCount(count(s))} {DRIFT_LABEL[s][0].toLowerCase()}
                    </span>
                  ))}
              </p>
              <DataTable
                label="Drift per host"
                columns={['Host', 'Status', 'Findings and keys keyfleet did not write']}
                className="table table-compact drift-table"
                actions={{ label: 'Repair', hidden: true }}
              >
                {list.map((r) => (
                  <DriftRow
                    key={r.instanceId}
                    result={r}
                    failed={failedItem.get(r.instanceId)}
                    busy={busy}
                    onRepair={() => requestRepair([r.instanceId])}
                  />
                ))}
              </DataTable>
            </>
          )}
        </>
      )}
    </Dialog>
  );
}
