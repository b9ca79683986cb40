/**
 * A labelled text input whose hint turns into the validation message once the form has been submitted, and the
 * Cancel/submit footer of a form dialog: the two shapes every create dialog repeats.
 */
import type { ReactNode } from 'react';

export interface TextFieldProps {
  id: string;
  label: ReactNode;
  value: string;
  onChange(value: string): void;
  /** The validation message, or null when the value is fine. */
  problem: string | null | undefined;
  /** Whether to show problems yet (after the first submit). */
  show: boolean;
  hint: string;
  type?: 'text' | 'password';
  autoComplete?: string;
  placeholder?: string;
}

export function TextField(p: TextFieldProps) {
  const invalid = p.show && Boolean(p.problem);
  return (
    <div className="field">
      <label htmlFor={p.id}>{p.label}</label>
      <input
        id={p.id}
        type={p.type ?? 'text'}
        value={p.value}
        onChange={(e) => p.onChange(e.target.value)}
        autoComplete={p.autoComplete ?? 'off'}
        placeholder={p.placeholder}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={`${p.id}-hint`}
      />
      <p id={`${p.id}-hint`} className={invalid ? 'field-error' : 'hint'}>
        {invalid ? p.problem : p.hint}
      </p>
    </div>
  );
}

export function FormFooter(p: {
  formId: string;
  busy: boolean;
  /** Submit is off while true (nothing chosen yet). */
  blocked?: boolean;
  onCancel(): void;
  submitLabel: ReactNode;
  busyLabel: ReactNode;
}) {
  return (
    <>
      <button type="button" className="button" onClick={p.onCancel} disabled={p.busy}>
        Cancel
      </button>
      <button type="submit" form={p.formId} className="button button-primary" disabled={p.busy || p.blocked}>
        {p.busy ? p.busyLabel : p.submitLabel}
      </button>
    </>
  );
}
