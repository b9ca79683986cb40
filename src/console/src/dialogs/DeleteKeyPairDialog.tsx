/** Deletes a key pair; refused while it is bound, naming the instances to unbind first. */
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { KeyPair } from '../api/types';
import { useScope } from '../app/scope';
import { plural } from '../lib/format';
import { Dialog } from '../ui/Dialog';
import { IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';

export function DeleteKeyPairDialog({
  keyPair,
  onClose,
  onDeleted,
  onUnbind,
}: {
  keyPair: KeyPair;
  onClose: () => void;
  onDeleted: () => void;
  onUnbind: () => void;
}) {
  const { regionId } = useScope();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [bound, setBound] = useState<{ ids: string[]; count: number } | null | 'loading'>('loading');

  useEffect(() => {
    api.keyPair(regionId, keyPair.name).then(
      (d) => setBound(d.boundCount > 0 ? { ids: d.boundInstances, count: d.boundCount } : null),
      () => setBound(null),
    );
  }, [regionId, keyPair.name]);

  const del = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteKeyPair(regionId, keyPair.name);
      onDeleted();
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'KeyPair.InUse') {
        const ids = Array.isArray(err.details.instanceIds) ? (err.details.instanceIds as string[]) : [];
        setBound({ ids, count: typeof err.details.boundCount === 'number' ? err.details.boundCount : ids.length });
      }
      setError(err);
      setBusy(false);
    }
  };

  const inUse = bound !== null && bound !== 'loading';
  return (
    <Dialog
      title="Delete Key Pair"
      onClose={onClose}
      busy={busy}
      size="small"
      testId="delete-key-pair"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          {inUse ? (
            <button type="button" className="button button-primary" onClick={onUnbind}>
              Unbind instances…
            </button>
          ) : null}
          <button
            type="button"
            className="button button-danger"
            onClick={() => void del()}
            disabled={busy || bound === 'loading' || inUse}
          >
            {busy ? 'Deleting…' : 'Delete'}
          </button>
        </>
      }
    >
      <p>
        Delete key pair <strong>{keyPair.name}</strong>{' '}
        <span className="mono muted small break">{keyPair.fingerprintSha256}</span>?
      </p>
      {inUse ? (
        <div className="notice notice-error" role="alert">
          <IconWarning />
          <div>
            <strong>
              {keyPair.name} is bound to {plural(bound.count, 'instance')}; unbind it first.
            </strong>
            <p>
              Bound to:{' '}
              <span className="mono">
                {bound.ids.slice(0, 10).join(', ')}
                {bound.count > 10 ? `, … (${bound.count - 10} more)` : ''}
              </span>
            </p>
          </div>
        </div>
      ) : (
        <p className="muted">Instances keep working; only the record of the public key goes. This cannot be undone.</p>
      )}
      {error && !(error instanceof ApiError && error.code === 'KeyPair.InUse') ? <InlineError error={error} /> : null}
    </Dialog>
  );
}
