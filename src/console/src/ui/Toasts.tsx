/** Toasts for results of actions: announced politely (errors assertively), success toasts leave after 6 s,
 * errors stay until closed. */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from 'react';
import { IconCheck, IconClose, IconError, IconInfo, IconWarning } from './Icons';

export type ToastKind = 'success' | 'error' | 'info' | 'warning';
export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: ReactNode;
}

interface ToastApi {
  push: (t: Omit<Toast, 'id'>) => void;
}

const Ctx = createContext<ToastApi>({ push: () => undefined });

export function useToasts(): ToastApi {
  return useContext(Ctx);
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (t: Omit<Toast, 'id'>) => {
      const id = next.current++;
      setToasts((ts) => [...ts.slice(-4), { ...t, id }]);
      if (t.kind !== 'error') window.setTimeout(() => dismiss(id), 6000);
    },
    [dismiss],
  );
  const value = useMemo(() => ({ push }), [push]);
  const icon = (k: ToastKind) =>
    k === 'success' ? <IconCheck /> : k === 'error' ? <IconError /> : k === 'warning' ? <IconWarning /> : <IconInfo />;
  return (
    <Ctx.Provider value={value}>
      {children}
      <div className="toasts" aria-live="polite" aria-relevant="additions" role="region" aria-label="Notifications">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
            <span className="toast-icon">{icon(t.kind)}</span>
            <div className="toast-text">
              <strong>{t.title}</strong>
              {t.body ? <div>{t.body}</div> : null}
            </div>
            <button
              type="button"
              className="icon-button"
              aria-label="Dismiss notification"
              onClick={() => dismiss(t.id)}
            >
              <IconClose />
            </button>
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
