/**
 * "Restart now" / "Start now" after a change that takes effect at the next start (key pair, password): it asks the
 * server to restart or start the instance, says what happens next in a toast and closes the dialog.
 */
import { api } from '../api/client';
import type { Instance } from '../api/types';
import { useToasts } from '../ui/Toasts';

export function useRestartInstance({
  instance,
  afterwards,
  setBusy,
  setError,
  onChanged,
  onClose,
}: {
  instance: Instance;
  /** The toast's body: what takes effect once the instance runs again. */
  afterwards: string;
  setBusy: (busy: boolean) => void;
  setError: (err: unknown) => void;
  onChanged: () => void;
  onClose: () => void;
}) {
  const toasts = useToasts();
  return async (op: 'restart' | 'start') => {
    setBusy(true);
    try {
      await api.instanceAction(instance.id, op);
      toasts.push({
        kind: 'info',
        title: `${op === 'restart' ? 'Restarting' : 'Starting'} ${instance.name}`,
        body: afterwards,
      });
      onChanged();
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
}
