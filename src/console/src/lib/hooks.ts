/** Small data hooks: fetch with stale-response protection and polling, debounced values. */
import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first answer (or error) for the current inputs. */
  loading: boolean;
  /** True while any request is in flight (first load, reload or poll). */
  fetching: boolean;
  reload: () => void;
}

export interface ResourceOptions<T> {
  /** Poll again this many ms after each answer; a function decides from the data (null: stop polling). */
  pollMs?: number | null | ((data: T | undefined) => number | null);
  /** Keep showing the previous data while new inputs load (search, paging). */
  keepPrevious?: boolean;
}

export function useResource<T>(
  fetcher: () => Promise<T>,
  deps: DependencyList,
  opts: ResourceOptions<T> = {},
): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; fetching: boolean }>({
    data: undefined,
    error: null,
    loading: true,
    fetching: true,
  });
  const seq = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const optsRef = useRef(opts);
  optsRef.current = opts;

  const run = useCallback((fresh: boolean) => {
    const my = ++seq.current;
    window.clearTimeout(timer.current);
    setState((s) => ({
      data: fresh && !optsRef.current.keepPrevious ? undefined : s.data,
      error: fresh ? null : s.error,
      loading: fresh ? !(optsRef.current.keepPrevious && s.data !== undefined) : s.loading,
      fetching: true,
    }));
    fetcherRef.current().then(
      (data) => {
        if (my !== seq.current) return;
        setState({ data, error: null, loading: false, fetching: false });
        schedule(data);
      },
      (error: unknown) => {
        if (my !== seq.current) return;
        setState((s) => ({ data: s.data, error, loading: false, fetching: false }));
        schedule(undefined);
      },
    );
    function schedule(data: T | undefined) {
      const p = optsRef.current.pollMs;
      const ms = typeof p === 'function' ? p(data) : p;
      if (ms && ms > 0)
        timer.current = window.setTimeout(() => {
          if (my === seq.current) run(false);
        }, ms);
    }
  }, []);

  useEffect(() => {
    run(true);
    return () => {
      seq.current++;
      window.clearTimeout(timer.current);
    };
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's dependency list decides when the resource is read again
  }, deps);

  const reload = useCallback(() => run(false), [run]);
  return { ...state, reload };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Runs fn every `ms` while `active`; stops on unmount. */
export function useInterval(fn: () => void, ms: number | null): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const t = window.setInterval(() => ref.current(), ms);
    return () => window.clearInterval(t);
  }, [ms]);
}

export function useMounted(): () => boolean {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return useCallback(() => mounted.current, []);
}
