/** What the users and groups lists share per row: the Manage / Delete buttons and the delete confirmation. */
import type { ReactNode } from 'react';
import { Link } from '../../app/router';
import { ConfirmDialog } from '../../dialogs/ConfirmDialog';
import { useToasts } from '../../ui/Toasts';
import { identityPath } from './IdentityShell';

/** The actions cell: a link to the item's page and a button that asks before deleting it. */
export function ManageDeleteCell({
  kind,
  name,
  label,
  onDelete,
  cannotDelete,
}: {
  kind: 'users' | 'groups';
  name: string;
  /** How the buttons name the item to screen readers, e.g. "group admins". */
  label: string;
  onDelete: () => void;
  /** Why this item cannot be deleted, when it cannot. */
  cannotDelete?: string;
}) {
  return (
    <td data-label="Actions" className="col-actions">
      <div className="row-actions">
        <Link to={identityPath(kind, name)} className="link-button" aria-label={`Manage ${label}`}>
          Manage
        </Link>
        <button
          type="button"
          className="link-button danger"
          onClick={onDelete}
          aria-label={`Delete ${label}`}
          disabled={cannotDelete !== undefined}
          title={cannotDelete}
        >
          Delete
        </button>
      </div>
    </td>
  );
}

/** "Delete user alice?": on confirm it deletes, reports the list as changed and says so in a toast. */
export function ConfirmDelete({
  noun,
  name,
  remove,
  onClose,
  onDeleted,
  children,
}: {
  noun: 'user' | 'group';
  name: string;
  remove: (name: string) => Promise<unknown>;
  onClose: () => void;
  onDeleted: () => void;
  children: ReactNode;
}) {
  const toasts = useToasts();
  const Noun = noun === 'user' ? 'User' : 'Group';
  return (
    <ConfirmDialog
      title={`Delete ${noun} ${name}?`}
      confirmLabel={`Delete ${noun}`}
      danger
      onClose={onClose}
      onConfirm={async () => {
        await remove(name);
        onDeleted();
        toasts.push({ kind: 'success', title: `${Noun} ${name} deleted` });
      }}
    >
      {children}
    </ConfirmDialog>
  );
}
