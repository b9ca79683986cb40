/**
 * Modal dialog on the native <dialog> element: showModal() makes the rest of the page inert (focus stays inside),
 * Escape closes it (unless busy), and focus returns to the control that opened it.
 */
import { type ReactNode, useEffect, useId, useLayoutEffect, useRef } from 'react';
import { IconClose } from './Icons';

export interface DialogProps {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  /** While busy, Escape and the close button do nothing (a request is in flight). */
  busy?: boolean;
  size?: 'small' | 'medium' | 'large';
  description?: ReactNode;
  /** Element to focus first; default: the first field, else the first button of the body. */
  initialFocus?: string;
  testId?: string;
  /** Take the viewport's height, so a list inside (the transfer list) gets the room instead of a fixed box. */
  fill?: boolean;
  /** Change it when the dialog moves to another step: focus moves to the new step's first control. */
  step?: string;
}

export function Dialog({
  title,
  onClose,
  children,
  footer,
  busy = false,
  size = 'medium',
  description,
  initialFocus,
  testId,
  step,
  fill = false,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  const focusFirst = () => {
    const d = ref.current;
    if (!d) return;
    const target =
      (initialFocus && d.querySelector<HTMLElement>(initialFocus)) ||
      d.querySelector<HTMLElement>(
        '.dialog-body :is(input:not([type=hidden]):not([disabled]):not(.visually-hidden), textarea, select)',
      ) ||
      d.querySelector<HTMLElement>(
        '.dialog-footer .button-primary:not([disabled]), .dialog-body button:not([disabled]), .dialog-footer button:not([disabled])',
      );
    target?.focus();
  };

  const firstStep = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: focus moves when the dialog's step changes, not when focusFirst is made anew
  useEffect(() => {
    if (firstStep.current) {
      firstStep.current = false;
      return;
    }
    focusFirst();
  }, [step]);

  const mounted = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the dialog opens once, when it mounts, and closes when it unmounts
  useLayoutEffect(() => {
    mounted.current = true;
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    focusFirst();
    return () => {
      mounted.current = false;
      if (d.open) d.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);

  useEffect(() => {
    const d = ref.current!;
    const onCancel = (e: Event) => {
      e.preventDefault();
      if (!busyRef.current) closeRef.current();
    };
    // The browser may still close the dialog itself (repeated Escape); keep React's state in step.
    const onNativeClose = () => {
      if (mounted.current) closeRef.current();
    };
    d.addEventListener('cancel', onCancel);
    d.addEventListener('close', onNativeClose);
    return () => {
      d.removeEventListener('cancel', onCancel);
      d.removeEventListener('close', onNativeClose);
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`dialog dialog-${size}${fill ? ' dialog-fill' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      data-testid={testId}
    >
      <div className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close dialog"
          onClick={() => !busy && onClose()}
          disabled={busy}
        >
          <IconClose />
        </button>
      </div>
      {description ? (
        <p id={descId} className="dialog-description">
          {description}
        </p>
      ) : null}
      <div className="dialog-body">{children}</div>
      {footer ? <div className="dialog-footer">{footer}</div> : null}
    </dialog>
  );
}
