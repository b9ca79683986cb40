/**
 * A hidden file input that reads a small text file (a key, an inventory): the input's ref, the handler for its
 * change event, and the reading error to show. The input is cleared after each read so the same file can be chosen
 * again.
 */
import { useRef, useState } from 'react';
import { readSmallTextFile } from './download';

export function useTextFile(
  onRead: (text: string, file: File) => void,
  opts: { maxBytes?: number; onFailure?: () => void } = {},
) {
  const fileRef = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const onFile = async (f: File | undefined) => {
    if (!f) return;
    try {
      const text = await readSmallTextFile(f, opts.maxBytes);
      setFileError(null);
      onRead(text, f);
    } catch (e) {
      opts.onFailure?.();
      setFileError(e instanceof Error ? e.message : String(e));
    } finally {
      if (fileRef.current) fileRef.current.value = '';
    }
  };
  return { fileRef, fileError, onFile };
}
