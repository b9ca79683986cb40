/**
 * The two lists of the transfer dialog: the instances to choose from (searched and paged on the server, with the
 * reason an instance cannot take a key pair) and the Selected ones, with the buttons that move between them.
 */
import type { KeyboardEvent } from 'react';
import { errorText } from '../api/client';
import type { KeyPair } from '../api/types';
import { formatCount, shortRefusal } from '../lib/format';
import type { TransferList } from '../lib/useTransferList';
import { IconChevronLeft, IconChevronRight, IconSearch } from '../ui/Icons';
import { InstanceStatusPill } from '../ui/Pills';

/** Selected shows this many rows; the rest are counted. */
const SHOW_SELECTED = 200;

export function TransferLists({
  id,
  list,
  keyPair,
  action,
  showErrors,
}: {
  id: string;
  list: TransferList;
  keyPair: KeyPair;
  action: 'bind' | 'unbind';
  showErrors: boolean;
}) {
  // The search over the instances, and the selection: two concerns of one list state.
  const { search, setSearch, committed, setCommitted, source, showMore, retry } = list;
  const { selected, available, movable, movableLeft, checkedLeft, checkedRight, allLeftChecked } = list;
  const { toggleLeft, toggleRight, toggleAllLeft, moveRight, moveLeft, addAllMatching, addingAll } = list;
  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      setCommitted(search.trim());
    }
  };
  return (
    <div className="transfer">
      <section className="transfer-panel" aria-labelledby={`${id}-src`}>
        <header className="transfer-head">
          <h3 id={`${id}-src`}>{action === 'bind' ? 'Instances' : `Bound to ${keyPair.name}`}</h3>
          <span className="muted small" aria-live="polite">
            {source.loading ? 'Loading…' : `${formatCount(source.total)} found`}
          </span>
        </header>
        <div className="search search-small">
          <IconSearch className="search-icon" />
          <input
            type="search"
            aria-label="Search instances to choose from"
            placeholder="Name, ID, IP or key pair"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={onSearchKey}
          />
        </div>
        <label className="checkbox select-all">
          <input
            type="checkbox"
            checked={allLeftChecked}
            disabled={movableLeft.length === 0}
            onChange={() => toggleAllLeft()}
          />
          <span>Select all shown</span>
        </label>
        <ul className="transfer-list" aria-label="Instances to choose from">
          {available.map((i) => {
            const can = movable(i);
            return (
              <li
                key={i.id}
                className={`transfer-item${can ? '' : ' disabled'}`}
                onDoubleClick={() => can && moveRight([i.id])}
                data-instance-id={i.id}
              >
                <label>
                  <input
                    type="checkbox"
                    checked={checkedLeft.has(i.id)}
                    disabled={!can}
                    onChange={() => toggleLeft(i.id)}
                    aria-describedby={can ? undefined : `${id}-r-${i.id}`}
                  />
                  <span className="transfer-text">
                    <span className="transfer-title">
                      <span className="transfer-name">{i.name}</span>{' '}
                      <span className="mono muted small id">{i.id}</span>
                    </span>
                    <span className="transfer-meta">
                      <InstanceStatusPill status={i.status} /> {i.osType === 'windows' ? 'Windows' : 'Linux'}
                      {i.keyPairName ? (
                        <>
                          {' '}
                          · key <strong>{i.keyPairName}</strong>
                          {action === 'bind' && i.keyPairName !== keyPair.name ? ' (replaced)' : ''}
                        </>
                      ) : null}
                    </span>
                    {can ? null : (
                      <span id={`${id}-r-${i.id}`} className="transfer-reason">
                        {shortRefusal(i.keyPairRefusal)}
                      </span>
                    )}
                  </span>
                </label>
              </li>
            );
          })}
          {!source.loading && available.length === 0 && !source.error ? (
            <li className="transfer-empty muted">
              {committed
                ? `No instances match “${committed}”.`
                : source.total === 0
                  ? action === 'bind'
                    ? 'No instances in this region.'
                    : `No instance is bound to ${keyPair.name}.`
                  : 'All shown instances are selected.'}
            </li>
          ) : null}
          {source.error ? (
            <li className="transfer-empty">
              <span className="error-text">{errorText(source.error)}</span>{' '}
              <button type="button" className="link-button" onClick={() => retry()}>
                Try again
              </button>
            </li>
          ) : null}
        </ul>
        {source.items.length < source.total ? (
          <div className="load-more">
            <button type="button" className="link-button" onClick={() => showMore()} disabled={source.loading}>
              Show more ({formatCount(source.total - source.items.length)} not shown)
            </button>
            <button
              type="button"
              className="link-button"
              onClick={() => void addAllMatching()}
              disabled={addingAll !== null}
            >
              {addingAll
                ? `Adding ${formatCount(addingAll.done)}/${formatCount(addingAll.total)}…`
                : `Add all ${formatCount(source.total)}${committed ? ' matching' : ''}`}
            </button>
          </div>
        ) : null}
      </section>

      <div className="transfer-buttons">
        <button
          type="button"
          className="button"
          onClick={() => moveRight()}
          disabled={checkedLeft.size === 0}
          aria-label="Move checked instances to Selected"
          title="Move to Selected"
        >
          <IconChevronRight />
        </button>
        <button
          type="button"
          className="button"
          onClick={() => moveLeft()}
          disabled={checkedRight.size === 0}
          aria-label="Move checked instances back"
          title="Move back"
        >
          <IconChevronLeft />
        </button>
      </div>

      <section className="transfer-panel" aria-labelledby={`${id}-dst`}>
        <header className="transfer-head">
          <h3 id={`${id}-dst`}>Selected ({formatCount(selected.length)})</h3>
          {selected.length ? (
            <button type="button" className="link-button small" onClick={() => moveLeft(selected.map((i) => i.id))}>
              Clear
            </button>
          ) : null}
        </header>
        <ul className="transfer-list" aria-label="Selected instances">
          {selected.slice(0, SHOW_SELECTED).map((i) => (
            <li key={i.id} className="transfer-item" onDoubleClick={() => moveLeft([i.id])} data-instance-id={i.id}>
              <label>
                <input type="checkbox" checked={checkedRight.has(i.id)} onChange={() => toggleRight(i.id)} />
                <span className="transfer-text">
                  <span className="transfer-title">
                    <span className="transfer-name">{i.name}</span> <span className="mono muted small id">{i.id}</span>
                  </span>
                  <span className="transfer-meta">
                    <InstanceStatusPill status={i.status} />
                  </span>
                </span>
              </label>
            </li>
          ))}
          {selected.length > SHOW_SELECTED ? (
            <li className="transfer-empty muted">
              and {formatCount(selected.length - SHOW_SELECTED)} more (Clear removes all)
            </li>
          ) : null}
          {selected.length === 0 ? <li className="transfer-empty muted">Nothing selected yet.</li> : null}
        </ul>
        {showErrors && selected.length === 0 ? <p className="field-error">Select at least one instance.</p> : null}
      </section>
    </div>
  );
}
