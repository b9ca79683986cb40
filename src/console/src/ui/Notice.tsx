/** An outcome banner: a tone (icon and colour), a bold headline and optional detail below it. */
import type { ReactNode } from 'react';
import { IconCheck, IconError, IconWarning } from './Icons';

const ICONS = { success: IconCheck, warning: IconWarning, error: IconError } as const;

export function Notice({
  tone,
  title,
  children,
  role = tone === 'error' ? 'alert' : 'status',
}: {
  tone: keyof typeof ICONS;
  title: ReactNode;
  children?: ReactNode;
  role?: 'alert' | 'status' | 'note';
}) {
  const Icon = ICONS[tone];
  return (
    <div className={`notice notice-${tone}`} role={role}>
      <Icon />
      <div>
        <strong>{title}</strong>
        {children}
      </div>
    </div>
  );
}

/** The progress bar of a running task (or batch): done of total, red-tinted once something failed. */
export function ProgressBar({
  label,
  total,
  done,
  failed,
}: {
  label: string;
  total: number;
  done: number;
  failed: number;
}) {
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
    >
      <span
        className={`progress-bar${failed ? ' has-failed' : ''}`}
        style={{ width: `${total ? (done / total) * 100 : 0}%` }}
      />
    </div>
  );
}
