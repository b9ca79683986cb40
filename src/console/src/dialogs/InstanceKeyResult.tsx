/** The result step of a bind or unbind: done, waiting for a restart (restart, start or apply live now), or failed. */
import type { Instance, TaskItem } from '../api/types';
import { Dialog } from '../ui/Dialog';
import { InlineError } from '../ui/States';
import { Notice } from '../ui/Notice';

export type KeyChangeMode = 'on-restart' | 'live';

export interface KeyChangeResult {
  item: TaskItem | undefined;
  mode: KeyChangeMode;
  keyPairName: string;
}

export function InstanceKeyResult({
  instance,
  action,
  result,
  busy,
  error,
  onClose,
  onApplyLive,
  restartNow,
}: {
  instance: Instance;
  action: 'bind' | 'unbind';
  result: KeyChangeResult;
  busy: boolean;
  error: unknown;
  onClose: () => void;
  onApplyLive: () => void;
  restartNow: (op: 'restart' | 'start') => Promise<void>;
}) {
  const running = instance.status === 'Running';
  const verb = action === 'bind' ? 'Bind' : 'Unbind';

  const ok = result.item?.status === 'succeeded';
  const pending = ok && result.mode === 'on-restart';
  const what =
    action === 'bind'
      ? `Key pair ${result.keyPairName} is bound to ${instance.name}`
      : `Key pair ${result.keyPairName || ''} is unbound from ${instance.name}`.replace('  ', ' ');
  return (
    <Dialog
      title={ok ? `${verb} recorded` : `${verb} failed`}
      onClose={onClose}
      busy={busy}
      step="result"
      testId="instance-key-result"
      footer={
        pending && running ? (
          <>
            <button type="button" className="button" onClick={onClose} disabled={busy}>
              Later
            </button>
            <button type="button" className="button" onClick={onApplyLive} disabled={busy}>
              Apply live instead…
            </button>
            <button
              type="button"
              className="button button-primary"
              onClick={() => void restartNow('restart')}
              disabled={busy}
            >
              Restart now
            </button>
          </>
        ) : pending && instance.status === 'Stopped' ? (
          <>
            <button type="button" className="button" onClick={onClose} disabled={busy}>
              Later
            </button>
            <button
              type="button"
              className="button button-primary"
              onClick={() => void restartNow('start')}
              disabled={busy}
            >
              Start now
            </button>
          </>
        ) : (
          <button type="button" className="button button-primary" onClick={onClose}>
            Close
          </button>
        )
      }
    >
      {ok ? (
        pending ? (
          <Notice
            tone="warning"
            title={
              <>
                {what}. It takes effect after a {instance.status === 'Stopped' ? 'start' : 'restart'}.
              </>
            }
          >
            <p>
              Until then {instance.name} keeps its current login settings and is marked{' '}
              <span className="marker-restart inline">Restart needed</span>.
              {running ? ' Restart it now, or apply the change live over SSH without a restart.' : ''}
            </p>
          </Notice>
        ) : (
          <Notice tone="success" title={<>{what}.</>}>
            <p>{result.item?.note ?? 'Done.'}</p>
          </Notice>
        )
      ) : (
        <Notice
          tone="error"
          title={
            <>
              {instance.name}: {result.item?.errorCode ?? 'failed'}
            </>
          }
        >
          <p>{result.item?.errorMessage ?? 'The change did not complete.'}</p>
        </Notice>
      )}
      {action === 'unbind' && ok && !instance.hasPassword ? (
        <p className="alert alert-warning">
          This instance has no root password. Reset the password (Actions → Reset Password) to log in after the unbind.
        </p>
      ) : null}
      <InlineError error={error} />
    </Dialog>
  );
}
