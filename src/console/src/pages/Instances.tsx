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
import { InstanceDialogs } from './instances/InstanceDialogs';
import { RunInstancesDialog } from '../dialogs/RunInstancesDialog';
import { type InstanceDialogState, InstanceRow, TRANSITIONAL } from './instances/InstanceRow';
import { proofPending } from '../ui/Proof';
import { plural } from '../lib/format';
import { pendingWhat } from '../lib/loginState';
import { useDebounced, useResource } from '../lib/hooks';
import { usePaging } from '../lib/usePaging';
import { IconAudit, IconPlus, IconSearch, IconServer, IconUpload, IconWarning } from '../ui/Icons';
import { NoMatch, RefreshButton, ResourceView } from '../ui/ListParts';
import { Pager } from '../ui/Pager';
import { EmptyState } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { DataTable } from '../ui/Table';

/** "Expiring soon" on this page: within a day. */
const EXPIRING_SOON_S = 24 * 3600;

const STATUSES: InstanceStatus[] = ['Running', 'Stopped', 'Starting', 'Stopping', 'Pending'];

let firstRenderMarked = false;

export function InstancesPage() {
  const { regionId, groupId, regionName } = useScope();
  const { query } = useLocation();
  const toasts = useToasts();
  const [running, setRunning] = useState(false);
  const [search, setSearch] = useState(query.get('search') ?? '');
  const [committed, setCommitted] = useState(search.trim());
  const debounced = useDebounced(search.trim(), 300);
  const [status, setStatus] = useState<InstanceStatus | ''>('');
  const [pendingOnly, setPendingOnly] = useState(query.get('pendingRestart') === 'true');
  const [expiringOnly, setExpiringOnly] = useState(query.get('expiringSoon') === 'true');
  /** "Bound to": the instances a key pair is bound to, matched on the key pair's name exactly (not a text search). */
  const [boundTo, setBoundTo] = useState(query.get('keyPair') ?? '');
  const { offset, limit, pager } = usePaging(20, [
    regionId,
    groupId,
    committed,
    status,
    pendingOnly,
    expiringOnly,
    boundTo,
  ]);
  const [dialog, setDialog] = useState<InstanceDialogState>(null);
  const searchMark = useRef<string | null>(null);

  // Typing searches after a pause; Enter searches at once.
  useEffect(() => setCommitted(debounced), [debounced]);
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
        expiringWithin: expiringOnly ? EXPIRING_SOON_S : undefined,
        keyPairName: boundTo || undefined,
        resourceGroupId: groupId || undefined,
        offset,
        limit,
      })),
    }),
    [regionId, groupId, committed, status, pendingOnly, expiringOnly, boundTo, offset, limit],
    {
      keepPrevious: true,
      // Fast while a machine changes state or its boot is being proven (the proof lands just after Running).
      pollMs: (d) => (d?.items.some((i) => TRANSITIONAL.includes(i.status) || proofPending(i)) ? 1000 : 10_000),
    },
  );
  // Bindings that end within a day (expired ones not yet unbound included): access that is about to go.
  const expiring = useResource(
    () => api.instances(regionId, { expiringWithin: EXPIRING_SOON_S, resourceGroupId: groupId || undefined, limit: 1 }),
    [regionId, groupId, list.data],
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
  const expiringTotal = expiring.data?.total ?? 0;
  const filtered = !!committed || !!status || pendingOnly || expiringOnly || !!boundTo;

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
            title={`Compare every registered host and simulated instance in ${regionName(regionId)} with what keyfleet bound`}
          >
            <IconAudit /> Check drift
          </button>
          <button type="button" className="button" onClick={() => setDialog({ type: 'import-inventory' })}>
            <IconUpload /> Import inventory
          </button>
          <button type="button" className="button" onClick={() => setRunning(true)}>
            <IconPlus /> Run instances
          </button>
          <button type="button" className="button button-primary" onClick={() => setDialog({ type: 'register-host' })}>
            <IconPlus /> Register host
          </button>
        </div>
        {running ? (
          <RunInstancesDialog
            onClose={() => setRunning(false)}
            onCreated={(ids) => {
              setRunning(false);
              toasts.push({ kind: 'success', title: `${plural(ids.length, 'instance')} created` });
              reload();
            }}
          />
        ) : null}
      </header>

      {pendingTotal > 0 && !pendingOnly ? (
        <div className="banner banner-warning" role="status">
          <IconWarning />
          <span>
            {plural(pendingTotal, 'instance')} {pendingTotal === 1 ? 'has' : 'have'}{' '}
            {pendingTotal === 1 && pending.data?.items[0]
              ? pendingWhat(pending.data.items[0])
              : 'a login change (key pair or root password)'}{' '}
            waiting for a restart.
          </span>
          <button type="button" className="link-button" onClick={() => setPendingOnly(true)}>
            Show them
          </button>
        </div>
      ) : null}

      {expiringTotal > 0 && !expiringOnly ? (
        <div className="banner banner-info" role="status" data-testid="expiring-soon">
          <IconWarning />
          <span>
            {plural(expiringTotal, 'binding')} {expiringTotal === 1 ? 'expires' : 'expire'} within 24 hours.
          </span>
          <button type="button" className="link-button" onClick={() => setExpiringOnly(true)}>
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
        <label className="checkbox">
          <input type="checkbox" checked={expiringOnly} onChange={(e) => setExpiringOnly(e.target.checked)} />
          <span>Expiring within 24 h</span>
        </label>
        {boundTo ? (
          <span className="filter-chip" data-testid="bound-to-filter">
            Bound to <strong>{boundTo}</strong>
            <button
              type="button"
              className="icon-button"
              aria-label={`Clear the Bound to ${boundTo} filter`}
              onClick={() => setBoundTo('')}
            >
              ×
            </button>
          </span>
        ) : null}
        <RefreshButton list={list} label="Refresh instances" disabled={list.fetching && !data} />
      </div>

      <ResourceView
        list={list}
        errorTitle="Cannot load instances"
        loadingLabel="Loading instances…"
        isEmpty={items.length === 0}
        empty={
          filtered ? (
            <NoMatch
              title="No instances match"
              clearLabel="Clear filters"
              onClear={() => {
                setSearch('');
                setCommitted('');
                setStatus('');
                setPendingOnly(false);
                setExpiringOnly(false);
                setBoundTo('');
              }}
            >
              Nothing in {regionName(regionId)} matches {committed ? <>“{committed}”</> : 'these filters'}.
            </NoMatch>
          ) : (
            <EmptyState title={`No instances in ${regionName(regionId)}`} icon={<IconServer />}>
              {groupId ? (
                'This resource group has no instances here. Choose another resource group or region in the top bar.'
              ) : (
                <>
                  Create some with the CLI: <code>keyfleet instances run --image … --amount 3</code>, register an
                  existing Linux machine with <strong>Register host</strong>, or choose another region.
                </>
              )}
            </EmptyState>
          )
        }
      >
        {list.error ? (
          <p className="alert alert-warning" role="status">
            Showing the last answer: refreshing failed.
          </p>
        ) : null}
        <DataTable
          label={`Instances in ${regionId}`}
          columns={['Instance', 'Status', 'OS', 'Key pair', 'SSH address']}
          busy={list.fetching}
          actions={{ label: 'Actions', hidden: true }}
        >
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
        </DataTable>
        <Pager {...pager} total={total} label="instances" />
      </ResourceView>

      <InstanceDialogs dialog={dialog} setDialog={setDialog} reload={reload} act={act} />
    </div>
  );
}
