/** Key pairs of the selected region: create, import, bind, unbind (transfer lists), tags, move to a resource group, escrow, delete. */
import { type FormEvent, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { KeyPair } from '../api/types';
import { Link } from '../app/router';
import { useScope } from '../app/scope';
import { CreateKeyPairDialog } from '../dialogs/CreateKeyPairDialog';
import { DeleteKeyPairDialog } from '../dialogs/DeleteKeyPairDialog';
import { EscrowDialog } from '../dialogs/EscrowPanel';
import { ImportKeyPairDialog } from '../dialogs/ImportKeyPairDialog';
import { MoveToGroupDialog } from '../dialogs/MoveToGroupDialog';
import { TagsDialog } from '../dialogs/TagsDialog';
import { TransferDialog } from '../dialogs/TransferDialog';
import { TagFilter, TagPills } from '../ui/TagFilter';
import { formatTime, plural } from '../lib/format';
import { useDebounced, useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconKey, IconPlus, IconSearch, IconUpload } from '../ui/Icons';
import { NoMatch, RefreshButton, ResourceView } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { EmptyState } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { DataTable } from '../ui/Table';

type DialogState =
  | { type: 'create' | 'import' }
  | { type: 'bind' | 'unbind' | 'delete' | 'tags' | 'escrow' | 'move'; keyPair: KeyPair }
  | null;

export function KeyPairsPage() {
  const { regionId, groupId, regionName, groupName } = useScope();
  const toasts = useToasts();
  const [search, setSearch] = useState('');
  const [committed, setCommitted] = useState('');
  const debounced = useDebounced(search.trim(), 300);
  useEffect(() => setCommitted(debounced), [debounced]);
  const [tagFilter, setTagFilter] = useState('');
  const { offset, limit, pager } = usePaging(20, [regionId, groupId, committed, tagFilter]);
  const [dialog, setDialog] = useState<DialogState>(null);
  /** Bumped after a change so bound counts are read again. */
  const [version, setVersion] = useState(0);

  const list = useResource(
    () =>
      api.keyPairs(regionId, {
        name: committed ? `*${committed}*` : undefined,
        resourceGroupId: groupId || undefined,
        tag: tagFilter ? [tagFilter] : undefined,
        offset,
        limit,
      }),
    [regionId, groupId, committed, tagFilter, offset, limit, version],
    { keepPrevious: true },
  );
  const changed = () => {
    setVersion((v) => v + 1);
  };
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setCommitted(search.trim());
  };

  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Key Pairs</h1>
          <p className="muted">
            {regionName(regionId)}
            {groupId ? ` · ${groupName(groupId)}` : ''} · {list.data ? plural(total, 'key pair') : 'loading…'}
          </p>
        </div>
        <div className="page-actions">
          <button type="button" className="button" onClick={() => setDialog({ type: 'import' })}>
            <IconUpload /> Import Key Pair
          </button>
          <button type="button" className="button button-primary" onClick={() => setDialog({ type: 'create' })}>
            <IconPlus /> Create Key Pair
          </button>
        </div>
      </header>

      <div className="toolbar">
        <form className="search" role="search" onSubmit={onSearch}>
          <IconSearch className="search-icon" />
          <label htmlFor="kp-search" className="visually-hidden">
            Search key pairs by name
          </label>
          <input
            id="kp-search"
            type="search"
            placeholder="Search by name"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            autoComplete="off"
          />
        </form>
        <TagFilter id="kp-tag-filter" value={tagFilter} onChange={setTagFilter} />
        <RefreshButton list={list} label="Refresh key pairs" />
      </div>

      <ResourceView
        list={list}
        errorTitle="Cannot load key pairs"
        loadingLabel="Loading key pairs…"
        isEmpty={items.length === 0}
        empty={
          committed ? (
            <NoMatch
              title="No key pairs match"
              clearLabel="Clear search"
              onClear={() => {
                setSearch('');
                setCommitted('');
              }}
            >
              No key pair name in {regionName(regionId)} contains “{committed}”.
            </NoMatch>
          ) : (
            <EmptyState
              title={`No key pairs in ${regionName(regionId)}`}
              icon={<IconKey />}
              action={
                <div className="button-row">
                  <button type="button" className="button button-primary" onClick={() => setDialog({ type: 'create' })}>
                    <IconPlus /> Create Key Pair
                  </button>
                  <button type="button" className="button" onClick={() => setDialog({ type: 'import' })}>
                    <IconUpload /> Import Key Pair
                  </button>
                </div>
              }
            >
              Create a key pair (keyfleet generates it and you download the private key once) or import the public key
              of a key you already have.
            </EmptyState>
          )
        }
      >
        <DataTable
          label={`Key pairs in ${regionId}`}
          columns={['Key pair', 'Type', 'Fingerprint', 'Bound to', 'Created']}
          actions={{ label: 'Actions' }}
        >
          {items.map((k) => (
            <tr key={k.id} data-key-pair={k.name}>
              <td data-label="Key pair">
                <Link to={`/key-pairs/${encodeURIComponent(k.name)}`} className="cell-main">
                  {k.name}
                </Link>
                {k.description ? <div className="muted small">{k.description}</div> : null}
                <TagPills tags={k.tags} />
              </td>
              <td data-label="Type">
                {k.algorithm === 'ssh-rsa'
                  ? `RSA ${k.bits}`
                  : k.algorithm === 'ssh-ed25519'
                    ? 'ED25519'
                    : `ECDSA ${k.bits}`}
              </td>
              <td data-label="Fingerprint">
                <div className="mono small break">{k.fingerprintSha256}</div>
                <div className="mono small muted break">{k.fingerprintMd5}</div>
              </td>
              <td data-label="Bound to">
                <BoundCount regionId={regionId} name={k.name} version={version} />
              </td>
              <td data-label="Created" className="nowrap">
                {formatTime(k.createdAt)}
              </td>
              <td data-label="Actions" className="col-actions">
                <div className="row-actions">
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'bind', keyPair: k })}
                    aria-label={`Bind ${k.name}`}
                  >
                    Bind
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'unbind', keyPair: k })}
                    aria-label={`Unbind ${k.name}`}
                  >
                    Unbind
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'tags', keyPair: k })}
                    aria-label={`Tags of ${k.name}`}
                  >
                    Tags
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'move', keyPair: k })}
                    aria-label={`Move ${k.name} to a resource group`}
                    title="Move to another resource group"
                  >
                    Move
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setDialog({ type: 'escrow', keyPair: k })}
                    aria-label={`Escrow of ${k.name}`}
                  >
                    {k.privateKeyEscrowed ? 'Escrowed' : 'Escrow'}
                  </button>
                  <button
                    type="button"
                    className="link-button danger"
                    onClick={() => setDialog({ type: 'delete', keyPair: k })}
                    aria-label={`Delete ${k.name}`}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
        <Pager {...pager} total={total} label="key pairs" />
      </ResourceView>

      {dialog?.type === 'create' ? (
        <CreateKeyPairDialog
          onClose={() => setDialog(null)}
          onCreated={(kp) => {
            changed();
            toasts.push({
              kind: 'success',
              title: `Key pair ${kp.name} created`,
              body: `Private key saved as ${kp.name}.pem.`,
            });
          }}
        />
      ) : null}
      {dialog?.type === 'import' ? (
        <ImportKeyPairDialog
          onClose={() => setDialog(null)}
          onImported={(kp) => {
            changed();
            toasts.push({ kind: 'success', title: `Key pair ${kp.name} imported`, body: kp.fingerprintSha256 });
          }}
        />
      ) : null}
      {dialog && (dialog.type === 'bind' || dialog.type === 'unbind') ? (
        <TransferDialog
          keyPair={dialog.keyPair}
          action={dialog.type}
          onClose={() => setDialog(null)}
          onChanged={changed}
        />
      ) : null}
      {dialog?.type === 'tags' ? (
        <TagsDialog
          regionId={regionId}
          resourceType="keypair"
          resourceId={dialog.keyPair.name}
          label={dialog.keyPair.name}
          tags={dialog.keyPair.tags}
          onClose={() => setDialog(null)}
          onChanged={changed}
        />
      ) : null}
      {dialog?.type === 'move' ? (
        <MoveToGroupDialog
          resources={[
            {
              resourceType: 'keypair',
              regionId: dialog.keyPair.regionId,
              resourceId: dialog.keyPair.name,
              label: dialog.keyPair.name,
              resourceGroupId: dialog.keyPair.resourceGroupId,
            },
          ]}
          onClose={() => setDialog(null)}
          onMoved={changed}
        />
      ) : null}
      {dialog?.type === 'escrow' ? (
        <EscrowDialog keyPair={dialog.keyPair} onClose={() => setDialog(null)} onChanged={changed} />
      ) : null}
      {dialog?.type === 'delete' ? (
        <DeleteKeyPairDialog
          keyPair={dialog.keyPair}
          onClose={() => setDialog(null)}
          onDeleted={() => {
            changed();
            toasts.push({ kind: 'success', title: `Key pair ${dialog.keyPair.name} deleted` });
          }}
          onUnbind={() => setDialog({ type: 'unbind', keyPair: dialog.keyPair })}
        />
      ) : null}
    </div>
  );
}

function BoundCount({ regionId, name, version }: { regionId: string; name: string; version: number }) {
  const r = useResource(() => api.keyPair(regionId, name), [regionId, name, version], { keepPrevious: true });
  if (r.loading) return <span className="muted">…</span>;
  if (r.error || !r.data) return <span className="muted">?</span>;
  if (r.data.boundCount === 0) return <span className="muted">No instances</span>;
  return (
    <Link to={`/instances?keyPair=${encodeURIComponent(name)}`} className="bound-link">
      {plural(r.data.boundCount, 'instance')}
    </Link>
  );
}
