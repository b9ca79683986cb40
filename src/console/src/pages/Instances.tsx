/**
 * Instances of the selected region and resource group: server-side search and paging (so 10,000 instances cost
 * one page of rows), the key pair with its effect state ("applied" or "bound · pending restart" with a
 * Restart needed marker), and per-row Actions. Existing Linux machines are registered here as hosts (one at a
 * time or from an inventory); a host row is marked "host", and its Actions offer live key changes only: keyfleet
 * never starts, stops, restarts or resets the password of a registered host (the server refuses it).
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Instance, InstanceStatus } from '../api/types';
import { useLocation } from '../app/router';
import { useScope } from '../app/scope';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';
import { DriftDialog } from '../dialogs/DriftDialog';
import { ImportInventoryDialog } from '../dialogs/ImportInventoryDialog';
import { RegisterHostDialog } from '../dialogs/RegisterHostDialog';
import { HostSettingsDialog } from '../dialogs/HostSettingsDialog';
import { InstanceKeyDialog } from '../dialogs/InstanceKeyDialog';
import { ResetPasswordDialog } from '../dialogs/ResetPasswordDialog';
import { plural, shortRefusal } from '../lib/format';
import { useDebounced, useResource } from '../lib/hooks';
import { IconAudit, IconPlus, IconRefresh, IconSearch, IconServer, IconUpload, IconWarning } from '../ui/Icons';
import { type MenuItem, MenuButton } from '../ui/Menu';
import { Pager } from '../ui/Pager';
import { InstanceStatusPill, RestartNeeded } from '../ui/Pills';
import { EmptyState, ErrorState, LoadingState } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { Tooltip } from '../ui/Tooltip';

const TRANSITIONAL: InstanceStatus[] = ['Pending', 'Starting', 'Stopping'];
const STATUSES: InstanceStatus[] = ['Running', 'Stopped', 'Starting', 'Stopping', 'Pending'];

type DialogState =
  | { type: 'bind' | 'unbind' | 'reset'; instance: Instance }
  | { type: 'stop' | 'restart'; instance: Instance }
  | { type: 'register-host' | 'import-inventory' }
  /** Drift of every registered host of the region ('all'), or of one host from its Actions menu. */
  | { type: 'drift'; hosts: 'all' | Instance[] }
  | { type: 'host-settings'; instance: Instance }
  | null;

let firstRenderMarked = false;

export function InstancesPage() {
  const { regionId, groupId, regionName } = useScope();
  const { query } = useLocation();
  const toasts = useToasts();
  const [search, setSearch] = useState(query.get('search') ?? '');
  const [committed, setCommitted] = useState(search.trim());
  const debounced = useDebounced(search.trim(), 300);
  const [status, setStatus] = useState<InstanceStatus | ''>('');
  const [pendingOnly, setPendingOnly] = useState(query.get('pendingRestart') === 'true');
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(20);
  const [dialog, setDialog] = useState<DialogState>(null);
  const searchMark = useRef<string | null>(null);

  // Typing searches after a pause; Enter searches at once.
  useEffect(() => setCommitted(debounced), [debounced]);
  useEffect(() => setOffset(0), [regionId, groupId, committed, status, pendingOnly]);
  useEffect(() => {
    if (!committed) return;
    searchMark.current = committed;
    performance.mark('kf:search-start');
  }, [committed]);

  const list = useResource(
    async () => ({
      search: committed,
      ...(await api.instances(regionId, {
        search: committed || undefined,
        status: status || undefined,
        pendingRestart: pendingOnly ? true : undefined,
        resourceGroupId: groupId || undefined,
        offset,
        limit,
      })),
    }),
    [regionId, groupId, committed, status, pendingOnly, offset, limit],
    { keepPrevious: true, pollMs: (d) => (d?.items.some((i) => TRANSITIONAL.includes(i.status)) ? 1000 : 10_000) },
  );
  const pending = useResource(
    () => api.instances(regionId, { pendingRestart: true, resourceGroupId: groupId || undefined, limit: 1 }),
    [regionId, groupId, list.data],
  );

  // Time to first render and to a search result, for the browser test and for people (Performance panel).
  const data = list.data;
  const shownFor = useRef<string>('');
  useEffect(() => {
    if (!data) return;
    if (!firstRenderMarked) {
      firstRenderMarked = true;
      performance.mark('kf:instances-first-render');
    }
    if (
      searchMark.current &&
      searchMark.current === committed &&
      data.search === committed &&
      shownFor.current !== committed
    ) {
      shownFor.current = committed;
      performance.mark('kf:search-rendered');
      performance.measure('kf:search', 'kf:search-start', 'kf:search-rendered');
      searchMark.current = null;
    }
  }, [data, committed]);

  const reload = list.reload;
  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    setCommitted(search.trim());
    if (search.trim() === committed) reload();
  };

  const act = async (instance: Instance, op: 'start' | 'stop' | 'restart') => {
    await api.instanceAction(instance.id, op);
    toasts.push({
      kind: 'info',
      title: `${op === 'start' ? 'Starting' : op === 'stop' ? 'Stopping' : 'Restarting'} ${instance.name}`,
      body:
        instance.pendingRestart && op !== 'stop'
          ? 'The waiting key pair change takes effect when it is running.'
          : undefined,
    });
    reload();
  };

  const items = data?.items ?? [];
  const total = data?.total ?? 0;
  const pendingTotal = pending.data?.total ?? 0;
  const filtered = !!committed || !!status || pendingOnly;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Instances</h1>
          <p className="muted">
            {regionName(regionId)} ·{' '}
            {data ? plural(total, filtered ? 'match' : 'instance', filtered ? 'matches' : 'instances') : 'loading…'}
          </p>
        </div>
        <div className="page-actions">
          <button
            type="button"
            className="button"
            onClick={() => setDialog({ type: 'drift', hosts: 'all' })}
            title={`Compare every registered host in ${regionName(regionId)} with what keyfleet bound`}
          >
            <IconAudit /> Check drift
          </button>
          <button type="button" className="button" onClick={() => setDialog({ type: 'import-inventory' })}>
            <IconUpload /> Import inventory
          </button>
          <button type="button" className="button button-primary" onClick={() => setDialog({ type: 'register-host' })}>
            <IconPlus /> Register host
          </button>
        </div>
      </header>

      {pendingTotal > 0 && !pendingOnly ? (
        <div className="banner banner-warning" role="status">
          <IconWarning />
          <span>
            {plural(pendingTotal, 'instance')} {pendingTotal === 1 ? 'has' : 'have'} a key pair change waiting for a
            restart.
          </span>
          <button type="button" className="link-button" onClick={() => setPendingOnly(true)}>
            Show them
          </button>
        </div>
      ) : null}

      <div className="toolbar">
        <form className="search" role="search" onSubmit={submitSearch}>
          <IconSearch className="search-icon" />
          <label htmlFor="instance-search" className="visually-hidden">
            Search instances
          </label>
          <input
            id="instance-search"
            type="search"
            placeholder="Search name, ID, IP address or key pair"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            autoComplete="off"
          />
        </form>
        <label className="inline-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as InstanceStatus | '')}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={pendingOnly} onChange={(e) => setPendingOnly(e.target.checked)} />
          <span>Restart needed only</span>
        </label>
        <button
          type="button"
          className="button toolbar-end"
          onClick={reload}
          aria-label="Refresh instances"
          disabled={list.fetching && !data}
        >
          <IconRefresh className={list.fetching ? 'spin' : undefined} /> <span className="hide-narrow">Refresh</span>
        </button>
      </div>

      {list.error && !data ? (
        <ErrorState title="Cannot load instances" error={list.error} onRetry={reload} />
      ) : list.loading ? (
        <LoadingState label="Loading instances…" />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState
            title="No instances match"
            icon={<IconSearch />}
            action={
              <button
                type="button"
                className="button"
                onClick={() => {
                  setSearch('');
                  setCommitted('');
                  setStatus('');
                  setPendingOnly(false);
                }}
              >
                Clear filters
              </button>
            }
          >
            Nothing in {regionName(regionId)} matches {committed ? <>“{committed}”</> : 'these filters'}.
          </EmptyState>
        ) : (
          <EmptyState title={`No instances in ${regionName(regionId)}`} icon={<IconServer />}>
            {groupId ? (
              'This resource group has no instances here. Choose another resource group or region in the top bar.'
            ) : (
              <>
                Create some with the CLI: <code>keyfleet instances run --image … --amount 3</code>, register an existing
                Linux machine with <strong>Register host</strong>, or choose another region.
              </>
            )}
          </EmptyState>
        )
      ) : (
        <>
          {list.error ? (
            <p className="alert alert-warning" role="status">
              Showing the last answer: refreshing failed.
            </p>
          ) : null}
          <div className="table-wrap" aria-busy={list.fetching}>
            <table className="table" aria-label={`Instances in ${regionId}`}>
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Status</th>
                  <th scope="col">OS</th>
                  <th scope="col">Key pair</th>
                  <th scope="col">SSH address</th>
                  <th scope="col" className="col-actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <InstanceRow
                    key={i.id}
                    instance={i}
                    onDialog={setDialog}
                    onStart={() =>
                      void act(i, 'start').catch((err) =>
                        toasts.push({
                          kind: 'error',
                          title: `Cannot start ${i.name}`,
                          body: String((err as Error).message),
                        }),
                      )
                    }
                  />
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            offset={offset}
            limit={limit}
            total={total}
            label="instances"
            onChange={(o, l) => {
              setOffset(o);
              setLimit(l);
            }}
          />
        </>
      )}

      {dialog && (dialog.type === 'bind' || dialog.type === 'unbind') ? (
        <InstanceKeyDialog
          instance={dialog.instance}
          action={dialog.type}
          onClose={() => setDialog(null)}
          onChanged={reload}
        />
      ) : null}
      {dialog?.type === 'register-host' ? (
        <RegisterHostDialog
          onClose={() => setDialog(null)}
          onRegistered={(r) => {
            toasts.push({
              kind: 'success',
              title: `Host ${r.instance.name} registered`,
              body: `Host key ${r.hostKeySha256}`,
            });
            reload();
          }}
        />
      ) : null}
      {dialog?.type === 'drift' ? (
        <DriftDialog hosts={dialog.hosts} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'host-settings' ? (
        <HostSettingsDialog instance={dialog.instance} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'import-inventory' ? (
        <ImportInventoryDialog onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'reset' ? (
        <ResetPasswordDialog instance={dialog.instance} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog && (dialog.type === 'stop' || dialog.type === 'restart') ? (
        <ConfirmDialog
          title={dialog.type === 'stop' ? 'Stop instance' : 'Restart instance'}
          confirmLabel={dialog.type === 'stop' ? 'Stop' : 'Restart'}
          danger={dialog.type === 'stop'}
          onConfirm={() => act(dialog.instance, dialog.type as 'stop' | 'restart')}
          onClose={() => setDialog(null)}
        >
          <p>
            {dialog.type === 'stop' ? 'Stop' : 'Restart'} <strong>{dialog.instance.name}</strong>{' '}
            <span className="mono muted">{dialog.instance.id}</span>?
            {dialog.type === 'stop'
              ? ' Its SSH sessions end and it stops answering.'
              : ' Open SSH sessions are dropped.'}
          </p>
          {dialog.instance.pendingRestart && dialog.type === 'restart' ? (
            <p className="hint">The waiting key pair change takes effect during this restart.</p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function InstanceRow({
  instance: i,
  onDialog,
  onStart,
}: {
  instance: Instance;
  onDialog: (d: DialogState) => void;
  onStart: () => void;
}) {
  const busy = TRANSITIONAL.includes(i.status);
  const busyReason = busy ? `Wait until it is Running or Stopped (now ${i.status}).` : undefined;
  const isHost = i.backend === 'host';
  const items: MenuItem[] = [
    {
      label: 'Bind Key Pair',
      onSelect: () => onDialog({ type: 'bind', instance: i }),
      disabled: !i.canBindKeyPair || busy,
      reason: !i.canBindKeyPair ? shortRefusal(i.keyPairRefusal) : busyReason,
    },
    {
      label: 'Unbind Key Pair',
      onSelect: () => onDialog({ type: 'unbind', instance: i }),
      disabled: !i.keyPairName || busy,
      reason: !i.keyPairName
        ? i.canBindKeyPair
          ? 'No key pair is bound.'
          : shortRefusal(i.keyPairRefusal)
        : busyReason,
    },
  ];
  // A registered host is not keyfleet's machine to power or to reset: the server refuses these, so they are not offered.
  if (isHost) {
    items.push(
      {
        label: 'Check drift',
        onSelect: () => onDialog({ type: 'drift', hosts: [i] }),
        separatorBefore: true,
        disabled: !i.host?.hasManagementKey,
        reason: i.host?.hasManagementKey
          ? undefined
          : 'keyfleet holds no management key to log in with; give one in Host settings.',
      },
      { label: 'Host settings', onSelect: () => onDialog({ type: 'host-settings', instance: i }) },
    );
  } else {
    items.push(
      { label: 'Start', onSelect: onStart, disabled: i.status !== 'Stopped', separatorBefore: true },
      { label: 'Stop', onSelect: () => onDialog({ type: 'stop', instance: i }), disabled: i.status !== 'Running' },
      {
        label: 'Restart',
        onSelect: () => onDialog({ type: 'restart', instance: i }),
        disabled: i.status !== 'Running',
      },
      {
        label: 'Reset Password',
        onSelect: () => onDialog({ type: 'reset', instance: i }),
        disabled: busy,
        separatorBefore: true,
      },
    );
  }
  return (
    <tr data-instance-id={i.id} data-backend={i.backend} className={i.pendingRestart ? 'row-pending' : undefined}>
      <td data-label="Instance">
        <div className="cell-main">{i.name}</div>
        <div className="mono muted small id">{i.id}</div>
        {isHost ? (
          <div className="host-line">
            <Tooltip
              content={`A registered host: keyfleet manages its SSH keys live over SSH and never powers it. Host key ${i.hostKeySha256 ?? 'not pinned'}.`}
              className="badge badge-host"
            >
              host
            </Tooltip>{' '}
            <span className="mono small">
              {i.address}:{i.sshPort}
            </span>
          </div>
        ) : null}
      </td>
      <td data-label="Status">
        <InstanceStatusPill status={i.status} />
      </td>
      <td data-label="OS">
        <span className={`os os-${i.osType}`}>{i.osType === 'windows' ? 'Windows' : 'Linux'}</span>
        <div className="muted small">{i.osName.replace(/\s+/g, ' ')}</div>
      </td>
      <td data-label="Key pair">
        <KeyCell instance={i} />
      </td>
      <td data-label="SSH address">
        {i.osType === 'windows' ? (
          <span className="muted">— no SSH</span>
        ) : (
          <span className="mono">
            {i.loginUser}@{i.address}:{i.sshPort}
          </span>
        )}
      </td>
      <td data-label="Actions" className="col-actions">
        <MenuButton label="Actions" ariaLabel={`Actions for ${i.name}`} items={items} />
      </td>
    </tr>
  );
}

function KeyCell({ instance: i }: { instance: Instance }) {
  if (!i.canBindKeyPair) {
    return (
      <Tooltip content={shortRefusal(i.keyPairRefusal)} className="muted not-supported">
        Not supported
      </Tooltip>
    );
  }
  return (
    <div className="key-cell">
      <div>
        {i.keyPairName ? (
          <span className="key-name">{i.keyPairName}</span>
        ) : (
          <span className="muted">{i.pendingRestart ? 'none (unbind pending)' : '—'}</span>
        )}
        {i.pendingRestart ? null : i.keyPairName ? <span className="effect effect-applied"> · applied</span> : null}
      </div>
      {i.pendingRestart ? (
        <div className="key-state">
          {i.keyPairName ? <span className="effect effect-pending">bound · pending restart</span> : null}
          <RestartNeeded instance={i} />
        </div>
      ) : null}
      <div className="muted small">Password login {i.passwordLogin ? 'on' : 'off'}</div>
    </div>
  );
}
