/**
 * The shell every form dialog repeats: a dialog whose body is one form (fields, then the call's error) with Cancel and
 * submit in the footer, the state behind it (problems shown after the first submit, busy while the call runs, the
 * call's error), and the optional description field of the create dialogs for named things.
 */
import { type FormEvent, type ReactNode, useState } from 'react';
import { Dialog, type DialogProps } from './Dialog';
import { FormFooter } from './Field';
import { InlineError } from './States';

export interface FormAction {
  /** Whether to show validation problems yet (after the first submit). */
  show: boolean;
  busy: boolean;
  error: unknown;
  /** Runs the call: busy meanwhile, then closes the dialog, or shows the error and lets the user try again. */
  run(action: () => Promise<void>): Promise<void>;
  /** The form's submit handler: shows the problems, and runs the call when there are none. */
  submit(problem: unknown, action: () => Promise<void>): (e: FormEvent) => void;
}

export function useFormAction(onClose: () => void): FormAction {
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const submit = (problem: unknown, action: () => Promise<void>) => (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (!problem) void run(action);
  };
  return { show, busy, error, run, submit };
}

export type FormDialogProps = Pick<
  DialogProps,
  'title' | 'onClose' | 'children' | 'size' | 'description' | 'testId'
> & {
  /** From useId(): the form is `${id}-f`. */
  id: string;
  form: FormAction;
  onSubmit: (e: FormEvent) => void;
} & ({ submitLabel: string; busyLabel?: string } | { /** Instead of Cancel and submit. */ footer: ReactNode });

export function FormDialog(p: FormDialogProps) {
  const { id, form, onSubmit, children, title, onClose, size, description, testId } = p;
  const footer =
    'footer' in p ? (
      p.footer
    ) : (
      <FormFooter
        formId={`${id}-f`}
        busy={form.busy}
        onCancel={onClose}
        submitLabel={p.submitLabel}
        busyLabel={p.busyLabel ?? 'Creating…'}
      />
    );
  return (
    <Dialog
      title={title}
      onClose={onClose}
      busy={form.busy}
      size={size}
      description={description}
      testId={testId}
      footer={footer}
    >
      <form id={`${id}-f`} onSubmit={onSubmit} noValidate>
        {children}
        <InlineError error={form.error} />
      </form>
    </Dialog>
  );
}

export function DescriptionField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>
        Description <span className="muted">(optional)</span>
      </label>
      <input id={id} value={value} maxLength={1024} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
