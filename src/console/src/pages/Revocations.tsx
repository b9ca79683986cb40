/**
 * Revoke a key everywhere (issue 19): plan (by key pair, fingerprint or a pasted public key), read the plan, apply
 * it, and follow the report until every machine is proven to refuse the key; the report downloads as CSV.
 */
import { type FormEvent, useState } from 'react';
import { type Revocation, type RevocationMachine, revocationsApi } from '../api/revocations';
import { Link, navigate } from '../app/router';
import { useScope } from '../app/scope';
import { saveTextFile } from '../lib/download';
import { formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconKey } from '../ui/Icons';
import { RefreshButton, ResourceView } from '../ui/ListParts';
import { Notice } from '../ui/Notice';
import { Pager } from '../ui/Pager';
import { EmptyState, ErrorState, InlineError, LoadingState } from '../ui/States';
import { DataTable } from '../ui/Table';

type By = 'keyPairName' | 'fingerprint' | 'publicKey';

function keyTitle(r: Revocation): string {
  return r.keyPairNames.length > 0 ? `key pair ${r.keyPairNames.join(', ')}` : `${r.key.type} key`;
}

function countsText(r: Revocation): string {
  const c = r.counts;
  if (r.status === 'planned') return `${r.machineCount} machine(s) read`;
  return `${c.refused} refused · ${c.unreachable} unreachable · ${c.pending} pending · ${c.failed} failed · ${c.skipped} skipped`;
}

export function RevocationsPage() {
  const { regionId, regionName } = useScope();
  const list = useResource(() => revocationsApi.list(regionId), [regionId], {
    keepPrevious: true,
    pollMs: (d) => (d?.revocations.some((r) => r.status === 'applying') ? 1500 : null),
  });
  const [by, setBy] = useState<By>('keyPairName');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const items = list.data?.revocations ?? [];

  async function plan(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { revocation } = await revocationsApi.plan(regionId, { [by]: value.trim() });
      navigate(`/revocations/${revocation.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Revocations</h1>
          <p className="muted">
            Take a key away from every machine in {regionName(regionId)}, with proof that each one refuses it
          </p>
        </div>
      </header>
      <form className="card form-card" onSubmit={plan} aria-label="Plan a revocation">
        <fieldset>
          <legend>Which key</legend>
          {(
            [
              ['keyPairName', 'Key pair'],
              ['fingerprint', 'Fingerprint (SHA256 or MD5)'],
              ['publicKey', 'Public key (pasted)'],
            ] as const
          ).map(([v, label]) => (
            <label key={v} className="radio">
              <input type="radio" name="by" value={v} checked={by === v} onChange={() => setBy(v)} /> {label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="revoke-key">
            {by === 'keyPairName' ? 'Key pair name' : by === 'fingerprint' ? 'Fingerprint' : 'Public key'}
          </label>
          {by === 'publicKey' ? (
            <textarea
              id="revoke-key"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              maxLength={16_384}
              rows={3}
              required
            />
          ) : (
            <input id="revoke-key" value={value} onChange={(e) => setValue(e.target.value)} maxLength={255} required />
          )}
        </div>
        {error ? <InlineError error={error} /> : null}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Reading every machine…' : 'Plan (changes nothing)'}
        </button>
      </form>
      <div className="toolbar">
        <RefreshButton list={list} label="Refresh revocations" />
      </div>
      <ResourceView
        list={list}
        errorTitle="Cannot load revocations"
        loadingLabel="Loading revocations…"
        isEmpty={items.length === 0}
        empty={
          <EmptyState title="No revocations yet" icon={<IconKey />}>
            A plan reads every registered host and simulated instance and lists where the key is.
          </EmptyState>
        }
      >
        <DataTable label="Revocations" columns={['Revocation', 'Status', 'Machines', 'Created']}>
          {items.map((r) => (
            <tr key={r.id} data-revocation-id={r.id}>
              <td data-label="Revocation">
                <Link to={`/revocations/${r.id}`} className="cell-main">
                  {keyTitle(r)}
                </Link>
                <div className="mono muted small">{r.key.fingerprintSha256}</div>
              </td>
              <td data-label="Status">{r.status}</td>
              <td data-label="Machines">{countsText(r)}</td>
              <td data-label="Created">{formatTime(r.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      </ResourceView>
    </div>
  );
}

export function RevocationDetailPage({ id }: { id: string }) {
  const { offset, limit, pager } = usePaging(100, [id]);
  const page = useResource(() => revocationsApi.machines(id, offset, limit), [id, offset, limit], {
    keepPrevious: true,
    pollMs: (d) => (d?.revocation.status === 'applying' ? 1500 : null),
  });
  const [includeUnmanaged, setIncludeUnmanaged] = useState(false);
  const [hours, setHours] = useState(24);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (page.error && !page.data)
    return <ErrorState title="Cannot load the revocation" error={page.error} onRetry={page.reload} />;
  if (!page.data) return <LoadingState label="Loading the revocation…" />;
  const r = page.data.revocation;

  async function apply(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await revocationsApi.apply(id, { includeUnmanaged, retryForSeconds: Math.round(hours * 3600) });
      page.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Revocation of {keyTitle(r)}</h1>
          <p className="muted mono">
            {r.key.fingerprintSha256} · {r.key.fingerprintMd5}
          </p>
          <p className="muted">
            {r.status} · {countsText(r)}
            {r.retryUntil && r.status !== 'planned' ? ` · retrying until ${formatTime(r.retryUntil)}` : ''}
          </p>
        </div>
        <button
          type="button"
          className="btn"
          onClick={async () => saveTextFile(`revocation-${r.id}.csv`, await revocationsApi.csv(r.id), 'text/csv')}
        >
          Download CSV
        </button>
      </header>
      {r.status === 'finished' ? (
        <Notice
          tone={r.counts.failed > 0 ? 'error' : 'success'}
          title={r.counts.failed > 0 ? 'Finished, not everywhere' : 'Refused everywhere'}
        >
          <p>{countsText(r)}</p>
        </Notice>
      ) : null}
      {r.status === 'planned' ? (
        <form className="card form-card" onSubmit={apply} aria-label="Apply the revocation">
          <p>
            Applying unbinds the key where keyfleet bound it, then asks every machine whether it still accepts the key.
          </p>
          <label className="checkbox">
            <input type="checkbox" checked={includeUnmanaged} onChange={(e) => setIncludeUnmanaged(e.target.checked)} />{' '}
            Also remove copies outside keyfleet's block (hand-added lines); every other line is kept
          </label>
          <label className="field">
            <span>Retry unreachable machines for (hours)</span>
            <input
              type="number"
              min={0.01}
              max={720}
              step="any"
              value={hours}
              onChange={(e) => setHours(Number(e.target.value))}
            />
          </label>
          {error ? <InlineError error={error} /> : null}
          <button type="submit" className="btn btn-danger" disabled={busy}>
            {busy ? 'Applying…' : 'Apply the revocation'}
          </button>
        </form>
      ) : null}
      <div className="toolbar">
        <RefreshButton list={page} label="Refresh the report" />
      </div>
      <DataTable label="Machines" columns={['Machine', 'Bound', 'Copies', 'Outcome']}>
        {page.data.machines.map((m) => (
          <tr key={m.instanceId} data-instance-id={m.instanceId} data-state={m.state}>
            <td data-label="Machine">
              <span className="cell-main">{m.name}</span>
              <div className="mono muted small">
                {m.instanceId} · {m.address}:{m.sshPort}
              </div>
            </td>
            <td data-label="Bound">{m.boundKeyPairName ?? '–'}</td>
            <td data-label="Copies">{copiesText(m)}</td>
            <td data-label="Outcome">{m.outcome}</td>
          </tr>
        ))}
      </DataTable>
      <Pager {...pager} total={page.data.total} label="machines" />
    </div>
  );
}

function copiesText(m: RevocationMachine): string {
  if (m.scanError) return `not read: ${m.scanError}`;
  if (m.copies.length === 0) return '–';
  return m.copies.map((c) => `${c.user} line ${c.line}${c.inBlock ? " (keyfleet's block)" : ''}`).join(', ');
}
