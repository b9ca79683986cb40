/**
 * The list page of one kind of identity (users, groups, policies): the account's items in a table, a create dialog
 * and a delete dialog per item. Each kind gives its columns, its row and its two dialogs.
 */
import { type ReactNode, useState } from 'react';
import { useWho } from '../../app/session';
import { useResource } from '../../lib/hooks';
import { ListPage } from '../../ui/ListPage';
import { NotAdmin, Tabs } from './IdentityShell';

export interface IdentityListProps<T> {
  title: string;
  noun: string | [string, string];
  createLabel: string;
  emptyIcon?: ReactNode;
  emptyText: ReactNode;
  load: () => Promise<T[]>;
  /** The create dialog; `created` is called after the item was created (the list reloads). */
  createDialog: (close: () => void, created: () => void) => ReactNode;
  /** The delete dialog of one item; `deleted` is called after it was deleted (the list reloads). */
  deleteDialog: (item: T, close: () => void, deleted: () => void) => ReactNode;
  /** The table's column heads. */
  columns: ReactNode;
  /** One row; `askDelete` opens the item's delete dialog. */
  row: (item: T, askDelete: () => void) => ReactNode;
}

export function IdentityListPage<T>({
  title,
  noun,
  createLabel,
  emptyIcon,
  emptyText,
  load,
  createDialog,
  deleteDialog,
  columns,
  row,
}: IdentityListProps<T>) {
  const who = useWho();
  const [dialog, setDialog] = useState<{ type: 'create' } | { type: 'delete'; item: T } | null>(null);
  const list = useResource(load, [], { keepPrevious: true });
  if (!who.isAccountAdmin) return <NotAdmin />;
  const close = () => setDialog(null);
  return (
    <ListPage
      title={title}
      noun={noun}
      context={who.accountName}
      list={list}
      tabs={<Tabs />}
      createLabel={createLabel}
      onCreate={() => setDialog({ type: 'create' })}
      emptyIcon={emptyIcon}
      emptyText={emptyText}
      dialogs={
        dialog?.type === 'create'
          ? createDialog(close, list.reload)
          : dialog?.type === 'delete'
            ? deleteDialog(dialog.item, close, list.reload)
            : null
      }
    >
      <table className="table" aria-label={title}>
        <thead>
          <tr>{columns}</tr>
        </thead>
        <tbody>{(list.data ?? []).map((item) => row(item, () => setDialog({ type: 'delete', item })))}</tbody>
      </table>
    </ListPage>
  );
}
