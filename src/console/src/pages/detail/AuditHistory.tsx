/**
 * The history of one resource on a detail page, read from the audit trail (GET /audit?resource=…): every change
 * asked for (who, when, through which face, accepted or refused) and, for key pair changes run as tasks, what each
 * came to on the machine (stage "outcome", one entry per failed instance). Reads are not audited, so opening the
 * page adds nothing here. Reading the trail needs audit:Describe; without it the section says so.
 */
import { api, ApiError, errorText } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { Link } from '../../app/router';
import { formatTime } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { usePaging } from '../../lib/usePaging';
import { Pager } from '../../ui/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../ui/States';
import { DataTable } from '../../ui/Table';

const FACE_LABEL: Record<string, string> = {
  console: 'Console',
  cli: 'CLI',
  native: 'Native API',
  ecs: 'ECS API',
  kps: 'KPS API',
  system: 'keyfleet (automatic)',
};

/** 'keypair:Bind' → 'Bind'; outcome entries say what the task came to. */
function what(e: AuditEntry): string {
  const verb = e.action.replace(/^[a-z]+:/, '').replace(/([a-z])([A-Z])/g, '$1 $2');
  return e.stage === 'outcome' ? `${verb}: result on the machine` : verb;
}

export function AuditHistory({ resource, label }: { resource: string; label: string }) {
  const { offset, limit, pager } = usePaging(20, [resource]);
  const list = useResource(() => api.audit({ resource, offset, limit }), [resource, offset, limit], {
    keepPrevious: true,
  });
  if (list.error && !list.data) {
    if (list.error instanceof ApiError && list.error.status === 403)
      return (
        <p className="muted" data-testid="history-forbidden">
          Your permissions do not include reading the audit trail (audit:Describe), where this history is kept.
        </p>
      );
    return <ErrorState title="Cannot load the history" error={list.error} onRetry={list.reload} />;
  }
  if (!list.data) return <LoadingState label="Loading history…" />;
  if (list.data.items.length === 0)
    return <EmptyState title="No changes recorded yet">Nothing has been asked of this {label} yet.</EmptyState>;
  return (
    <>
      {list.error ? <p className="alert alert-warning">Showing the last answer: {errorText(list.error)}</p> : null}
      <DataTable label={`History of this ${label}`} columns={['When', 'What', 'Who', 'Through', 'Result', 'Task']}>
        {list.data.items.map((e) => (
          <tr key={e.id} data-audit-id={e.id} data-stage={e.stage} data-result={e.result}>
            <td data-label="When" className="nowrap">
              {formatTime(e.at)}
            </td>
            <td data-label="What">
              <div>{what(e)}</div>
              {e.detail ? <div className="muted small">{e.detail}</div> : null}
            </td>
            <td data-label="Who">{e.userName || '—'}</td>
            <td data-label="Through">{FACE_LABEL[e.face] ?? e.face}</td>
            <td data-label="Result">
              <span
                className={`pill pill-${e.result === 'success' ? 'green' : e.result === 'denied' ? 'orange' : 'red'}`}
              >
                <span className="dot" aria-hidden />
                {e.result === 'success' ? 'Success' : e.result === 'denied' ? 'Denied' : 'Failed'}
              </span>
              {e.errorCode ? <div className="mono small error-text">{e.errorCode}</div> : null}
            </td>
            <td data-label="Task">
              {e.taskId ? (
                <Link to={`/tasks/${encodeURIComponent(e.taskId)}`} className="mono small">
                  {e.taskId}
                </Link>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <Pager {...pager} total={list.data.total} label="entries" />
    </>
  );
}
