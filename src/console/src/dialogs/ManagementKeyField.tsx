/** The management private key of a host: upload a file or paste it. */
import { FileRow } from '../ui/FileRow';
import { useId } from 'react';
import { useTextFile } from '../lib/useTextFile';
import { privateKeyProblem } from './LiveFields';

export interface KeyValue {
  text: string;
  /** Name of the uploaded file (its text is not shown). */
  fileName: string | null;
}
export const emptyKey: KeyValue = { text: '', fileName: null };

/** The management private key: upload a file or paste it. Sent once; keyfleet keeps it sealed and never shows it. */
export function ManagementKeyField({
  value,
  onChange,
  show,
  shared = false,
  label = 'Management private key',
}: {
  value: KeyValue;
  onChange: (v: KeyValue) => void;
  show: boolean;
  shared?: boolean;
  label?: string;
}) {
  const id = useId();
  const problem = show ? privateKeyProblem(value.text) : null;
  const { fileRef, fileError, onFile } = useTextFile((text, f) => onChange({ text, fileName: f.name }), {
    onFailure: () => onChange(emptyKey),
  });
  return (
    <div className="field">
      <span className="field-label" id={`${id}-label`}>
        {label}
        {shared ? ' (the same for every host)' : ''}
      </span>
      <FileRow
        fileRef={fileRef}
        onFile={onFile}
        accept=".pem,.key,.txt,application/x-pem-file,text/plain"
        label={`${label} file`}
        buttonText="Select file"
        fileName={value.fileName}
        onRemove={() => onChange(emptyKey)}
        pasteHint="or paste it below"
      />
      {value.fileName ? null : (
        <textarea
          aria-labelledby={`${id}-label`}
          className="mono"
          rows={4}
          spellCheck={false}
          autoComplete="off"
          placeholder={'-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----'}
          value={value.text}
          onChange={(e) => onChange({ text: e.target.value, fileName: null })}
          aria-invalid={problem ? true : undefined}
          aria-describedby={`${id}-hint`}
        />
      )}
      {fileError ? <p className="field-error">{fileError}</p> : null}
      {problem ? <p className="field-error">{problem}</p> : null}
      <p id={`${id}-hint`} className="hint">
        An unencrypted private key that {shared ? 'every host' : 'the host'} accepts for the login (or management) user.
        keyfleet tries it with a real login, then keeps it sealed (encrypted) to make key changes. It is sent once with
        this request and <strong>never shown again</strong>: not here, not by the API.
      </p>
    </div>
  );
}
