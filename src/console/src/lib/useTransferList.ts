/**
 * The state of a transfer list: the source instances, searched and paged on the server, and the Selected side,
 * with the moves between them. Instances that cannot take a key pair (when binding) cannot be moved.
 */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Instance, KeyPair } from '../api/types';
import { useScope } from '../app/scope';
import { useDebounced } from './hooks';

const PAGE = 50;
/** The native API takes up to 10,000 instances per call (KEYFLEET_NATIVE_MAX_BATCH). */
export const MAX_SELECTED = 10_000;

function toggle(set: Set<string>, idv: string): Set<string> {
  const n = new Set(set);
  if (n.has(idv)) n.delete(idv);
  else n.add(idv);
  return n;
}

export function useTransferList(keyPair: KeyPair, action: 'bind' | 'unbind', onError: (err: unknown) => void) {
  const { regionId, groupId } = useScope();
  const [search, setSearch] = useState('');
  const [committed, setCommitted] = useState('');
  const debounced = useDebounced(search.trim(), 300);
  useEffect(() => setCommitted(debounced), [debounced]);
  const [source, setSource] = useState<{ items: Instance[]; total: number; loading: boolean; error: unknown }>({
    items: [],
    total: 0,
    loading: true,
    error: null,
  });
  const [page, setPage] = useState(0);
  const [reloadKey, setReloadKey] = useState(0);
  /** A page of the instances that match the search (when unbinding: those bound to the key pair). */
  const query = (offset: number, limit: number) =>
    api.instances(regionId, {
      search: committed || undefined,
      resourceGroupId: groupId || undefined,
      ...(action === 'unbind' ? { keyPairName: keyPair.name } : {}),
      offset,
      limit,
    });

  // A new filter (committed) starts again at the first page.
  useEffect(() => setPage(0), [committed]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query function is made anew on every render; the page and the committed filter select the data
  useEffect(() => {
    let live = true;
    setSource((s) => ({ ...s, loading: true, error: null }));
    query(page * PAGE, PAGE).then(
      (r) =>
        live &&
        setSource((s) => ({
          items: page === 0 ? r.items : [...s.items, ...r.items],
          total: r.total,
          loading: false,
          error: null,
        })),
      (error: unknown) => live && setSource((s) => ({ ...s, loading: false, error })),
    );
    return () => {
      live = false;
    };
  }, [regionId, groupId, committed, page, action, keyPair.name, reloadKey]);

  const [selected, setSelected] = useState<Instance[]>([]);
  const [checkedLeft, setCheckedLeft] = useState<Set<string>>(new Set());
  const [checkedRight, setCheckedRight] = useState<Set<string>>(new Set());
  const selectedIds = useMemo(() => new Set(selected.map((i) => i.id)), [selected]);
  const available = source.items.filter((i) => !selectedIds.has(i.id));
  const movable = (i: Instance) => action === 'unbind' || i.canBindKeyPair;
  const movableLeft = available.filter(movable);

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
        const r = await query(offset, 1000);
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
      onError(err);
    } finally {
      setAddingAll(null);
    }
  };
  const toggleLeft = (idv: string) => setCheckedLeft((s) => toggle(s, idv));
  const toggleRight = (idv: string) => setCheckedRight((s) => toggle(s, idv));
  const toggleAllLeft = () => setCheckedLeft(allLeftChecked ? new Set() : new Set(movableLeft.map((i) => i.id)));
  const showMore = () => setPage((p) => p + 1);
  const retry = () => setReloadKey((k) => k + 1);
  return {
    search,
    setSearch,
    committed,
    setCommitted,
    source,
    showMore,
    retry,
    selected,
    available,
    movable,
    movableLeft,
    checkedLeft,
    checkedRight,
    allLeftChecked,
    toggleLeft,
    toggleRight,
    toggleAllLeft,
    moveRight,
    moveLeft,
    addAllMatching,
    addingAll,
  };
}

export type TransferList = ReturnType<typeof useTransferList>;
