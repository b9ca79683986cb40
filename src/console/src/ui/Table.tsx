/** The frame every data table shares: a scrolling wrapper, a labelled table and a row of column headers. */
import type { ReactNode } from 'react';
import type { TaskItem } from '../api/types';
import { ItemStatusPill } from './Pills';

export function DataTable({
  label,
  columns,
  children,
  className = 'table',
  wrapClassName = 'table-wrap',
  busy,
  actions,
}: {
  label: string;
  columns: readonly string[];
  children: ReactNode;
  className?: string;
  wrapClassName?: string;
  busy?: boolean;
  /** A last, right-aligned column for row buttons; `hidden` keeps its header for screen readers only. */
  actions?: { label: string; hidden?: boolean };
}) {
  return (
    <div className={wrapClassName} aria-busy={busy}>
      <table className={className} aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            {actions ? (
              <th scope="col" className="col-actions">
                {actions.hidden ? <span className="visually-hidden">{actions.label}</span> : actions.label}
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The Result and Details cells of one task item: its status, and why it failed or what it noted. */
export function ItemResultCells({ item, noNote }: { item: TaskItem; noNote: ReactNode }) {
  return (
    <>
      <td data-label="Result">
        <ItemStatusPill status={item.status} />
      </td>
      <td data-label="Details">
        {item.status === 'failed' ? (
          <FailureText message={item.errorMessage} code={item.errorCode} />
        ) : (
          (item.note ?? noNote)
        )}
      </td>
    </>
  );
}

/** Why one item of a task failed: its message, then its stable code. */
function FailureText({ message, code }: { message: string | null | undefined; code: string | null | undefined }) {
  return (
    <span className="error-text">
      {message} <span className="mono small">({code})</span>
    </span>
  );
}
