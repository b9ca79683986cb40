/** User groups: the list (create, delete) and the page of one group (members and attached policies). */
import { useState } from 'react';
import { api } from '../../api/client';
import type { Group } from '../../api/types';
import { Link } from '../../app/router';
import { useWho } from '../../app/session';
import { ConfirmDialog } from '../../dialogs/ConfirmDialog';
import { AddGroupMemberDialog, CreateGroupDialog } from '../../dialogs/GroupDialogs';
import { AttachPolicyDialog } from '../../dialogs/PolicyDialogs';
import { formatTime } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { IconPlus, IconUser, IconUsers } from '../../ui/Icons';
import { EmptyState } from '../../ui/States';
import { useToasts } from '../../ui/Toasts';
import { AttachedPolicies } from './AttachedPolicies';
import { IdentityListPage } from './IdentityList';
import { ConfirmDelete, ManageDeleteCell } from './IdentityRow';
import { Description, DetailPage, identityPath, NamedTable, NotAdmin, Section } from './IdentityShell';

export function GroupsPage() {
  const toasts = useToasts();
  return (
    <IdentityListPage<Group>
      title="Groups"
      noun="group"
      createLabel="Create Group"
      emptyIcon={<IconUsers />}
      emptyText="A group's members get the policies attached to it, in addition to their own. An explicit Deny from any of them wins."
      load={() => api.groups()}
      createDialog={(close, created) => (
        <CreateGroupDialog
          onClose={close}
          onCreated={(g) => {
            created();
            toasts.push({
              kind: 'success',
              title: `Group ${g.name} created`,
              body: 'Add members and attach policies on its page.',
            });
          }}
        />
      )}
      deleteDialog={(group, close, deleted) => (
        <ConfirmDelete noun="group" name={group.name} remove={api.deleteGroup} onClose={close} onDeleted={deleted}>
          <p>Its members lose what its policies allow at once. The users and policies themselves stay.</p>
        </ConfirmDelete>
      )}
      columns={
        <>
          <th scope="col">Group</th>
          <th scope="col" className="num">
            Members
          </th>
          <th scope="col" className="num">
            Policies
          </th>
          <th scope="col">Description</th>
          <th scope="col">Created</th>
          <th scope="col" className="col-actions">
            Actions
          </th>
        </>
      }
      row={(g, askDelete) => (
        <tr key={g.id} data-group={g.name}>
          <td data-label="Group">
            <div className="cell-main">
              <Link to={identityPath('groups', g.name)}>{g.name}</Link>
            </div>
          </td>
          <td data-label="Members" className="num" data-testid="member-count">
            {g.memberCount ?? '—'}
          </td>
          <td data-label="Policies" className="num" data-testid="policy-count">
            {g.policyCount ?? '—'}
          </td>
          <td data-label="Description">
            <Description text={g.description} />
          </td>
          <td data-label="Created" className="nowrap">
            {formatTime(g.createdAt)}
          </td>
          <ManageDeleteCell kind="groups" name={g.name} label={`group ${g.name}`} onDelete={askDelete} />
        </tr>
      )}
    />
  );
}

type GroupDetailDialog =
  | { type: 'add' }
  | { type: 'remove'; user: string }
  | { type: 'attach' }
  | { type: 'detach'; policy: string }
  | null;

export function GroupDetailPage({ name }: { name: string }) {
  const who = useWho();
  const toasts = useToasts();
  const [dialog, setDialog] = useState<GroupDetailDialog>(null);
  const detail = useResource(() => api.group(name), [name], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const d = detail.data;
  const close = () => setDialog(null);
  const done = (title: string) => {
    detail.reload();
    toasts.push({ kind: 'success', title });
  };

  return (
    <DetailPage
      kind="group"
      name={name}
      subtitle={
        d ? `${d.group.description ? `${d.group.description} · ` : ''}created ${formatTime(d.group.createdAt)}` : null
      }
      resource={detail}
      missing={!!detail.error && (detail.error as { code?: string }).code === 'Group.NotFound'}
      icon={<IconUsers />}
      dialogs={
        <>
          {dialog?.type === 'add' && d ? (
            <AddGroupMemberDialog
              groupName={name}
              members={d.members.map((u) => u.name)}
              onClose={close}
              onAdded={(u) => done(`${u} added to ${name}`)}
            />
          ) : null}
          {dialog?.type === 'remove' ? (
            <ConfirmDialog
              title={`Remove ${dialog.user} from ${name}?`}
              confirmLabel="Remove"
              danger
              onClose={close}
              onConfirm={async () => {
                await api.removeGroupMember(name, dialog.user);
                done(`${dialog.user} removed from ${name}`);
              }}
            >
              <p>
                {dialog.user} loses what this group's policies allow at once (their own policies and other groups stay).
              </p>
            </ConfirmDialog>
          ) : null}
          {dialog?.type === 'attach' && d ? (
            <AttachPolicyDialog
              userName={name}
              attached={d.policies.map((p) => p.name)}
              attach={(policy) => api.attachGroupPolicy(name, policy)}
              onClose={close}
              onAttached={(p) => done(`Policy ${p} attached to ${name}`)}
            />
          ) : null}
          {dialog?.type === 'detach' ? (
            <ConfirmDialog
              title={`Detach ${dialog.policy} from ${name}?`}
              confirmLabel="Detach"
              danger
              onClose={close}
              onConfirm={async () => {
                await api.detachGroupPolicy(name, dialog.policy);
                done(`Policy ${dialog.policy} detached from ${name}`);
              }}
            >
              <p>Every member of {name} loses what this policy allows at once, unless they have it another way.</p>
            </ConfirmDialog>
          ) : null}
        </>
      }
    >
      {() =>
        d && (
          <>
            <Section
              id="members-title"
              title="Members"
              action={
                <button type="button" className="button" onClick={() => setDialog({ type: 'add' })}>
                  <IconPlus /> Add member
                </button>
              }
            >
              {d.members.length === 0 ? (
                <EmptyState title="No members" icon={<IconUser />}>
                  Members get the policies attached to this group on their next request.
                </EmptyState>
              ) : (
                <NamedTable
                  label={`Members of ${name}`}
                  columns={
                    <>
                      <th scope="col">User</th>
                      <th scope="col">Role</th>
                      <th scope="col" className="col-actions">
                        Actions
                      </th>
                    </>
                  }
                >
                  {d.members.map((u) => (
                    <tr key={u.id} data-member={u.name}>
                      <td data-label="User">
                        <span className="cell-main">
                          <Link to={identityPath('users', u.name)}>{u.name}</Link>
                        </span>
                      </td>
                      <td data-label="Role">
                        {u.isAccountAdmin ? 'Administrator (policies do not limit them)' : 'User'}
                      </td>
                      <td data-label="Actions" className="col-actions">
                        <button
                          type="button"
                          className="link-button danger"
                          onClick={() => setDialog({ type: 'remove', user: u.name })}
                          aria-label={`Remove ${u.name} from ${name}`}
                        >
                          Remove
                        </button>
                      </td>
                    </tr>
                  ))}
                </NamedTable>
              )}
            </Section>

            <Section
              id="gpol-title"
              title="Policies"
              action={
                <button type="button" className="button" onClick={() => setDialog({ type: 'attach' })}>
                  <IconPlus /> Attach policy
                </button>
              }
            >
              {d.policies.length === 0 ? (
                <EmptyState title="No policies attached">
                  Attach policies to give every member what they allow.
                </EmptyState>
              ) : (
                <AttachedPolicies
                  label={`Policies of group ${name}`}
                  policies={d.policies}
                  onDetach={(p) => setDialog({ type: 'detach', policy: p.name })}
                  detachLabel={(p) => `Detach ${p.name} from ${name}`}
                />
              )}
            </Section>
          </>
        )
      }
    </DetailPage>
  );
}
