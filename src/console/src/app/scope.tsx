/**
 * The region and resource group chosen in the top bar; every page is scoped by them. The choice is a preference,
 * not a secret, so it is remembered in localStorage (and can be set by ?region= in a link).
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Region, ResourceGroup } from '../api/types';

const REGION_KEY = 'keyfleet.console.region';
const GROUP_KEY = 'keyfleet.console.resourceGroup';

interface Scope {
  regions: Region[];
  groups: ResourceGroup[];
  regionId: string;
  /** '' = all resource groups. */
  groupId: string;
  setRegion: (id: string) => void;
  setGroup: (id: string) => void;
  regionName: (id: string) => string;
  groupName: (id: string) => string;
  /** Reads the groups again (after one is created, renamed or deleted). */
  reloadGroups: () => Promise<void>;
}

const Ctx = createContext<Scope | null>(null);

export function useScope(): Scope {
  const s = useContext(Ctx);
  if (!s) throw new Error('useScope outside ScopeProvider');
  return s;
}

function pref(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function savePref(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // preferences are optional
  }
}

export type ScopeLoad =
  | { status: 'loading' }
  | { status: 'error'; error: unknown; retry: () => void }
  | { status: 'ready' };

export function ScopeProvider({ children, fallback }: { children: ReactNode; fallback: (s: ScopeLoad) => ReactNode }) {
  const [load, setLoad] = useState<ScopeLoad>({ status: 'loading' });
  const [regions, setRegions] = useState<Region[]>([]);
  const [groups, setGroups] = useState<ResourceGroup[]>([]);
  const [regionId, setRegionId] = useState('');
  const [groupId, setGroupId] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setLoad({ status: 'loading' });
    Promise.all([api.regions(), api.resourceGroups()]).then(
      ([r, g]) => {
        if (!live) return;
        setRegions(r.regions);
        setGroups(g.resourceGroups);
        const fromUrl = new URLSearchParams(window.location.search).get('region') ?? '';
        const wanted = [fromUrl, pref(REGION_KEY)].find((id) => r.regions.some((x) => x.id === id));
        setRegionId(wanted ?? r.regions[0]?.id ?? '');
        const g0 = pref(GROUP_KEY);
        setGroupId(g.resourceGroups.some((x) => x.id === g0) ? g0 : '');
        setLoad({ status: 'ready' });
      },
      (error: unknown) => live && setLoad({ status: 'error', error, retry: () => setAttempt((a) => a + 1) }),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  const setRegion = useCallback((id: string) => {
    setRegionId(id);
    savePref(REGION_KEY, id);
  }, []);
  const setGroup = useCallback((id: string) => {
    setGroupId(id);
    savePref(GROUP_KEY, id);
  }, []);

  const reloadGroups = useCallback(async () => {
    const g = await api.resourceGroups();
    setGroups(g.resourceGroups);
    setGroupId((cur) => (g.resourceGroups.some((x) => x.id === cur) ? cur : ''));
  }, []);

  const value = useMemo<Scope>(
    () => ({
      regions,
      groups,
      regionId,
      groupId,
      setRegion,
      setGroup,
      regionName: (id) => regions.find((r) => r.id === id)?.localName ?? id,
      groupName: (id) => groups.find((g) => g.id === id)?.name ?? id,
      reloadGroups,
    }),
    [regions, groups, regionId, groupId, setRegion, setGroup, reloadGroups],
  );

  if (load.status !== 'ready') return <>{fallback(load)}</>;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
