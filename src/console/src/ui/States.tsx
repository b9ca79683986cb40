/** Loading, empty and error states shared by every page. */
import type { ReactNode } from 'react';
import { ApiError, errorText } from '../api/client';
import { IconError, IconRefresh } from './Icons';

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label ?? 'Loading'} />;
}

export function LoadingState({ label }: { label: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({
  title,
  children,
  action,
  icon,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
}) {
  return (
    <div className="state state-empty">
      {icon ? <div className="state-icon">{icon}</div> : null}
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

export function ErrorState({ title, error, onRetry }: { title: string; error: unknown; onRetry?: () => void }) {
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="state state-error" role="alert">
      <div className="state-icon">
        <IconError />
      </div>
      <h3>{title}</h3>
      <p>{errorText(error)}</p>
      {e?.requestId ? (
        <p className="muted small">
          Request ID <code>{e.requestId}</code>
        </p>
      ) : null}
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          <IconRefresh /> Try again
        </button>
      ) : null}
    </div>
  );
}

/** An error inside a form or dialog. */
export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="alert alert-error" role="alert">
      <IconError />
      <div>
        <div>{errorText(error)}</div>
        {e?.requestId ? <div className="muted small">Request ID {e.requestId}</div> : null}
      </div>
    </div>
  );
}
