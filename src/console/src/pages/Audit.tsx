/**
 * The audit trail: who did what, when, through which face, and how it ended. Filters run on the server. A task's
 * outcome has entries of its own (stage outcome: which instances failed and why), linked to its request by task id.
 */
import { type FormEvent, useMemo, useState } from 'react';
import { api, errorText } from '../api/client';
import type { AuditQuery, AuditResult } from '../api/types';
import { Link } from '../app/router';
import { saveTextFile } from '../lib/download';
import { formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconAudit, IconDownload, IconRefresh } from '../ui/Icons';
import { ResourceView } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { EmptyState } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { DataTable } from '../ui/Table';

const RANGES = [
  { value: '1h', label: 'Last hour', ms: 3600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { value: 'all', label: 'All time', ms: 0 },
  { value: 'custom', label: 'Custom…', ms: 0 },
] as const;
type Range = (typeof RANGES)[number]['value'];

interface Filters {
  range: Range;
  from: string;
  to: string;
  userName: string;
  action: string;
  resource: string;
  result: AuditResult | '';
  stage: NonNullable<AuditQuery['stage']> | '';
  taskId: string;
}

const EMPTY: Filters = {
  range: '7d',
  from: '',
  to: '',
  userName: '',
  action: '',
  resource: '',
  result: '',
  stage: '',
  taskId: '',
};

function toQuery(f: Filters): AuditQuery {
  const q: AuditQuery = {};
  const r = RANGES.find((x) => x.value === f.range);
  if (r && r.ms > 0) q.from = new Date(Date.now() - r.ms).toISOString();
  if (f.range === 'custom') {
    if (f.from) q.from = new Date(f.from).toISOString();
    if (f.to) q.to = new Date(f.to).toISOString();
  }
  if (f.userName.trim()) q.userName = f.userName.trim();
  if (f.action.trim()) q.action = f.action.trim();
  if (f.resource.trim()) q.resource = f.resource.trim();
  if (f.result) q.result = f.result;
  if (f.stage) q.stage = f.stage;
  if (f.taskId.trim()) q.taskId = f.taskId.trim();
  return q;
}

export function AuditPage() {
  const toasts = useToasts();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const { offset, limit, setOffset, pager } = usePaging(50, []);
  const [tick, setTick] = useState(0);
  const [exporting, setExporting] = useState(false);
  // The time window is computed when filters are applied or refreshed, not on every render.
  // The time window is recomputed on a refresh (tick) of the same filters.
  const query = useMemo(() => toQuery(applied), [applied, tick]);
  const list = useResource(() => api.audit({ ...query, offset, limit }), [query, offset, limit], {
    keepPrevious: true,
  });

  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setApplied(draft);
    setOffset(0);
    setTick((t) => t + 1);
  };
  const reset = () => {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setOffset(0);
  };
  const exportLines = async () => {
    setExporting(true);
    try {
      const text = await api.auditExport(query);
      saveTextFile(
        `keyfleet-audit-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.jsonl`,
        text,
        'application/x-ndjson',
      );
    } catch (err) {
      toasts.push({ kind: 'error', title: 'Export failed', body: errorText(err) });
    } finally {
      setExporting(false);
    }
  };

  const entries = list.data?.items ?? [];
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Audit</h1>
          <p className="muted">
            Every change and every refused call in this account, on every face (console, CLI, native API, ECS and KPS
            APIs). Account-wide: not scoped by region.
          </p>
        </div>
        <div className="page-actions">
          <button
            type="button"
            className="button"
            onClick={() => void exportLines()}
            disabled={exporting || !!list.error}
          >
            <IconDownload /> {exporting ? 'Exporting…' : 'Export JSON lines'}
          </button>
        </div>
      </header>

      <form className="filters" onSubmit={apply} aria-label="Audit filters">
        <label className="inline-field">
          <span>Time</span>
          <select value={draft.range} onChange={(e) => set({ range: e.target.value as Range })}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {draft.range === 'custom' ? (
          <>
            <label className="inline-field">
              <span>From</span>
              <input type="datetime-local" value={draft.from} onChange={(e) => set({ from: e.target.value })} />
            </label>
            <label className="inline-field">
              <span>To</span>
              <input type="datetime-local" value={draft.to} onChange={(e) => set({ to: e.target.value })} />
            </label>
          </>
        ) : null}
        <label className="inline-field">
          <span>User</span>
          <input
            value={draft.userName}
            onChange={(e) => set({ userName: e.target.value })}
            placeholder="any"
            size={10}
          />
        </label>
        <label className="inline-field">
          <span>Action</span>
          <input
            value={draft.action}
            onChange={(e) => set({ action: e.target.value })}
            placeholder="e.g. keypair:Bind"
            size={14}
          />
        </label>
        <label className="inline-field">
          <span>Resource</span>
          <input
            value={draft.resource}
            onChange={(e) => set({ resource: e.target.value })}
            placeholder="e.g. instance/i-…"
            size={16}
          />
        </label>
        <label className="inline-field">
          <span>Result</span>
          <select value={draft.result} onChange={(e) => set({ result: e.target.value as AuditResult | '' })}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </label>
        <label className="inline-field">
          <span>Stage</span>
          <select
            value={draft.stage}
            onChange={(e) => set({ stage: e.target.value as Filters['stage'] })}
            title="Request: what a call asked. Outcome: what the task it submitted came to."
          >
            <option value="">Any</option>
            <option value="request">Request</option>
            <option value="outcome">Task outcome</option>
          </select>
        </label>
        <label className="inline-field">
          <span>Task</span>
          <input value={draft.taskId} onChange={(e) => set({ taskId: e.target.value })} placeholder="t-…" size={12} />
        </label>
        <div className="button-row">
          <button type="submit" className="button button-primary">
            Apply
          </button>
          <button type="button" className="button" onClick={reset}>
            Reset
          </button>
          <button
            type="button"
            className="button"
            onClick={() => setTick((t) => t + 1)}
            aria-label="Refresh audit entries"
          >
            <IconRefresh className={list.fetching ? 'spin' : undefined} />
          </button>
        </div>
      </form>

      <ResourceView
        list={list}
        errorTitle="Cannot load the audit trail"
        loadingLabel="Loading audit entries…"
        isEmpty={entries.length === 0}
        empty={
          <EmptyState title="No audit entries" icon={<IconAudit />}>
            Nothing was recorded for these filters. Widen the time range or clear a filter.
          </EmptyState>
        }
      >
        <DataTable
          label="Audit entries"
          columns={['Time', 'User', 'Through', 'Action', 'Resources', 'Result', 'Source']}
        >
          {entries.map((e) => (
            <tr key={e.id} data-audit-id={e.id}>
              <td data-label="Time" className="nowrap">
                {formatTime(e.at)}
              </td>
              <td data-label="User">
                <div className="cell-main">{e.userName}</div>
                {e.accessKeyId ? <div className="mono muted small">{e.accessKeyId}</div> : null}
              </td>
              <td data-label="Through">
                <span className="face">{e.face}</span>
              </td>
              <td data-label="Action">
                <div className="mono">{e.action}</div>
                {e.stage === 'outcome' ? <div className="muted small">task outcome</div> : null}
                {e.taskId ? (
                  <Link to={`/tasks/${e.taskId}`} className="mono small">
                    {e.taskId}
                  </Link>
                ) : null}
              </td>
              <td data-label="Resources">
                {e.resources.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <ul className="resource-list">
                    {e.resources.slice(0, 3).map((r) => (
                      <li key={r} className="mono small id" title={r}>
                        {shortResource(r)}
                      </li>
                    ))}
                    {e.resources.length > 3 ? <li className="muted small">+{e.resources.length - 3} more</li> : null}
                  </ul>
                )}
              </td>
              <td data-label="Result">
                <span
                  className={`pill pill-${e.result === 'success' ? 'green' : e.result === 'denied' ? 'orange' : 'red'}`}
                >
                  <span className="dot" aria-hidden />
                  {e.result === 'success' ? 'Success' : e.result === 'denied' ? 'Denied' : 'Failure'}
                </span>
                {e.errorCode ? <div className="mono small error-text">{e.errorCode}</div> : null}
                {e.detail ? <div className="small break">{e.detail}</div> : null}
              </td>
              <td data-label="Source">
                <div className="mono small">{e.sourceIp}</div>
                <div className="mono muted small break" title="Request ID">
                  {e.requestId}
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={list.data?.total ?? 0} label="audit entries" sizes={[50, 100, 200]} />
      </ResourceView>
    </div>
  );
}

/** 'acs:ecs:cn-hangzhou:123:instance/i-abc' → 'instance/i-abc' (the full name is the title). */
function shortResource(r: string): string {
  const m = /^acs:[^:]*:[^:]*:[^:]*:(.+)$/.exec(r);
  return m ? m[1]! : r;
}
