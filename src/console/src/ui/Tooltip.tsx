/** A tooltip for a focusable trigger: shown on hover and on keyboard focus, described via aria-describedby,
 * rendered in a portal with fixed position so no scroll container clips it. Escape hides it. */
import { type ReactNode, useId, useRef, useState } from 'react';
import { createPortal } from 'react-dom';

export function Tooltip({
  content,
  children,
  className,
}: {
  content: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  const ref = useRef<HTMLSpanElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number; above: boolean } | null>(null);
  const show = () => {
    const r = ref.current?.getBoundingClientRect();
    if (!r) return;
    const above = r.bottom + 120 > window.innerHeight;
    setPos({
      top: above ? r.top - 8 : r.bottom + 8,
      left: Math.max(8, Math.min(r.left, window.innerWidth - 328)),
      above,
    });
  };
  const hide = () => setPos(null);
  return (
    <span
      ref={ref}
      className={className}
      tabIndex={0}
      aria-describedby={id}
      onMouseEnter={show}
      onMouseLeave={hide}
      onFocus={show}
      onBlur={hide}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && pos) {
          e.stopPropagation();
          hide();
        }
      }}
    >
      {children}
      {/* Always in the DOM (hidden) so the description is available to assistive technology. */}
      <span id={id} role="tooltip" className="visually-hidden">
        {content}
      </span>
      {pos
        ? createPortal(
            <span
              className={`tooltip${pos.above ? ' above' : ''}`}
              style={{ top: pos.top, left: pos.left }}
              aria-hidden
            >
              {content}
            </span>,
            document.body,
          )
        : null}
    </span>
  );
}
