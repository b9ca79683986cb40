/**
 * A private key given for one live change: from a file (its text never shown) or pasted. Used by the live fields of
 * a bind/unbind and by the credential of a drift repair; the key stays in the caller's state only.
 */
import { useTextFile } from '../lib/useTextFile';
import { FileRow } from '../ui/FileRow';

export interface PrivateKeyValue {
  privateKey: string;
  /** Name of the uploaded file, when the key came from a file (its text is not shown). */
  fileName: string | null;
}

export function PrivateKeyInput({
  id,
  label,
  value,
  onChange,
  error,
}: {
  /** Prefix of the element ids (useId of the caller). */
  id: string;
  label: string;
  value: PrivateKeyValue;
  onChange: (patch: PrivateKeyValue) => void;
  /** What is wrong with the key, once errors are shown. */
  error?: string | null;
}) {
  const { fileRef, fileError, onFile } = useTextFile((text, f) => onChange({ privateKey: text, fileName: f.name }), {
    onFailure: () => onChange({ privateKey: '', fileName: null }),
  });
  return (
    <>
      <span className="field-label" id={`${id}-pk-label`}>
        {label}
      </span>
      <FileRow
        fileRef={fileRef}
        onFile={onFile}
        inputId={`${id}-file`}
        accept=".pem,.key,.txt,application/x-pem-file,text/plain"
        label="Private key file"
        buttonText="Select file"
        fileName={value.fileName}
        onRemove={() => onChange({ privateKey: '', fileName: null })}
        pasteHint="or paste it below"
      />
      {value.fileName ? null : (
        <textarea
          aria-labelledby={`${id}-pk-label`}
          className="mono"
          rows={5}
          spellCheck={false}
          autoComplete="off"
          placeholder={'-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----'}
          value={value.privateKey}
          onChange={(e) => onChange({ privateKey: e.target.value, fileName: null })}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-pk-err` : undefined}
        />
      )}
      {fileError ? <p className="field-error">{fileError}</p> : null}
      {error ? (
        <p id={`${id}-pk-err`} className="field-error">
          {error}
        </p>
      ) : null}
    </>
  );
}
