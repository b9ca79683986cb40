/** A dialog that picks one name from a list the server gives (a policy to attach, a user to add). */
import { useId, useState } from 'react';
import { FormFooter } from '../ui/Field';
import { FormDialog, useFormAction } from '../ui/FormDialog';
import { InlineError } from '../ui/States';

/** Picks one name from a list (a policy to attach, a user to add) and runs `choose` with it. */
export function ChooseDialog({
  title,
  onClose,
  loadError,
  options,
  loadingText,
  noneText,
  label,
  placeholder,
  hint,
  submitLabel,
  busyLabel,
  choose,
}: {
  title: string;
  onClose: () => void;
  loadError: unknown;
  /** null while the list loads. */
  options: { key: string; value: string; label: string }[] | null;
  loadingText: string;
  noneText: string;
  label: string;
  placeholder: string;
  hint?: string;
  submitLabel: string;
  busyLabel: string;
  choose: (value: string) => Promise<void>;
}) {
  const id = useId();
  const [chosen, setChosen] = useState('');
  const form = useFormAction(onClose);

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={form.submit(!chosen, () => choose(chosen))}
      title={title}
      onClose={onClose}
      size="small"
      footer={
        <FormFooter
          formId={`${id}-f`}
          busy={form.busy}
          blocked={!chosen}
          onCancel={onClose}
          submitLabel={submitLabel}
          busyLabel={busyLabel}
        />
      }
    >
      {loadError ? (
        <InlineError error={loadError} />
      ) : options === null ? (
        <p className="muted" role="status">
          {loadingText}
        </p>
      ) : options.length === 0 ? (
        <p className="muted">{noneText}</p>
      ) : (
        <div className="field">
          <label htmlFor={`${id}-c`}>{label}</label>
          <select id={`${id}-c`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">{placeholder}</option>
            {options.map((o) => (
              <option key={o.key} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          {hint ? <p className="hint">{hint}</p> : null}
        </div>
      )}
    </FormDialog>
  );
}
