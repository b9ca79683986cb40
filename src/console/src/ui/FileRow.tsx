/** The row under a key or inventory field: a hidden file input, its Upload button, and which file was loaded. */
import type { ReactNode, RefObject } from 'react';
import { IconUpload } from './Icons';

export function FileRow({
  fileRef,
  onFile,
  inputId,
  accept,
  label,
  buttonText,
  fileName,
  onRemove,
  pasteHint,
  children,
}: {
  /** From useTextFile. */
  fileRef: RefObject<HTMLInputElement | null>;
  onFile: (f: File | undefined) => Promise<void>;
  inputId?: string;
  accept: string;
  /** The file input's accessible name. */
  label: string;
  buttonText: string;
  /** The loaded file's name, shown instead of the paste hint. */
  fileName?: string | null;
  /** Offers Remove next to the loaded file's name. */
  onRemove?: () => void;
  pasteHint: string;
  /** More controls at the end of the row. */
  children?: ReactNode;
}) {
  return (
    <div className="file-row">
      <input
        ref={fileRef}
        id={inputId}
        type="file"
        className="visually-hidden"
        accept={accept}
        onChange={(e) => void onFile(e.target.files?.[0])}
        aria-label={label}
      />
      <button type="button" className="button" onClick={() => fileRef.current?.click()}>
        <IconUpload /> {buttonText}
      </button>
      {fileName ? (
        <span className="file-chip">
          {fileName} loaded
          {onRemove ? (
            <button type="button" className="link-button" onClick={onRemove}>
              Remove
            </button>
          ) : null}
        </span>
      ) : (
        <span className="muted small">{pasteHint}</span>
      )}
      {children}
    </div>
  );
}
