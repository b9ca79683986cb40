/**
 * An actions menu (WAI-ARIA menu button): the button opens a menu rendered above everything (a portal with fixed
 * position, so table scrolling never clips it). Arrow keys, Home/End move, Enter/Space choose, Escape or Tab
 * close and return focus to the button. Disabled items stay focusable so their reason is read out.
 */
import {
  type KeyboardEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { createPortal } from 'react-dom';
import { IconChevronDown } from './Icons';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  disabled?: boolean;
  /** Shown under a disabled item: why it cannot be chosen. */
  reason?: string;
  danger?: boolean;
  separatorBefore?: boolean;
}

export function MenuButton({
  label,
  items,
  ariaLabel,
  className = 'button button-small',
  icon,
}: {
  label: ReactNode;
  items: MenuItem[];
  ariaLabel: string;
  className?: string;
  icon?: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [pos, setPos] = useState<{ top: number; left: number; flipUp: boolean } | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();
  const focusFirst = useRef<'first' | 'last'>('first');

  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  }, []);

  const place = useCallback(() => {
    const b = buttonRef.current?.getBoundingClientRect();
    if (!b) return;
    const menuH = menuRef.current?.offsetHeight ?? 240;
    const menuW = menuRef.current?.offsetWidth ?? 220;
    const flipUp = b.bottom + menuH + 8 > window.innerHeight && b.top - menuH - 8 > 0;
    const left = Math.max(8, Math.min(b.right - menuW, window.innerWidth - menuW - 8));
    setPos({ top: flipUp ? b.top - menuH - 4 : b.bottom + 4, left, flipUp });
  }, []);

  useLayoutEffect(() => {
    if (open) place();
    else setPos(null);
  }, [open, place]);

  // Focus moves into the menu once it is in place (focusing it off-screen could scroll and close it).
  const placed = pos !== null;
  useLayoutEffect(() => {
    if (!open || !placed) return;
    const items = menuRef.current?.querySelectorAll<HTMLElement>('[role=menuitem]');
    if (items && items.length)
      (focusFirst.current === 'first' ? items[0] : items[items.length - 1])!.focus({ preventScroll: true });
  }, [open, placed]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) close(false);
    };
    // Scrolling moves the menu with its button; it closes only when the button leaves the screen.
    const onScroll = (e: Event) => {
      if (menuRef.current?.contains(e.target as Node)) return;
      const b = buttonRef.current?.getBoundingClientRect();
      if (!b || b.bottom < 0 || b.top > window.innerHeight) close(false);
      else place();
    };
    const onResize = () => close(false);
    document.addEventListener('mousedown', onDown);
    window.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onResize);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('scroll', onScroll, true);
      window.removeEventListener('resize', onResize);
    };
  }, [open, close, place]);

  const onButtonKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusFirst.current = e.key === 'ArrowDown' ? 'first' : 'last';
      setOpen(true);
    }
  };

  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => items[(n + items.length) % items.length]?.focus({ preventScroll: true });
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        go(i + 1);
        break;
      case 'ArrowUp':
        e.preventDefault();
        go(i - 1);
        break;
      case 'Home':
        e.preventDefault();
        go(0);
        break;
      case 'End':
        e.preventDefault();
        go(items.length - 1);
        break;
      case 'Escape':
        e.preventDefault();
        e.stopPropagation();
        close(true);
        break;
      case 'Tab':
        close(true);
        break;
      default:
        if (e.key.length === 1 && /\S/.test(e.key)) {
          const k = e.key.toLowerCase();
          const next = items.findIndex((el, j) => j > i && el.textContent?.trim().toLowerCase().startsWith(k));
          const any = next >= 0 ? next : items.findIndex((el) => el.textContent?.trim().toLowerCase().startsWith(k));
          if (any >= 0) go(any);
        }
    }
  };

  const choose = (item: MenuItem) => {
    if (item.disabled) return;
    close(true);
    item.onSelect();
  };

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        className={className}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={ariaLabel}
        onClick={() => {
          focusFirst.current = 'first';
          setOpen((o) => !o);
        }}
        onKeyDown={onButtonKey}
      >
        {icon}
        {label}
        <IconChevronDown className="chevron" />
      </button>
      {open
        ? createPortal(
            <div
              ref={menuRef}
              id={menuId}
              role="menu"
              aria-label={ariaLabel}
              className="menu"
              style={{ top: pos?.top ?? -9999, left: pos?.left ?? -9999 }}
              onKeyDown={onMenuKey}
            >
              {items.map((item, n) => (
                <div key={item.label} role="none" className={item.separatorBefore ? 'menu-sep' : undefined}>
                  <button
                    type="button"
                    role="menuitem"
                    tabIndex={-1}
                    aria-label={item.label}
                    aria-describedby={item.disabled && item.reason ? `${menuId}-r${n}` : undefined}
                    aria-disabled={item.disabled || undefined}
                    className={`menu-item${item.danger ? ' danger' : ''}`}
                    onClick={() => choose(item)}
                  >
                    <span className="menu-label">{item.label}</span>
                    {item.disabled && item.reason ? (
                      <span id={`${menuId}-r${n}`} className="menu-reason">
                        {item.reason}
                      </span>
                    ) : null}
                  </button>
                </div>
              ))}
            </div>,
            document.body,
          )
        : null}
    </>
  );
}
