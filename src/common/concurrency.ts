/**
 * The one bounded-concurrency helper of keyfleet, shared by the core, the adapters and the console (a pure module:
 * no imports, so the browser bundle and the core's import rules both accept it). First in, first out: a batch of
 * 10,000 is started in order, and a slot freed by one task goes to whoever waited longest, across all tasks.
 */

/** A counting semaphore: `acquire` resolves when one of `size` slots is free; `release` gives it back. */
export interface Semaphore {
  acquire(): Promise<void>;
  /** Takes a slot only if one is free now (and nobody waits for one): true when it did. */
  tryAcquire(): boolean;
  release(): void;
  /** Runs `fn` in a slot. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Callers waiting for a slot. */
  readonly waiting: number;
}

export function createSemaphore(size: number): Semaphore {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a semaphore needs at least one slot, not ${size}`);
  let free = size;
  const queue: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (free > 0) {
      free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => queue.push(resolve));
  };
  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire,
    tryAcquire(): boolean {
      if (free <= 0 || queue.length > 0) return false;
      free--;
      return true;
    },
    release,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get waiting() {
      return queue.length;
    },
  };
}

/**
 * Maps `inputs` through `fn` with at most `limit` calls in flight; every input gets a settled result in input
 * order (one failure does not stop the others). `onSettled` is told how many have settled so far.
 */
export async function mapLimit<T, R>(
  inputs: readonly T[],
  limit: number,
  fn: (input: T, index: number) => Promise<R>,
  onSettled?: (settled: number) => void,
): Promise<PromiseSettledResult<R>[]> {
  const slots = createSemaphore(Math.max(1, Math.min(limit, inputs.length || 1)));
  let settled = 0;
  return Promise.all(
    inputs.map(async (input, index): Promise<PromiseSettledResult<R>> => {
      try {
        const value = await slots.run(() => fn(input, index));
        return { status: 'fulfilled', value };
      } catch (reason) {
        return { status: 'rejected', reason };
      } finally {
        onSettled?.(++settled);
      }
    }),
  );
}
