/** The copy button beside a shown-once secret and its spoken outcome; on a refused clipboard (permissions, an insecure
 * origin) the text is selected instead so Ctrl+C works. */
import { useState } from 'react';
import { IconCheck } from './Icons';

export function CopyText({
  value,
  targetId,
  className,
  label,
  refusedText,
  copiedText,
}: {
  value: string;
  /** The element holding the value, selected when the clipboard refuses. */
  targetId: string;
  className: string;
  label: string;
  refusedText: string;
  copiedText: string;
}) {
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('ok');
    } catch {
      const el = document.getElementById(targetId);
      if (el) window.getSelection()?.selectAllChildren(el);
      setCopied('failed');
    }
  };
  return (
    <>
      <button type="button" className={className} onClick={() => void copy()}>
        {copied === 'ok' ? <IconCheck /> : null} {copied === 'ok' ? 'Copied' : label}
      </button>
      <span className="muted small" aria-live="polite">
        {copied === 'failed' ? refusedText : copied === 'ok' ? copiedText : ''}
      </span>
    </>
  );
}
