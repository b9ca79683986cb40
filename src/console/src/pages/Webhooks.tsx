/**
 * Webhook endpoints of the account (administrators): where keyfleet posts signed events (a task finished, a proof
 * failed, drift found). Add one (its secret is shown once), enable or disable it, rotate its secret, delete it.
 */
import { useState } from 'react';
import { ApiError } from '../api/client';
import { type Webhook, webhooksApi, type WebhookWithSecret } from '../api/webhooks';
import { useWho } from '../app/session';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';
import { CreateWebhookDialog, WebhookSecretDialog } from '../dialogs/WebhookDialogs';
import { formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { IconGlobe } from '../ui/Icons';
import { ListPage } from '../ui/ListPage';
import { ErrorState } from '../ui/States';
import { useToasts } from '../ui/Toasts';

type DialogState =
  | { type: 'create' }
  | { type: 'secret'; created: WebhookWithSecret; rotated: boolean }
  | { type: 'rotate'; webhook: Webhook }
  | { type: 'delete'; webhook: Webhook };

export function WebhooksPage() {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const list = useResource(() => webhooksApi.list(), [], { keepPrevious: true });
  const close = () => setDialog(null);
  if (list.error instanceof ApiError && list.error.status === 403) {
    return (
      <div className="page">
        <h1>Webhooks</h1>
        <ErrorState
          title="Only account administrators manage webhooks"
          error={new Error('A webhook receives every event of the account; ask an administrator to add one.')}
        />
      </div>
    );
  }
  const toggle = async (w: Webhook) => {
    try {
      await webhooksApi.update(w.id, { enabled: !w.enabled });
      list.reload();
      toasts.push({ kind: 'success', title: `Webhook ${w.enabled ? 'disabled' : 'enabled'}`, body: w.url });
    } catch (err) {
      toasts.push({ kind: 'error', title: 'Cannot change the webhook', body: String((err as Error).message) });
    }
  };
  const webhooks = list.data ?? [];

  return (
    <ListPage
      title="Webhooks"
      noun="webhook"
      context={who.accountName}
      list={list}
      tabs={null}
      createLabel="Add Webhook"
      onCreate={() => setDialog({ type: 'create' })}
      emptyIcon={<IconGlobe />}
      emptyText="keyfleet posts signed events here: a task finished, a proof failed after a boot, drift found."
      dialogs={
        <>
          {dialog?.type === 'create' ? (
            <CreateWebhookDialog
              onClose={() => setDialog((d) => (d?.type === 'create' ? null : d))}
              onCreated={(created) => {
                list.reload();
                setDialog({ type: 'secret', created, rotated: false });
              }}
            />
          ) : null}
          {dialog?.type === 'secret' ? (
            <WebhookSecretDialog created={dialog.created} rotated={dialog.rotated} onClose={close} />
          ) : null}
          {dialog?.type === 'rotate' ? (
            <ConfirmDialog
              title="Rotate the signing secret?"
              confirmLabel="Rotate secret"
              onClose={() => setDialog((d) => (d?.type === 'rotate' ? null : d))}
              onConfirm={async () => {
                const created = await webhooksApi.rotateSecret(dialog.webhook.id);
                setTimeout(() => setDialog({ type: 'secret', created, rotated: true }));
              }}
            >
              <p>
                Deliveries to <span className="mono break">{dialog.webhook.url}</span> are signed with a new secret from
                now on; the receiver must be given it, or it refuses them.
              </p>
            </ConfirmDialog>
          ) : null}
          {dialog?.type === 'delete' ? (
            <ConfirmDialog
              title="Delete this webhook?"
              confirmLabel="Delete webhook"
              danger
              onClose={close}
              onConfirm={async () => {
                await webhooksApi.remove(dialog.webhook.id);
                list.reload();
                toasts.push({ kind: 'success', title: 'Webhook deleted', body: dialog.webhook.url });
              }}
            >
              <p>
                <span className="mono break">{dialog.webhook.url}</span> gets no more events; those not delivered yet
                are dropped.
              </p>
            </ConfirmDialog>
          ) : null}
        </>
      }
    >
      <table className="table" aria-label="Webhooks">
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((w) => (
            <tr key={w.id} data-webhook={w.id}>
              <td data-label="Endpoint">
                <div className="cell-main mono break">{w.url}</div>
                <div className="muted small">
                  <span className="mono">{w.id}</span>
                  {w.description ? ` · ${w.description}` : ''}
                </div>
              </td>
              <td data-label="Events">
                {w.events.map((e) => (
                  <div key={e} className="mono small">
                    {e}
                  </div>
                ))}
              </td>
              <td data-label="Status">
                <span className={`pill pill-${w.enabled ? 'green' : 'grey'}`}>
                  <span className="dot" aria-hidden />
                  {w.enabled ? 'Enabled' : 'Disabled'}
                </span>
              </td>
              <td data-label="Created" className="nowrap">
                {formatTime(w.createdAt)}
              </td>
              <td data-label="Actions" className="col-actions">
                <div className="row-actions">
                  <button type="button" className="link-button" onClick={() => void toggle(w)}>
                    {w.enabled ? 'Disable' : 'Enable'}
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'rotate', webhook: w })}
                    aria-label={`Rotate the secret of ${w.url}`}
                  >
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    className="link-button danger"
                    onClick={() => setDialog({ type: 'delete', webhook: w })}
                    aria-label={`Delete ${w.url}`}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListPage>
  );
}
