/**
 * A store shared with a process that can be frozen (as by SIGSTOP) in tests that run several runners on one
 * store: while frozen, each of its store calls waits, and runs when it is thawed; a frozen process that is never
 * thawed never touches the store again (as a process killed with -9).
 */
import type { OpenedStore } from '../../src/store/open-store.js';

/**
 * The store as a frozen process sees it: after freeze() every call waits until thaw(), as a SIGSTOPped keyfleet's
 * calls would (they run when it continues).
 */
export function freezable(inner: OpenedStore) {
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  const wait = async () => {
    while (gate) await gate;
  };
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, recv) {
        const v = Reflect.get(t, prop, recv);
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          await wait();
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const wrapped = new Proxy(inner, {
    get(t, prop, recv) {
      if (prop === 'tasks') return wrap(t.tasks);
      if (prop === 'transaction')
        return async <R>(fn: (tx: typeof t) => Promise<R>) => {
          await wait();
          return t.transaction((tx) =>
            fn(new Proxy(tx, { get: (x, p, r) => (p === 'tasks' ? wrap(x.tasks) : Reflect.get(x, p, r)) }) as typeof t),
          );
        };
      return Reflect.get(t, prop, recv);
    },
  });
  return {
    store: wrapped,
    freeze() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    thaw() {
      gate = null;
      open();
    },
  };
}
