/** The page of one user: console password, access keys (create, disable, delete), attached policies, groups. */
import { useState } from 'react';
import { api } from '../../api/client';
import type { AccessKey, CreatedAccessKey, Policy } from '../../api/types';
import { Link } from '../../app/router';
import { useWho } from '../../app/session';
import { ConfirmDialog } from '../../dialogs/ConfirmDialog';
import { AccessKeySecretDialog } from '../../dialogs/AccessKeySecretDialog';
import { AttachPolicyDialog } from '../../dialogs/PolicyDialogs';
import { PasswordDialog } from '../../dialogs/UserDialogs';
import { formatTime } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { IconKey, IconPlus, IconUser } from '../../ui/Icons';
import { EmptyState } from '../../ui/States';
import { Fact } from '../../ui/Summary';
import { useToasts } from '../../ui/Toasts';
import { AttachedPolicies } from './AttachedPolicies';
import {
  Description,
  DetailPage,
  identityPath,
  NamedTable,
  NotAdmin,
  Section,
  SectionList,
  StatusPill,
} from './IdentityShell';

type DetailDialog =
  | { type: 'password' }
  | { type: 'secret'; created: CreatedAccessKey }
  | { type: 'delete-key'; key: AccessKey }
  | { type: 'attach' }
  | { type: 'detach'; policy: Policy }
  | null;

export function UserDetailPage({ name }: { name: string }) {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<DetailDialog>(null);
  const [creating, setCreating] = useState(false);
  const [busyKey, setBusyKey] = useState<string | null>(null);
  const users = useResource(() => api.users(), [name], { keepPrevious: true });
  const keys = useResource(() => api.accessKeys(name), [name], { keepPrevious: true });
  const policies = useResource(() => api.userPolicies(name), [name], { keepPrevious: true });
  const groups = useResource(() => api.userGroups(name), [name], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const user = users.data?.find((u) => u.name === name);
  const close = () => setDialog(null);

  /** Runs a key operation; a failure is a toast titled `failure`. */
  const keyAction = async (failure: string, busy: (on: boolean) => void, action: () => Promise<void>) => {
    busy(true);
    try {
      await action();
    } catch (err) {
      toasts.push({ kind: 'error', title: failure, body: err instanceof Error ? err.message : String(err) });
    } finally {
      busy(false);
    }
  };
  const createKey = () =>
    keyAction('Cannot create an access key', setCreating, async () => {
      const created = await api.createAccessKey(name);
      keys.reload();
      setDialog({ type: 'secret', created });
    });
  const toggleKey = (k: AccessKey) =>
    keyAction(
      'Cannot change the access key',
      (on) => setBusyKey(on ? k.accessKeyId : null),
      async () => {
        const status = k.status === 'Active' ? 'Inactive' : 'Active';
        await api.setAccessKeyStatus(k.accessKeyId, status);
        keys.reload();
        toasts.push({
          kind: 'success',
          title: `Access key ${status === 'Active' ? 'enabled' : 'disabled'}`,
          body: k.accessKeyId,
        });
      },
    );

  return (
    <DetailPage
      kind="user"
      name={name}
      subtitle={
        user
          ? `${user.isAccountAdmin ? 'Account administrator' : 'User'} · created ${formatTime(user.createdAt)}`
          : null
      }
      actions={
        user ? (
          <button type="button" className="button" onClick={() => setDialog({ type: 'password' })}>
            {user.consoleSignIn ? 'Change console password' : 'Set console password'}
          </button>
        ) : null
      }
      resource={users}
      missing={!users.loading && !!users.data && !user}
      icon={<IconUser />}
      dialogs={
        <>
          {dialog?.type === 'password' && user ? (
            <PasswordDialog
              user={user}
              onClose={close}
              onDone={(on) => {
                users.reload();
                toasts.push({
                  kind: 'success',
                  title: on ? `Console password of ${name} set` : `Console sign-in of ${name} turned off`,
                  body: 'Their console sessions were ended.',
                });
              }}
            />
          ) : null}
          {dialog?.type === 'secret' ? (
            <AccessKeySecretDialog created={dialog.created} userName={name} onClose={close} />
          ) : null}
          {dialog?.type === 'delete-key' ? (
            <ConfirmDialog
              title="Delete access key?"
              confirmLabel="Delete access key"
              danger
              onClose={close}
              onConfirm={async () => {
                await api.deleteAccessKey(dialog.key.accessKeyId);
                keys.reload();
                toasts.push({ kind: 'success', title: 'Access key deleted', body: dialog.key.accessKeyId });
              }}
            >
              <p>
                Calls signed with <span className="mono">{dialog.key.accessKeyId}</span> will be refused. This cannot be
                undone; to pause a key, disable it instead.
              </p>
            </ConfirmDialog>
          ) : null}
          {dialog?.type === 'attach' ? (
            <AttachPolicyDialog
              userName={name}
              attached={(policies.data ?? []).map((p) => p.name)}
              onClose={close}
              onAttached={(p) => {
                policies.reload();
                toasts.push({ kind: 'success', title: `Policy ${p} attached to ${name}` });
              }}
            />
          ) : null}
          {dialog?.type === 'detach' ? (
            <ConfirmDialog
              title={`Detach ${dialog.policy.name}?`}
              confirmLabel="Detach"
              danger
              onClose={close}
              onConfirm={async () => {
                await api.detachPolicy(name, dialog.policy.name);
                policies.reload();
                toasts.push({ kind: 'success', title: `Policy ${dialog.policy.name} detached from ${name}` });
              }}
            >
              <p>{name} loses what this policy allows at once.</p>
            </ConfirmDialog>
          ) : null}
        </>
      }
    >
      {() =>
        user && (
          <>
            <dl className="summary">
              <Fact term="Console sign-in">
                <StatusPill on={user.consoleSignIn} yes="Password set" no="Off" />
              </Fact>
              <Fact term="User ID" className="mono break">
                {user.id}
              </Fact>
            </dl>

            <Section
              id="ak-title"
              title="Access keys"
              action={
                <button
                  type="button"
                  className="button button-primary"
                  onClick={() => void createKey()}
                  disabled={creating}
                >
                  <IconPlus /> {creating ? 'Creating…' : 'Create AccessKey'}
                </button>
              }
            >
              <SectionList
                resource={keys}
                what="access keys"
                empty={
                  <EmptyState title="No access keys" icon={<IconKey />}>
                    Access keys sign API calls (the native API, the Alibaba and Huawei faces). The secret is shown once,
                    when the key is created.
                  </EmptyState>
                }
              >
                {(items) => (
                  <NamedTable
                    label={`Access keys of ${name}`}
                    columns={
                      <>
                        <th scope="col">AccessKey ID</th>
                        <th scope="col">Status</th>
                        <th scope="col">Created</th>
                        <th scope="col" className="col-actions">
                          Actions
                        </th>
                      </>
                    }
                  >
                    {items.map((k) => (
                      <tr key={k.accessKeyId} data-access-key={k.accessKeyId}>
                        <td data-label="AccessKey ID">
                          <span className="mono break cell-main">{k.accessKeyId}</span>
                        </td>
                        <td data-label="Status">
                          <StatusPill on={k.status === 'Active'} yes="Active" no="Inactive" />
                        </td>
                        <td data-label="Created" className="nowrap">
                          {formatTime(k.createdAt)}
                        </td>
                        <td data-label="Actions" className="col-actions">
                          <div className="row-actions">
                            <button
                              type="button"
                              className="link-button"
                              onClick={() => void toggleKey(k)}
                              disabled={busyKey === k.accessKeyId}
                              aria-label={`${k.status === 'Active' ? 'Disable' : 'Enable'} access key ${k.accessKeyId}`}
                            >
                              {k.status === 'Active' ? 'Disable' : 'Enable'}
                            </button>
                            <button
                              type="button"
                              className="link-button danger"
                              onClick={() => setDialog({ type: 'delete-key', key: k })}
                              aria-label={`Delete access key ${k.accessKeyId}`}
                            >
                              Delete
                            </button>
                          </div>
                        </td>
                      </tr>
                    ))}
                  </NamedTable>
                )}
              </SectionList>
            </Section>

            <Section
              id="pol-title"
              title="Policies"
              action={
                user.isAccountAdmin ? null : (
                  <button type="button" className="button" onClick={() => setDialog({ type: 'attach' })}>
                    <IconPlus /> Attach policy
                  </button>
                )
              }
            >
              {user.isAccountAdmin ? (
                <p className="muted">
                  An account administrator may do everything in this account; policies do not limit them.
                </p>
              ) : (
                <SectionList
                  resource={policies}
                  what="the user's policies"
                  empty={
                    <EmptyState title="No policies attached">
                      Without a policy the user may do nothing: every call is refused with Auth.Forbidden.
                    </EmptyState>
                  }
                >
                  {(items) => (
                    <AttachedPolicies
                      label={`Policies of ${name}`}
                      policies={items}
                      onDetach={(p) => setDialog({ type: 'detach', policy: p })}
                      detachLabel={(p) => `Detach ${p.name}`}
                    />
                  )}
                </SectionList>
              )}
            </Section>

            <Section id="grp-title" title="Groups">
              <SectionList
                resource={groups}
                what="the user's groups"
                empty={
                  <p className="muted">
                    Not a member of any group. Add users to groups on a group's page; members also get the group's
                    policies.
                  </p>
                }
              >
                {(items) => (
                  <NamedTable
                    label={`Groups of ${name}`}
                    columns={
                      <>
                        <th scope="col">Group</th>
                        <th scope="col">Description</th>
                      </>
                    }
                  >
                    {items.map((g) => (
                      <tr key={g.id} data-group={g.name}>
                        <td data-label="Group">
                          <span className="cell-main">
                            <Link to={identityPath('groups', g.name)}>{g.name}</Link>
                          </span>
                        </td>
                        <td data-label="Description">
                          <Description text={g.description} />
                        </td>
                      </tr>
                    ))}
                  </NamedTable>
                )}
              </SectionList>
            </Section>
          </>
        )
      }
    </DetailPage>
  );
}
