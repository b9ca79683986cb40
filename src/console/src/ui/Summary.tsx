/** The facts list of a result or detail view (`<dl className="summary">`), and the result step's Done dialog. */
import type { ReactNode } from 'react';
import { Dialog } from './Dialog';

/** One fact: its name and its value. */
export function Fact({
  term,
  children,
  className,
  testId,
}: {
  term: ReactNode;
  children: ReactNode;
  /** Of the value, e.g. "mono break". */
  className?: string;
  testId?: string;
}) {
  return (
    <div>
      <dt>{term}</dt>
      <dd className={className} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/** The last step of a dialog: what was done, with a single Done button. */
export function DoneDialog({
  title,
  onClose,
  testId,
  children,
}: {
  title: string;
  onClose: () => void;
  testId: string;
  children: ReactNode;
}) {
  return (
    <Dialog
      title={title}
      onClose={onClose}
      step="result"
      testId={testId}
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      }
    >
      {children}
    </Dialog>
  );
}
