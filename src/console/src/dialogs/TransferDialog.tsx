/**
 * Bind or unbind a key pair on many instances with a transfer list (the Alibaba console's Bind / Unbind dialog):
 * search the region's instances on the server, tick them, move them to Selected with ›, back with ‹. Instances
 * that cannot take a key pair (Windows, non-I/O-optimized types) are greyed with the reason and cannot be moved.
 * The change runs as a task; the dialog follows it and shows the result of every instance.
 */
import { type FormEvent, type KeyboardEvent, useEffect, useId, useMemo, useState } from 'react';
import { api, errorText } from '../api/client';
import type { Instance, KeyPair, Task, TaskItem } from '../api/types';
import { Link } from '../app/router';
import { useScope } from '../app/scope';
import { formatCount, plural, shortRefusal } from '../lib/format';
import { useDebounced } from '../lib/hooks';
import { mapLimit } from '../../../common/concurrency.js';
import { followTask } from '../lib/tasks';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconChevronLeft, IconChevronRight, IconError, IconSearch, IconWarning } from '../ui/Icons';
import { InstanceStatusPill, ItemStatusPill } from '../ui/Pills';
import { InlineError } from '../ui/States';
import { useToasts } from '../ui/Toasts';
import { emptyLive, liveCredential, LiveFields, liveProblem, type LiveValue } from './LiveFields';

const PAGE = 50;
/** The native API takes up to 10,000 instances per call (KEYFLEET_NATIVE_MAX_BATCH). */
const MAX_SELECTED = 10_000;
/** Selected shows this many rows; the rest are counted. */
const SHOW_SELECTED = 200;
type Mode = 'on-restart' | 'live';

export function TransferDialog({ keyPair, action, onClose, onChanged }: { keyPair: KeyPair; action: 'bind' | 'unbind'; onClose: () => void; onChanged: () => void }) {
  const { regionId, groupId, regionName } = useScope();
  const toasts = useToasts();
  const id = useId();
  const verb = action === 'bind' ? 'Bind' : 'Unbind';

  // ---- source list (server-side search) -----------------------------------------------------------------------
  const [search, setSearch] = useState('');
  const [committed, setCommitted] = useState('');
  const debounced = useDebounced(search.trim(), 300);
  useEffect(() => setCommitted(debounced), [debounced]);
  const [source, setSource] = useState<{ items: Instance[]; total: number; loading: boolean; error: unknown }>({ items: [], total: 0, loading: true, error: null });
  const [page, setPage] = useState(0);
  const [reloadKey, setReloadKey] = useState(0);

  useEffect(() => setPage(0), [committed]);
  useEffect(() => {
    let live = true;
    setSource((s) => ({ ...s, loading: true, error: null }));
    api.instances(regionId, {
      search: committed || undefined,
      resourceGroupId: groupId || undefined,
      ...(action === 'unbind' ? { keyPairName: keyPair.name } : {}),
      offset: page * PAGE,
      limit: PAGE,
    }).then(
      (r) => live && setSource((s) => ({ items: page === 0 ? r.items : [...s.items, ...r.items], total: r.total, loading: false, error: null })),
      (error: unknown) => live && setSource((s) => ({ ...s, loading: false, error })),
    );
    return () => {
      live = false;
    };
  }, [regionId, groupId, committed, page, action, keyPair.name, reloadKey]);

  // ---- selection ----------------------------------------------------------------------------------------------
  const [selected, setSelected] = useState<Instance[]>([]);
  const [checkedLeft, setCheckedLeft] = useState<Set<string>>(new Set());
  const [checkedRight, setCheckedRight] = useState<Set<string>>(new Set());
  const selectedIds = useMemo(() => new Set(selected.map((i) => i.id)), [selected]);
  const available = source.items.filter((i) => !selectedIds.has(i.id));
  const movable = (i: Instance) => action === 'unbind' || i.canBindKeyPair;
  const movableLeft = available.filter(movable);

  const toggle = (set: Set<string>, idv: string) => {
    const n = new Set(set);
    if (n.has(idv)) n.delete(idv);
    else n.add(idv);
    return n;
  };
  const moveRight = (ids?: string[]) => {
    const take = ids ?? [...checkedLeft];
    const add = available.filter((i) => take.includes(i.id) && movable(i));
    if (add.length === 0) return;
    setSelected((s) => [...s, ...add]);
    setCheckedLeft(new Set());
  };
  const moveLeft = (ids?: string[]) => {
    const drop = new Set(ids ?? [...checkedRight]);
    if (drop.size === 0) return;
    setSelected((s) => s.filter((i) => !drop.has(i.id)));
    setCheckedRight(new Set());
  };
  const allLeftChecked = movableLeft.length > 0 && movableLeft.every((i) => checkedLeft.has(i.id));

  /** Moves every instance that matches the search (all pages, read from the server) to Selected. */
  const [addingAll, setAddingAll] = useState<{ done: number; total: number } | null>(null);
  const addAllMatching = async () => {
    setAddingAll({ done: 0, total: source.total });
    try {
      const all: Instance[] = [];
      for (let offset = 0; offset < source.total && offset < MAX_SELECTED; offset += 1000) {
        const r = await api.instances(regionId, {
          search: committed || undefined,
          resourceGroupId: groupId || undefined,
          ...(action === 'unbind' ? { keyPairName: keyPair.name } : {}),
          offset,
          limit: 1000,
        });
        all.push(...r.items);
        setAddingAll({ done: all.length, total: r.total });
        if (r.items.length === 0) break;
      }
      setSelected((s) => {
        const have = new Set(s.map((i) => i.id));
        return [...s, ...all.filter((i) => movable(i) && !have.has(i.id))].slice(0, MAX_SELECTED);
      });
      setCheckedLeft(new Set());
    } catch (err) {
      setError(err);
    } finally {
      setAddingAll(null);
    }
  };

  // ---- mode and submit ----------------------------------------------------------------------------------------
  const [mode, setMode] = useState<Mode>('on-restart');
  const [live, setLive] = useState<LiveValue>(() => emptyLive(null));
  const [showErrors, setShowErrors] = useState(false);
  const [step, setStep] = useState<'select' | 'running' | 'result'>('select');
  const [error, setError] = useState<unknown>(null);
  const [task, setTask] = useState<Task | null>(null);
  const [items, setItems] = useState<TaskItem[]>([]);
  const [restart, setRestart] = useState<{ done: number; total: number; failed: number } | null>(null);
  const recordedPort = selected.length > 0 && selected.every((i) => i.sshPort === selected[0]!.sshPort) ? selected[0]!.sshPort : null;

  useEffect(() => {
    if (mode === 'live' && recordedPort !== null) setLive((v) => (v.port === '22' || v.port === '' ? { ...v, port: String(recordedPort) } : v));
  }, [mode, recordedPort]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShowErrors(true);
    if (selected.length === 0) return;
    if (mode === 'live' && liveProblem(live, action === 'bind')) return;
    setError(null);
    setStep('running');
    try {
      const liveParts = mode === 'live' ? liveCredential(live, action === 'bind') : null;
      const res = await api.bindings(regionId, {
        action,
        keyPairName: keyPair.name,
        instanceIds: selected.map((i) => i.id),
        mode,
        ...(liveParts ? { credential: liveParts.credential, port: liveParts.port } : {}),
      });
      // Sent once; forget the credential.
      setLive(emptyLive(null));
      setTask(res.task);
      const done = await followTask(res.task.id, setTask);
      setTask(done.task);
      setItems(done.items);
      setStep('result');
      onChanged();
    } catch (err) {
      setError(err);
      setStep('select');
    }
  };

  const byId = useMemo(() => new Map(selected.map((i) => [i.id, i])), [selected]);
  const needRestart = step === 'result' && task?.mode === 'on-restart'
    ? items.filter((it) => it.status === 'succeeded' && byId.get(it.instanceId)?.status === 'Running').map((it) => it.instanceId)
    : [];
  const needStart = step === 'result' && task?.mode === 'on-restart'
    ? items.filter((it) => it.status === 'succeeded' && byId.get(it.instanceId)?.status === 'Stopped').length
    : 0;

  const restartAll = async () => {
    setRestart({ done: 0, total: needRestart.length, failed: 0 });
    const results = await mapLimit(needRestart, 4, (iid) => api.instanceAction(iid, 'restart'), (done) => setRestart((r) => (r ? { ...r, done } : r)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    setRestart({ done: needRestart.length, total: needRestart.length, failed });
    toasts.push({
      kind: failed ? 'warning' : 'info',
      title: `Restarting ${plural(needRestart.length - failed, 'instance')}`,
      body: failed ? `${failed} could not be restarted.` : `The ${action} takes effect as each one comes back.`,
    });
    onChanged();
    onClose();
  };

  // ---- running / result ---------------------------------------------------------------------------------------
  if (step !== 'select') {
    const finished = step === 'result' && task;
    const progress = task ? task.succeeded + task.failed : 0;
    return (
      <Dialog
        title={finished ? `${verb} finished` : `${verb}ing ${keyPair.name}…`}
        onClose={onClose}
        busy={!finished || (restart !== null && restart.done < restart.total)}
        size="large"
        step={step}
        testId="transfer-result"
        footer={
          finished ? (
            needRestart.length > 0 ? (
              <>
                <button type="button" className="button" onClick={onClose} disabled={restart !== null}>Restart later</button>
                <button type="button" className="button button-primary" onClick={() => void restartAll()} disabled={restart !== null}>
                  {restart ? `Restarting ${restart.done}/${restart.total}…` : `Restart ${plural(needRestart.length, 'instance')} now`}
                </button>
              </>
            ) : (
              <button type="button" className="button button-primary" onClick={onClose}>Close</button>
            )
          ) : null
        }
      >
        {task ? (
          <div className="task-progress">
            <div className="progress" role="progressbar" aria-label={`${verb} progress`} aria-valuemin={0} aria-valuemax={task.total} aria-valuenow={progress}>
              <span className={`progress-bar${task.failed ? ' has-failed' : ''}`} style={{ width: `${task.total ? (progress / task.total) * 100 : 0}%` }} />
            </div>
            <p className="muted small">
              {formatCount(progress)} of {formatCount(task.total)} done · {formatCount(task.succeeded)} succeeded · {formatCount(task.failed)} failed ·{' '}
              <Link to={`/tasks/${task.id}`} onClick={onClose}>task {task.id.slice(0, 8)}</Link>
            </p>
          </div>
        ) : (
          <p className="muted">Submitting…</p>
        )}
        {finished ? (
          <>
            {task.failed === 0 ? (
              <div className={`notice ${task.mode === 'on-restart' ? 'notice-warning' : 'notice-success'}`} role="status">
                {task.mode === 'on-restart' ? <IconWarning /> : <IconCheck />}
                <div>
                  <strong>
                    {keyPair.name} {action === 'bind' ? 'bound to' : 'unbound from'} {plural(task.succeeded, 'instance')}.
                    {task.mode === 'on-restart' ? ' It takes effect after a restart.' : ' Applied live and verified by login.'}
                  </strong>
                  {task.mode === 'on-restart' ? (
                    <p>
                      {needRestart.length > 0 ? `${plural(needRestart.length, 'running instance')} ${needRestart.length === 1 ? 'is' : 'are'} marked Restart needed until restarted.` : ''}
                      {needStart > 0 ? ` ${plural(needStart, 'stopped instance')} take${needStart === 1 ? 's' : ''} it at the next start.` : ''}
                    </p>
                  ) : null}
                </div>
              </div>
            ) : (
              <div className="notice notice-error" role="alert">
                <IconError />
                <div>
                  <strong>{plural(task.failed, 'instance')} failed{task.succeeded ? `, ${formatCount(task.succeeded)} succeeded` : ''}.</strong>
                  <p>The reasons are listed below and on the Tasks page.</p>
                </div>
              </div>
            )}
            <div className="table-wrap table-wrap-short">
              <table className="table table-compact" aria-label="Result per instance">
                <thead>
                  <tr><th scope="col">Instance</th><th scope="col">Result</th><th scope="col">Details</th></tr>
                </thead>
                <tbody>
                  {items.map((it) => {
                    const inst = byId.get(it.instanceId);
                    return (
                      <tr key={it.seq} data-instance-id={it.instanceId}>
                        <td data-label="Instance"><div className="cell-main">{inst?.name ?? it.instanceId}</div><div className="mono muted small id">{it.instanceId}</div></td>
                        <td data-label="Result"><ItemStatusPill status={it.status} /></td>
                        <td data-label="Details">{it.status === 'failed' ? <span className="error-text">{it.errorMessage} <span className="mono small">({it.errorCode})</span></span> : it.note ?? ''}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </Dialog>
    );
  }

  // ---- select -------------------------------------------------------------------------------------------------
  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      setCommitted(search.trim());
    }
  };
  const formId = `${id}-form`;
  return (
    <Dialog
      title={`${verb} Key Pair ${keyPair.name}`}
      onClose={onClose}
      size="large"
      step={step}
      testId="transfer-dialog"
      footer={
        <>
          <span className="footer-note muted">{selected.length ? `${plural(selected.length, 'instance')} selected` : 'Select instances, then move them to Selected'}</span>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" form={formId} className="button button-primary" disabled={selected.length === 0 || (mode === 'live' && !live.confirmed)}>
            {verb}{selected.length ? ` ${plural(selected.length, 'instance')}` : ''}
          </button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          {action === 'bind'
            ? `Choose the instances of ${regionName(regionId)} that get ${keyPair.name}. An instance has one key pair: a new one replaces the old. Greyed instances cannot use an SSH key pair.`
            : `Instances of ${regionName(regionId)} bound to ${keyPair.name}. Choose the ones to unbind; password login comes back on them.`}
        </p>
        <div className="transfer">
          <section className="transfer-panel" aria-labelledby={`${id}-src`}>
            <header className="transfer-head">
              <h3 id={`${id}-src`}>{action === 'bind' ? 'Instances' : `Bound to ${keyPair.name}`}</h3>
              <span className="muted small" aria-live="polite">{source.loading ? 'Loading…' : `${formatCount(source.total)} found`}</span>
            </header>
            <div className="search search-small">
              <IconSearch className="search-icon" />
              <input type="search" aria-label="Search instances to choose from" placeholder="Name, ID, IP or key pair" value={search} onChange={(e) => setSearch(e.target.value)} onKeyDown={onSearchKey} />
            </div>
            <label className="checkbox select-all">
              <input type="checkbox" checked={allLeftChecked} disabled={movableLeft.length === 0} onChange={() => setCheckedLeft(allLeftChecked ? new Set() : new Set(movableLeft.map((i) => i.id)))} />
              <span>Select all shown</span>
            </label>
            <ul className="transfer-list" aria-label="Instances to choose from">
              {available.map((i) => {
                const can = movable(i);
                return (
                  <li key={i.id} className={`transfer-item${can ? '' : ' disabled'}`} onDoubleClick={() => can && moveRight([i.id])} data-instance-id={i.id}>
                    <label>
                      <input type="checkbox" checked={checkedLeft.has(i.id)} disabled={!can} onChange={() => setCheckedLeft((s) => toggle(s, i.id))} aria-describedby={can ? undefined : `${id}-r-${i.id}`} />
                      <span className="transfer-text">
                        <span className="transfer-name">{i.name}</span> <span className="mono muted small id">{i.id}</span>
                        <span className="transfer-meta">
                          <InstanceStatusPill status={i.status} /> {i.osType === 'windows' ? 'Windows' : 'Linux'}
                          {i.keyPairName ? <> · key <strong>{i.keyPairName}</strong>{action === 'bind' && i.keyPairName !== keyPair.name ? ' (replaced)' : ''}</> : null}
                        </span>
                        {can ? null : <span id={`${id}-r-${i.id}`} className="transfer-reason">{shortRefusal(i.keyPairRefusal)}</span>}
                      </span>
                    </label>
                  </li>
                );
              })}
              {!source.loading && available.length === 0 && !source.error ? (
                <li className="transfer-empty muted">{committed ? `No instances match “${committed}”.` : source.total === 0 ? (action === 'bind' ? 'No instances in this region.' : `No instance is bound to ${keyPair.name}.`) : 'All shown instances are selected.'}</li>
              ) : null}
              {source.error ? (
                <li className="transfer-empty">
                  <span className="error-text">{errorText(source.error)}</span>{' '}
                  <button type="button" className="link-button" onClick={() => setReloadKey((k) => k + 1)}>Try again</button>
                </li>
              ) : null}
            </ul>
            {source.items.length < source.total ? (
              <div className="load-more">
                <button type="button" className="link-button" onClick={() => setPage((p) => p + 1)} disabled={source.loading}>
                  Show more ({formatCount(source.total - source.items.length)} not shown)
                </button>
                <button type="button" className="link-button" onClick={() => void addAllMatching()} disabled={addingAll !== null}>
                  {addingAll ? `Adding ${formatCount(addingAll.done)}/${formatCount(addingAll.total)}…` : `Add all ${formatCount(source.total)}${committed ? ' matching' : ''}`}
                </button>
              </div>
            ) : null}
          </section>

          <div className="transfer-buttons">
            <button type="button" className="button" onClick={() => moveRight()} disabled={checkedLeft.size === 0} aria-label="Move checked instances to Selected" title="Move to Selected">
              <IconChevronRight />
            </button>
            <button type="button" className="button" onClick={() => moveLeft()} disabled={checkedRight.size === 0} aria-label="Move checked instances back" title="Move back">
              <IconChevronLeft />
            </button>
          </div>

          <section className="transfer-panel" aria-labelledby={`${id}-dst`}>
            <header className="transfer-head">
              <h3 id={`${id}-dst`}>Selected ({formatCount(selected.length)})</h3>
              {selected.length ? <button type="button" className="link-button small" onClick={() => moveLeft(selected.map((i) => i.id))}>Clear</button> : null}
            </header>
            <ul className="transfer-list" aria-label="Selected instances">
              {selected.slice(0, SHOW_SELECTED).map((i) => (
                <li key={i.id} className="transfer-item" onDoubleClick={() => moveLeft([i.id])} data-instance-id={i.id}>
                  <label>
                    <input type="checkbox" checked={checkedRight.has(i.id)} onChange={() => setCheckedRight((s) => toggle(s, i.id))} />
                    <span className="transfer-text">
                      <span className="transfer-name">{i.name}</span> <span className="mono muted small id">{i.id}</span>
                      <span className="transfer-meta"><InstanceStatusPill status={i.status} /></span>
                    </span>
                  </label>
                </li>
              ))}
              {selected.length > SHOW_SELECTED ? <li className="transfer-empty muted">and {formatCount(selected.length - SHOW_SELECTED)} more (Clear removes all)</li> : null}
              {selected.length === 0 ? <li className="transfer-empty muted">Nothing selected yet.</li> : null}
            </ul>
            {showErrors && selected.length === 0 ? <p className="field-error">Select at least one instance.</p> : null}
          </section>
        </div>

        <fieldset className="choice choice-inline">
          <legend>When should it take effect?</legend>
          <label className="radio">
            <input type="radio" name={`${id}-mode`} checked={mode === 'on-restart'} onChange={() => setMode('on-restart')} />
            <span>At the next restart (default)</span>
          </label>
          <label className="radio">
            <input type="radio" name={`${id}-mode`} checked={mode === 'live'} onChange={() => setMode('live')} />
            <span>Now, live over SSH (running instances; stopped ones take it at their next start)</span>
          </label>
        </fieldset>
        {mode === 'live' ? (
          <LiveFields value={live} onChange={setLive} allowPassword={action === 'bind'} action={action} recordedPort={recordedPort} showErrors={showErrors} />
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
