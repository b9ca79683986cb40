/**
 * What the identity pages share: the tabs, the refusal shown to non-administrators, the detail page frame (breadcrumb,
 * heading, tabs, and the not-found / error / loading states of the thing shown) and sections that show one resource.
 */
import type { ReactNode } from 'react';
import { Link, navigate, useLocation } from '../../app/router';
import { useIsSystemAdmin } from '../../app/system';
import type { Resource } from '../../lib/hooks';
import { EmptyState, ErrorState, LoadingState } from '../../ui/States';

export function NotAdmin() {
  return (
    <div className="page">
      <h1>Identity</h1>
      <ErrorState
        title="Only account administrators manage identity"
        error={new Error('Ask an administrator of this account to manage users, access keys and policies.')}
      />
    </div>
  );
}

export function Tabs() {
  const isSystemAdmin = useIsSystemAdmin();
  return (
    <nav className="identity-tabs" aria-label="Identity">
      <IdTab to="/identity/users">Users</IdTab>
      <IdTab to="/identity/groups">Groups</IdTab>
      <IdTab to="/identity/policies">Policies</IdTab>
      {isSystemAdmin ? <IdTab to="/identity/accounts">Accounts</IdTab> : null}
    </nav>
  );
}

function IdTab({ to, children }: { to: string; children: string }) {
  const { path } = useLocation();
  const active = path === to || path.startsWith(`${to}/`);
  return (
    <Link to={to} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function StatusPill({ on, yes, no }: { on: boolean; yes: string; no: string }) {
  return (
    <span className={`pill pill-${on ? 'green' : 'grey'}`}>
      <span className="dot" aria-hidden />
      {on ? yes : no}
    </span>
  );
}

/** A "—" for an empty description. */
export function Description({ text }: { text: string | undefined }) {
  return <>{text || <span className="muted">—</span>}</>;
}

export function identityPath(kind: 'users' | 'groups', name: string): string {
  return `/identity/${kind}/${encodeURIComponent(name)}`;
}

/** One user or group: its header, then its sections once it is loaded. */
export function DetailPage({
  kind,
  name,
  subtitle,
  actions,
  resource,
  missing,
  icon,
  children,
  dialogs,
}: {
  kind: 'user' | 'group';
  name: string;
  subtitle: ReactNode;
  actions?: ReactNode;
  resource: Resource<unknown>;
  /** The thing is known not to exist (deleted, or never was). */
  missing: boolean;
  icon: ReactNode;
  /** The sections, rendered only once the thing is loaded. */
  children: () => ReactNode;
  dialogs: ReactNode;
}) {
  const listLabel = kind === 'user' ? 'Users' : 'Groups';
  const listPath = `/identity/${kind}s`;
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className="muted small">
            <Link to={listPath}>{listLabel}</Link> ›
          </p>
          <h1>{name}</h1>
          {subtitle ? <p className="muted">{subtitle}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      <Tabs />
      {missing ? (
        <EmptyState
          title={`No ${kind} named ${name}`}
          icon={icon}
          action={
            <button type="button" className="button" onClick={() => navigate(listPath)}>
              Back to {listLabel}
            </button>
          }
        >
          It may have been deleted.
        </EmptyState>
      ) : resource.error && !resource.data ? (
        <ErrorState title={`Cannot load the ${kind}`} error={resource.error} onRetry={resource.reload} />
      ) : resource.loading || !resource.data ? (
        <LoadingState label={`Loading the ${kind}…`} />
      ) : (
        children()
      )}
      {dialogs}
    </div>
  );
}

/** A titled section of a detail page, with an optional action in its head. */
export function Section({
  id,
  title,
  action,
  children,
}: {
  id: string;
  title: string;
  action?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby={id}>
      <div className="section-head">
        <h2 id={id}>{title}</h2>
        {action}
      </div>
      {children}
    </section>
  );
}

/** The error, loading or empty state of a list a section shows, or else its table. */
export function SectionList<T>({
  resource,
  what,
  empty,
  children,
}: {
  resource: Resource<readonly T[]>;
  /** "access keys": "Cannot load access keys", "Loading access keys…". */
  what: string;
  empty: ReactNode;
  children: (items: readonly T[]) => ReactNode;
}) {
  if (resource.error && !resource.data)
    return <ErrorState title={`Cannot load ${what}`} error={resource.error} onRetry={resource.reload} />;
  if (resource.loading) return <LoadingState label={`Loading ${what}…`} />;
  const items = resource.data ?? [];
  return <>{items.length === 0 ? empty : children(items)}</>;
}

/** A table in its scrolling frame: the head's column names, then the rows. */
export function NamedTable({ label, columns, children }: { label: string; columns: ReactNode; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>{columns}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
