/**
 * Identity, for account administrators: users (console password, access keys, attached policies, groups), user groups
 * (members and attached policies) and policies.
 */
import { useState } from 'react';
import { api } from '../api/client';
import type { AccessKey, CreatedAccessKey, Group, Policy, User } from '../api/types';
import { Link, navigate, useLocation } from '../app/router';
import { useWho } from '../app/session';
import { useIsSystemAdmin } from '../app/system';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';
import { DeletePolicyDialog } from '../dialogs/DeletePolicyDialog';
import { AccessKeySecretDialog, AddGroupMemberDialog, AttachPolicyDialog, CreateGroupDialog, CreatePolicyDialog, CreateUserDialog, PasswordDialog } from '../dialogs/IdentityDialogs';
import { formatTime } from '../lib/format';
import { useResource } from '../lib/hooks';
import { IconKey, IconPlus, IconUser, IconUsers } from '../ui/Icons';
import { ListPage } from '../ui/ListPage';
import { EmptyState, ErrorState, LoadingState } from '../ui/States';
import { useToasts } from '../ui/Toasts';

function NotAdmin() {
  return (
    <div className="page">
      <h1>Identity</h1>
      <ErrorState title="Only account administrators manage identity" error={new Error('Ask an administrator of this account to manage users, access keys and policies.')} />
    </div>
  );
}

export function Tabs() {
  const isSystemAdmin = useIsSystemAdmin();
  return (
    <nav className="identity-tabs" aria-label="Identity">
      <IdTab to="/identity/users">Users</IdTab>
      <IdTab to="/identity/groups">Groups</IdTab>
      <IdTab to="/identity/policies">Policies</IdTab>
      {isSystemAdmin ? <IdTab to="/identity/accounts">Accounts</IdTab> : null}
    </nav>
  );
}

function IdTab({ to, children }: { to: string; children: string }) {
  const { path } = useLocation();
  const active = path === to || path.startsWith(`${to}/`);
  return <Link to={to} aria-current={active ? 'page' : undefined}>{children}</Link>;
}

function StatusPill({ on, yes, no }: { on: boolean; yes: string; no: string }) {
  return <span className={`pill pill-${on ? 'green' : 'grey'}`}><span className="dot" aria-hidden />{on ? yes : no}</span>;
}

type UsersDialog = { type: 'create' } | { type: 'delete'; user: User } | null;

export function UsersPage() {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<UsersDialog>(null);
  const list = useResource(() => api.users(), [], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const users = list.data ?? [];

  return (
    <ListPage
      title="Users"
      noun="user"
      context={who.accountName}
      list={list}
      tabs={<Tabs />}
      createLabel="Create User"
      onCreate={() => setDialog({ type: 'create' })}
      emptyIcon={<IconUser />}
      emptyText="Create users for the people and tools that work in this account, then give them access keys and policies."
      dialogs={
        <>
          {dialog?.type === 'create' ? (
            <CreateUserDialog onClose={() => setDialog(null)} onCreated={(u) => { list.reload(); toasts.push({ kind: 'success', title: `User ${u.name} created`, body: u.consoleSignIn ? 'They can sign in to the console with the password you set.' : 'Give them an access key or a console password.' }); }} />
          ) : null}
          {dialog?.type === 'delete' ? (
            <ConfirmDialog title={`Delete user ${dialog.user.name}?`} confirmLabel="Delete user" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.deleteUser(dialog.user.name); list.reload(); toasts.push({ kind: 'success', title: `User ${dialog.user.name} deleted` }); }}>
              <p>The user's access keys stop working and their console sessions end. Their audit entries stay.</p>
            </ConfirmDialog>
          ) : null}
        </>
      }
    >
      <table className="table" aria-label="Users">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Console sign-in</th>
            <th scope="col">Created</th>
            <th scope="col" className="col-actions">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-user={u.name}>
              <td data-label="User"><div className="cell-main"><Link to={`/identity/users/${encodeURIComponent(u.name)}`}>{u.name}</Link></div>{u.name === who.userName ? <div className="muted small">you</div> : null}</td>
              <td data-label="Role">{u.isAccountAdmin ? 'Administrator' : 'User'}</td>
              <td data-label="Console sign-in"><StatusPill on={u.consoleSignIn} yes="Password set" no="Off" /></td>
              <td data-label="Created" className="nowrap">{formatTime(u.createdAt)}</td>
              <td data-label="Actions" className="col-actions">
                <div className="row-actions">
                  <Link to={`/identity/users/${encodeURIComponent(u.name)}`} className="link-button" aria-label={`Manage ${u.name}`}>Manage</Link>
                  <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'delete', user: u })} aria-label={`Delete ${u.name}`} disabled={u.name === who.userName} title={u.name === who.userName ? 'You cannot delete yourself' : undefined}>Delete</button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListPage>
  );
}

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

  const createKey = async () => {
    setCreating(true);
    try {
      const created = await api.createAccessKey(name);
      keys.reload();
      setDialog({ type: 'secret', created });
    } catch (err) {
      toasts.push({ kind: 'error', title: 'Cannot create an access key', body: err instanceof Error ? err.message : String(err) });
    } finally {
      setCreating(false);
    }
  };
  const toggleKey = async (k: AccessKey) => {
    const status = k.status === 'Active' ? 'Inactive' : 'Active';
    setBusyKey(k.accessKeyId);
    try {
      await api.setAccessKeyStatus(k.accessKeyId, status);
      keys.reload();
      toasts.push({ kind: 'success', title: `Access key ${status === 'Active' ? 'enabled' : 'disabled'}`, body: k.accessKeyId });
    } catch (err) {
      toasts.push({ kind: 'error', title: 'Cannot change the access key', body: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusyKey(null);
    }
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className="muted small"><Link to="/identity/users">Users</Link> ›</p>
          <h1>{name}</h1>
          {user ? <p className="muted">{user.isAccountAdmin ? 'Account administrator' : 'User'} · created {formatTime(user.createdAt)}</p> : null}
        </div>
        {user ? (
          <div className="page-actions">
            <button type="button" className="button" onClick={() => setDialog({ type: 'password' })}>{user.consoleSignIn ? 'Change console password' : 'Set console password'}</button>
          </div>
        ) : null}
      </header>
      <Tabs />

      {users.error && !users.data ? (
        <ErrorState title="Cannot load the user" error={users.error} onRetry={users.reload} />
      ) : users.loading ? (
        <LoadingState label="Loading the user…" />
      ) : !user ? (
        <EmptyState title={`No user named ${name}`} icon={<IconUser />} action={<button type="button" className="button" onClick={() => navigate('/identity/users')}>Back to Users</button>}>It may have been deleted.</EmptyState>
      ) : (
        <>
          <dl className="summary">
            <div><dt>Console sign-in</dt><dd><StatusPill on={user.consoleSignIn} yes="Password set" no="Off" /></dd></div>
            <div><dt>User ID</dt><dd className="mono break">{user.id}</dd></div>
          </dl>

          <section aria-labelledby="ak-title">
            <div className="section-head">
              <h2 id="ak-title">Access keys</h2>
              <button type="button" className="button button-primary" onClick={() => void createKey()} disabled={creating}><IconPlus /> {creating ? 'Creating…' : 'Create AccessKey'}</button>
            </div>
            {keys.error && !keys.data ? (
              <ErrorState title="Cannot load access keys" error={keys.error} onRetry={keys.reload} />
            ) : keys.loading ? (
              <LoadingState label="Loading access keys…" />
            ) : (keys.data ?? []).length === 0 ? (
              <EmptyState title="No access keys" icon={<IconKey />}>Access keys sign API calls (the native API, the Alibaba and Huawei faces). The secret is shown once, when the key is created.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label={`Access keys of ${name}`}>
                  <thead>
                    <tr>
                      <th scope="col">AccessKey ID</th>
                      <th scope="col">Status</th>
                      <th scope="col">Created</th>
                      <th scope="col" className="col-actions">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {keys.data!.map((k) => (
                      <tr key={k.accessKeyId} data-access-key={k.accessKeyId}>
                        <td data-label="AccessKey ID"><span className="mono break cell-main">{k.accessKeyId}</span></td>
                        <td data-label="Status"><StatusPill on={k.status === 'Active'} yes="Active" no="Inactive" /></td>
                        <td data-label="Created" className="nowrap">{formatTime(k.createdAt)}</td>
                        <td data-label="Actions" className="col-actions">
                          <div className="row-actions">
                            <button type="button" className="link-button" onClick={() => void toggleKey(k)} disabled={busyKey === k.accessKeyId} aria-label={`${k.status === 'Active' ? 'Disable' : 'Enable'} access key ${k.accessKeyId}`}>
                              {k.status === 'Active' ? 'Disable' : 'Enable'}
                            </button>
                            <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'delete-key', key: k })} aria-label={`Delete access key ${k.accessKeyId}`}>Delete</button>
                          </div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="pol-title">
            <div className="section-head">
              <h2 id="pol-title">Policies</h2>
              {user.isAccountAdmin ? null : <button type="button" className="button" onClick={() => setDialog({ type: 'attach' })}><IconPlus /> Attach policy</button>}
            </div>
            {user.isAccountAdmin ? (
              <p className="muted">An account administrator may do everything in this account; policies do not limit them.</p>
            ) : policies.error && !policies.data ? (
              <ErrorState title="Cannot load the user's policies" error={policies.error} onRetry={policies.reload} />
            ) : policies.loading ? (
              <LoadingState label="Loading policies…" />
            ) : (policies.data ?? []).length === 0 ? (
              <EmptyState title="No policies attached">Without a policy the user may do nothing: every call is refused with Auth.Forbidden.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label={`Policies of ${name}`}>
                  <thead>
                    <tr><th scope="col">Policy</th><th scope="col">Description</th><th scope="col" className="col-actions">Actions</th></tr>
                  </thead>
                  <tbody>
                    {policies.data!.map((p) => (
                      <tr key={p.id} data-policy={p.name}>
                        <td data-label="Policy"><span className="cell-main">{p.name}</span></td>
                        <td data-label="Description">{p.description || <span className="muted">—</span>}</td>
                        <td data-label="Actions" className="col-actions">
                          <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'detach', policy: p })} aria-label={`Detach ${p.name}`}>Detach</button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="grp-title">
            <div className="section-head">
              <h2 id="grp-title">Groups</h2>
            </div>
            {groups.error && !groups.data ? (
              <ErrorState title="Cannot load the user's groups" error={groups.error} onRetry={groups.reload} />
            ) : groups.loading ? (
              <LoadingState label="Loading groups…" />
            ) : (groups.data ?? []).length === 0 ? (
              <p className="muted">Not a member of any group. Add users to groups on a group's page; members also get the group's policies.</p>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label={`Groups of ${name}`}>
                  <thead>
                    <tr><th scope="col">Group</th><th scope="col">Description</th></tr>
                  </thead>
                  <tbody>
                    {groups.data!.map((g) => (
                      <tr key={g.id} data-group={g.name}>
                        <td data-label="Group"><span className="cell-main"><Link to={`/identity/groups/${encodeURIComponent(g.name)}`}>{g.name}</Link></span></td>
                        <td data-label="Description">{g.description || <span className="muted">—</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}

      {dialog?.type === 'password' && user ? (
        <PasswordDialog user={user} onClose={() => setDialog(null)} onDone={(on) => { users.reload(); toasts.push({ kind: 'success', title: on ? `Console password of ${name} set` : `Console sign-in of ${name} turned off`, body: 'Their console sessions were ended.' }); }} />
      ) : null}
      {dialog?.type === 'secret' ? <AccessKeySecretDialog created={dialog.created} userName={name} onClose={() => setDialog(null)} /> : null}
      {dialog?.type === 'delete-key' ? (
        <ConfirmDialog title="Delete access key?" confirmLabel="Delete access key" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.deleteAccessKey(dialog.key.accessKeyId); keys.reload(); toasts.push({ kind: 'success', title: 'Access key deleted', body: dialog.key.accessKeyId }); }}>
          <p>Calls signed with <span className="mono">{dialog.key.accessKeyId}</span> will be refused. This cannot be undone; to pause a key, disable it instead.</p>
        </ConfirmDialog>
      ) : null}
      {dialog?.type === 'attach' ? (
        <AttachPolicyDialog userName={name} attached={(policies.data ?? []).map((p) => p.name)} onClose={() => setDialog(null)} onAttached={(p) => { policies.reload(); toasts.push({ kind: 'success', title: `Policy ${p} attached to ${name}` }); }} />
      ) : null}
      {dialog?.type === 'detach' ? (
        <ConfirmDialog title={`Detach ${dialog.policy.name}?`} confirmLabel="Detach" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.detachPolicy(name, dialog.policy.name); policies.reload(); toasts.push({ kind: 'success', title: `Policy ${dialog.policy.name} detached from ${name}` }); }}>
          <p>{name} loses what this policy allows at once.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

export function PoliciesPage() {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<{ type: 'create' } | { type: 'delete'; policy: Policy } | null>(null);
  const list = useResource(() => api.policies(), [], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const items = list.data ?? [];

  return (
    <ListPage
      title="Policies"
      noun={['policy', 'policies']}
      context={who.accountName}
      list={list}
      tabs={<Tabs />}
      createLabel="Create Policy"
      onCreate={() => setDialog({ type: 'create' })}
      emptyText="A policy lists what users may do (Effect, Action, Resource, Condition). Attach it to users or groups on their page."
      dialogs={
        <>
          {dialog?.type === 'create' ? (
            <CreatePolicyDialog onClose={() => setDialog(null)} onCreated={(p) => { list.reload(); toasts.push({ kind: 'success', title: `Policy ${p.name} created`, body: 'Attach it to users on their page.' }); }} />
          ) : null}
          {dialog?.type === 'delete' ? (
            <DeletePolicyDialog name={dialog.policy.name} onClose={() => setDialog(null)} onDeleted={() => { list.reload(); toasts.push({ kind: 'success', title: `Policy ${dialog.policy.name} deleted` }); }} />
          ) : null}
        </>
      }
    >
      <table className="table" aria-label="Policies">
        <thead>
          <tr><th scope="col">Policy</th><th scope="col">Document</th><th scope="col">Created</th><th scope="col" className="col-actions">Actions</th></tr>
        </thead>
        <tbody>
          {items.map((p) => (
            <tr key={p.id} data-policy={p.name}>
              <td data-label="Policy"><div className="cell-main">{p.name}</div>{p.description ? <div className="muted small">{p.description}</div> : null}</td>
              <td data-label="Document">
                <details>
                  <summary>{summarize(p.document)}</summary>
                  <pre className="policy-doc mono">{JSON.stringify(p.document, null, 2)}</pre>
                </details>
              </td>
              <td data-label="Created" className="nowrap">{formatTime(p.createdAt)}</td>
              <td data-label="Actions" className="col-actions">
                <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'delete', policy: p })} aria-label={`Delete ${p.name}`}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListPage>
  );
}

type GroupsDialog = { type: 'create' } | { type: 'delete'; group: Group } | null;

export function GroupsPage() {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<GroupsDialog>(null);
  const list = useResource(() => api.groups(), [], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const items = list.data ?? [];

  return (
    <ListPage
      title="Groups"
      noun="group"
      context={who.accountName}
      list={list}
      tabs={<Tabs />}
      createLabel="Create Group"
      onCreate={() => setDialog({ type: 'create' })}
      emptyIcon={<IconUsers />}
      emptyText="A group's members get the policies attached to it, in addition to their own. An explicit Deny from any of them wins."
      dialogs={
        <>
          {dialog?.type === 'create' ? (
            <CreateGroupDialog onClose={() => setDialog(null)} onCreated={(g) => { list.reload(); toasts.push({ kind: 'success', title: `Group ${g.name} created`, body: 'Add members and attach policies on its page.' }); }} />
          ) : null}
          {dialog?.type === 'delete' ? (
            <ConfirmDialog title={`Delete group ${dialog.group.name}?`} confirmLabel="Delete group" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.deleteGroup(dialog.group.name); list.reload(); toasts.push({ kind: 'success', title: `Group ${dialog.group.name} deleted` }); }}>
              <p>Its members lose what its policies allow at once. The users and policies themselves stay.</p>
            </ConfirmDialog>
          ) : null}
        </>
      }
    >
      <table className="table" aria-label="Groups">
        <thead>
          <tr><th scope="col">Group</th><th scope="col" className="num">Members</th><th scope="col" className="num">Policies</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col" className="col-actions">Actions</th></tr>
        </thead>
        <tbody>
          {items.map((g) => (
            <tr key={g.id} data-group={g.name}>
              <td data-label="Group"><div className="cell-main"><Link to={`/identity/groups/${encodeURIComponent(g.name)}`}>{g.name}</Link></div></td>
              <td data-label="Members" className="num" data-testid="member-count">{g.memberCount ?? '—'}</td>
              <td data-label="Policies" className="num" data-testid="policy-count">{g.policyCount ?? '—'}</td>
              <td data-label="Description">{g.description || <span className="muted">—</span>}</td>
              <td data-label="Created" className="nowrap">{formatTime(g.createdAt)}</td>
              <td data-label="Actions" className="col-actions">
                <div className="row-actions">
                  <Link to={`/identity/groups/${encodeURIComponent(g.name)}`} className="link-button" aria-label={`Manage group ${g.name}`}>Manage</Link>
                  <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'delete', group: g })} aria-label={`Delete group ${g.name}`}>Delete</button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListPage>
  );
}

type GroupDetailDialog = { type: 'add' } | { type: 'remove'; user: string } | { type: 'attach' } | { type: 'detach'; policy: string } | null;

export function GroupDetailPage({ name }: { name: string }) {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<GroupDetailDialog>(null);
  const detail = useResource(() => api.group(name), [name], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const d = detail.data;
  const notFound = detail.error && (detail.error as { code?: string }).code === 'Group.NotFound';

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className="muted small"><Link to="/identity/groups">Groups</Link> ›</p>
          <h1>{name}</h1>
          {d ? <p className="muted">{d.group.description ? `${d.group.description} · ` : ''}created {formatTime(d.group.createdAt)}</p> : null}
        </div>
      </header>
      <Tabs />

      {notFound ? (
        <EmptyState title={`No group named ${name}`} icon={<IconUsers />} action={<button type="button" className="button" onClick={() => navigate('/identity/groups')}>Back to Groups</button>}>It may have been deleted.</EmptyState>
      ) : detail.error && !d ? (
        <ErrorState title="Cannot load the group" error={detail.error} onRetry={detail.reload} />
      ) : detail.loading || !d ? (
        <LoadingState label="Loading the group…" />
      ) : (
        <>
          <section aria-labelledby="members-title">
            <div className="section-head">
              <h2 id="members-title">Members</h2>
              <button type="button" className="button" onClick={() => setDialog({ type: 'add' })}><IconPlus /> Add member</button>
            </div>
            {d.members.length === 0 ? (
              <EmptyState title="No members" icon={<IconUser />}>Members get the policies attached to this group on their next request.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label={`Members of ${name}`}>
                  <thead>
                    <tr><th scope="col">User</th><th scope="col">Role</th><th scope="col" className="col-actions">Actions</th></tr>
                  </thead>
                  <tbody>
                    {d.members.map((u) => (
                      <tr key={u.id} data-member={u.name}>
                        <td data-label="User"><span className="cell-main"><Link to={`/identity/users/${encodeURIComponent(u.name)}`}>{u.name}</Link></span></td>
                        <td data-label="Role">{u.isAccountAdmin ? 'Administrator (policies do not limit them)' : 'User'}</td>
                        <td data-label="Actions" className="col-actions">
                          <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'remove', user: u.name })} aria-label={`Remove ${u.name} from ${name}`}>Remove</button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="gpol-title">
            <div className="section-head">
              <h2 id="gpol-title">Policies</h2>
              <button type="button" className="button" onClick={() => setDialog({ type: 'attach' })}><IconPlus /> Attach policy</button>
            </div>
            {d.policies.length === 0 ? (
              <EmptyState title="No policies attached">Attach policies to give every member what they allow.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label={`Policies of group ${name}`}>
                  <thead>
                    <tr><th scope="col">Policy</th><th scope="col">Description</th><th scope="col" className="col-actions">Actions</th></tr>
                  </thead>
                  <tbody>
                    {d.policies.map((p) => (
                      <tr key={p.id} data-policy={p.name}>
                        <td data-label="Policy"><span className="cell-main">{p.name}</span></td>
                        <td data-label="Description">{p.description || <span className="muted">—</span>}</td>
                        <td data-label="Actions" className="col-actions">
                          <button type="button" className="link-button danger" onClick={() => setDialog({ type: 'detach', policy: p.name })} aria-label={`Detach ${p.name} from ${name}`}>Detach</button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}

      {dialog?.type === 'add' && d ? (
        <AddGroupMemberDialog groupName={name} members={d.members.map((u) => u.name)} onClose={() => setDialog(null)} onAdded={(u) => { detail.reload(); toasts.push({ kind: 'success', title: `${u} added to ${name}` }); }} />
      ) : null}
      {dialog?.type === 'remove' ? (
        <ConfirmDialog title={`Remove ${dialog.user} from ${name}?`} confirmLabel="Remove" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.removeGroupMember(name, dialog.user); detail.reload(); toasts.push({ kind: 'success', title: `${dialog.user} removed from ${name}` }); }}>
          <p>{dialog.user} loses what this group's policies allow at once (their own policies and other groups stay).</p>
        </ConfirmDialog>
      ) : null}
      {dialog?.type === 'attach' && d ? (
        <AttachPolicyDialog userName={name} attached={d.policies.map((p) => p.name)} attach={(policy) => api.attachGroupPolicy(name, policy)} onClose={() => setDialog(null)} onAttached={(p) => { detail.reload(); toasts.push({ kind: 'success', title: `Policy ${p} attached to ${name}` }); }} />
      ) : null}
      {dialog?.type === 'detach' ? (
        <ConfirmDialog title={`Detach ${dialog.policy} from ${name}?`} confirmLabel="Detach" danger onClose={() => setDialog(null)} onConfirm={async () => { await api.detachGroupPolicy(name, dialog.policy); detail.reload(); toasts.push({ kind: 'success', title: `Policy ${dialog.policy} detached from ${name}` }); }}>
          <p>Every member of {name} loses what this policy allows at once, unless they have it another way.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** "Allow ecs:DescribeKeyPairs · 1 statement" from a document. */
function summarize(doc: unknown): string {
  const st = (doc as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(st)) return 'View document';
  const parts = st.slice(0, 2).map((s: { Effect?: unknown; Action?: unknown }) => `${String(s?.Effect ?? '?')} ${[s?.Action].flat().slice(0, 3).map(String).join(', ')}`);
  return `${parts.join('; ')}${st.length > 2 ? ` … (${st.length} statements)` : ''}`;
}
