/** The account's users: the list (create, delete) and the page of one user (see UserDetail). */
import { api } from '../../api/client';
import type { User } from '../../api/types';
import { Link } from '../../app/router';
import { useWho } from '../../app/session';
import { CreateUserDialog } from '../../dialogs/UserDialogs';
import { formatTime } from '../../lib/format';
import { IconUser } from '../../ui/Icons';
import { useToasts } from '../../ui/Toasts';
import { IdentityListPage } from './IdentityList';
import { ConfirmDelete, ManageDeleteCell } from './IdentityRow';
import { identityPath, StatusPill } from './IdentityShell';

export function UsersPage() {
  const who = useWho();
  const toasts = useToasts();
  return (
    <IdentityListPage<User>
      title="Users"
      noun="user"
      createLabel="Create User"
      emptyIcon={<IconUser />}
      emptyText="Create users for the people and tools that work in this account, then give them access keys and policies."
      load={() => api.users()}
      createDialog={(close, created) => (
        <CreateUserDialog
          onClose={close}
          onCreated={(u) => {
            created();
            toasts.push({
              kind: 'success',
              title: `User ${u.name} created`,
              body: u.consoleSignIn
                ? 'They can sign in to the console with the password you set.'
                : 'Give them an access key or a console password.',
            });
          }}
        />
      )}
      deleteDialog={(user, close, deleted) => (
        <ConfirmDelete noun="user" name={user.name} remove={api.deleteUser} onClose={close} onDeleted={deleted}>
          <p>The user's access keys stop working and their console sessions end. Their audit entries stay.</p>
        </ConfirmDelete>
      )}
      columns={
        <>
          <th scope="col">User</th>
          <th scope="col">Role</th>
          <th scope="col">Console sign-in</th>
          <th scope="col">Created</th>
          <th scope="col" className="col-actions">
            Actions
          </th>
        </>
      }
      row={(u, askDelete) => (
        <tr key={u.id} data-user={u.name}>
          <td data-label="User">
            <div className="cell-main">
              <Link to={identityPath('users', u.name)}>{u.name}</Link>
            </div>
            {u.name === who.userName ? <div className="muted small">you</div> : null}
          </td>
          <td data-label="Role">{u.isAccountAdmin ? 'Administrator' : 'User'}</td>
          <td data-label="Console sign-in">
            <StatusPill on={u.consoleSignIn} yes="Password set" no="Off" />
          </td>
          <td data-label="Created" className="nowrap">
            {formatTime(u.createdAt)}
          </td>
          <ManageDeleteCell
            kind="users"
            name={u.name}
            label={u.name}
            onDelete={askDelete}
            cannotDelete={u.name === who.userName ? 'You cannot delete yourself' : undefined}
          />
        </tr>
      )}
    />
  );
}
