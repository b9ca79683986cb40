/**
 * The skeleton of a page that lists one kind of thing (users, groups, policies, accounts): a header with the title,
 * the count, Refresh and Create, the tabs, then the error, loading or empty state, or else the table.
 */
import type { ReactNode } from 'react';
import type { Resource } from '../lib/hooks';
import { plural } from '../lib/format';
import { IconPlus, IconRefresh } from './Icons';
import { EmptyState, ErrorState, LoadingState } from './States';

export interface ListPageProps {
  /** "Users": the heading and the table's subject ("Refresh users", "Cannot load users", "No users"). */
  title: string;
  /** What the count counts: "user", or ["policy", "policies"] for an irregular plural. */
  noun: string | [string, string];
  /** Shown before the count: "acme · 3 users". */
  context: ReactNode;
  list: Resource<readonly unknown[]>;
  /** The tabs under the header. */
  tabs: ReactNode;
  /** "Create User", on the header's button and the empty state's. */
  createLabel: string;
  onCreate: () => void;
  emptyIcon?: ReactNode;
  emptyText: ReactNode;
  /** The table, shown when the list has items. */
  children: ReactNode;
  /** The page's dialogs, after the list. */
  dialogs?: ReactNode;
}

export function ListPage({
  title,
  noun,
  context,
  list,
  tabs,
  createLabel,
  onCreate,
  emptyIcon,
  emptyText,
  children,
  dialogs,
}: ListPageProps) {
  const subject = title.toLowerCase();
  const [one, many] = typeof noun === 'string' ? [noun, undefined] : noun;
  const createButton = (
    <button type="button" className="button button-primary" onClick={onCreate}>
      <IconPlus /> {createLabel}
    </button>
  );
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{title}</h1>
          <p className="muted">
            {context} · {list.data ? plural(list.data.length, one, many) : 'loading…'}
          </p>
        </div>
        <div className="page-actions">
          <button type="button" className="button" onClick={list.reload} aria-label={`Refresh ${subject}`}>
            <IconRefresh className={list.fetching ? 'spin' : undefined} /> <span className="hide-narrow">Refresh</span>
          </button>
          {createButton}
        </div>
      </header>
      {tabs}
      {list.error && !list.data ? (
        <ErrorState title={`Cannot load ${subject}`} error={list.error} onRetry={list.reload} />
      ) : list.loading ? (
        <LoadingState label={`Loading ${subject}…`} />
      ) : (list.data ?? []).length === 0 ? (
        <EmptyState title={`No ${subject}`} icon={emptyIcon} action={createButton}>
          {emptyText}
        </EmptyState>
      ) : (
        <div className="table-wrap">{children}</div>
      )}
      {dialogs}
    </div>
  );
}
