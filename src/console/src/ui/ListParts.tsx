/** Pieces the paged list pages (instances, key pairs, tasks, task results, audit) build their toolbar and body from. */
import type { ReactNode } from 'react';
import type { Resource } from '../lib/hooks';
import { IconRefresh, IconSearch } from './Icons';
import { EmptyState, ErrorState, LoadingState } from './States';

/** The toolbar's Refresh button; its icon spins while any request of the list is in flight. */
export function RefreshButton({
  list,
  label,
  disabled,
}: {
  list: Resource<unknown>;
  label: string;
  disabled?: boolean;
}) {
  return (
    <button type="button" className="button toolbar-end" onClick={list.reload} aria-label={label} disabled={disabled}>
      <IconRefresh className={list.fetching ? 'spin' : undefined} /> <span className="hide-narrow">Refresh</span>
    </button>
  );
}

/** The error state (only while nothing was loaded yet), else the loading state, else the empty state or the list. */
export function ResourceView({
  list,
  errorTitle,
  loadingLabel,
  isEmpty,
  empty,
  children,
}: {
  list: Resource<unknown>;
  errorTitle: string;
  loadingLabel: string;
  isEmpty: boolean;
  empty: ReactNode;
  children: ReactNode;
}) {
  if (list.error && !list.data) return <ErrorState title={errorTitle} error={list.error} onRetry={list.reload} />;
  if (list.loading) return <LoadingState label={loadingLabel} />;
  return <>{isEmpty ? empty : children}</>;
}

/** A row of toggle buttons that filters a list by one value ('' for all). */
export function SegmentedFilter<V extends string>({
  label,
  options,
  value,
  onChange,
  count,
}: {
  label: string;
  options: readonly { value: V; label: string }[];
  value: V;
  onChange: (value: V) => void;
  /** Text after an option's label, e.g. a count. */
  count?: (value: V) => string;
}) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map((f) => (
        <button
          key={f.value}
          type="button"
          className={value === f.value ? 'active' : ''}
          aria-pressed={value === f.value}
          onClick={() => onChange(f.value)}
        >
          {f.label}
          {count?.(f.value)}
        </button>
      ))}
    </div>
  );
}

/** The empty state of a search or filter that matched nothing, with a button that clears it. */
export function NoMatch({
  title,
  clearLabel,
  onClear,
  children,
}: {
  title: string;
  clearLabel: string;
  onClear: () => void;
  children: ReactNode;
}) {
  return (
    <EmptyState
      title={title}
      icon={<IconSearch />}
      action={
        <button type="button" className="button" onClick={onClear}>
          {clearLabel}
        </button>
      }
    >
      {children}
    </EmptyState>
  );
}
