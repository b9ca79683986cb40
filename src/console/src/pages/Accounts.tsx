/** Accounts (tenants), for the system administrator only: list them and create one with its administrator. */
import { useState } from 'react';
import { ApiError, api } from '../api/client';
import type { CreatedAccount } from '../api/types';
import { useWho } from '../app/session';
import { AccountCreatedDialog, CreateAccountDialog } from '../dialogs/AccountDialogs';
import { formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { IconBuilding } from '../ui/Icons';
import { ListPage } from '../ui/ListPage';
import { ErrorState } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { Tabs } from './identity/IdentityShell';

export function AccountsPage() {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<{ type: 'create' } | { type: 'created'; created: CreatedAccount } | null>(null);
  const list = useResource(() => api.accounts(), [], { keepPrevious: true });
  const forbidden = list.error instanceof ApiError && list.error.status === 403;
  if (forbidden) {
    return (
      <div className="page">
        <h1>Accounts</h1>
        <ErrorState
          title="Only the system administrator manages accounts"
          error={
            new Error(
              'Accounts are created by the administrator of the first account keyfleet set up. Ask them for a new account.',
            )
          }
        />
      </div>
    );
  }
  const accounts = list.data ?? [];

  return (
    <ListPage
      title="Accounts"
      noun="account"
      context="System administration"
      list={list}
      tabs={<Tabs />}
      createLabel="Create Account"
      onCreate={() => setDialog({ type: 'create' })}
      emptyIcon={<IconBuilding />}
      emptyText="Each account is a tenant with its own users, policies, key pairs and audit trail."
      dialogs={
        <>
          {dialog?.type === 'create' ? (
            <CreateAccountDialog
              onClose={() => setDialog((d) => (d?.type === 'create' ? null : d))}
              onCreated={(created) => {
                list.reload();
                toasts.push({
                  kind: 'success',
                  title: `Account ${created.account.name} created`,
                  body: `Its administrator is ${created.admin.name}.`,
                });
                setDialog({ type: 'created', created });
              }}
            />
          ) : null}
          {dialog?.type === 'created' ? (
            <AccountCreatedDialog created={dialog.created} onClose={() => setDialog(null)} />
          ) : null}
        </>
      }
    >
      <table className="table" aria-label="Accounts">
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">Account ID</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {accounts.map((a) => (
            <tr key={a.id} data-account={a.name}>
              <td data-label="Account">
                <div className="cell-main">{a.name}</div>
                {a.id === who.accountId ? <div className="muted small">yours</div> : null}
              </td>
              <td data-label="Account ID">
                <span className="mono break">{a.id}</span>
              </td>
              <td data-label="Created" className="nowrap">
                {formatTime(a.createdAt)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListPage>
  );
}
