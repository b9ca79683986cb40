/** A host's row in the drift table: its status, the findings, and the keys keyfleet did not write. */
import type { DriftKey, DriftResult, DriftStatus, TaskItem } from '../../api/types';
import { plural } from '../../lib/format';

export const DRIFT_LABEL: Record<DriftStatus, [string, string]> = {
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

export function DriftRow({
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
