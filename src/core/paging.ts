/** One page of a list: where it starts and how long it is, clamped to what the list allows. */
export interface PageRequest {
  offset?: number;
  limit?: number;
}

/**
 * The offset and limit a store reads: a missing or negative offset starts at the beginning, and the limit is kept
 * between 1 and the list's maximum (its default when missing).
 */
export function pageOf(q: PageRequest, defaults: { limit: number; max: number }): { offset: number; limit: number } {
  // Whatever a face let through (Infinity, NaN, 1e309), the store is only ever asked for whole numbers.
  const whole = (n: number | undefined) => (Number.isSafeInteger(n) ? n : undefined);
  return {
    offset: Math.max(0, whole(q.offset) ?? 0),
    limit: Math.min(Math.max(1, whole(q.limit) ?? defaults.limit), defaults.max),
  };
}

/** The usual page of a resource list: 50 by default, 1,000 at most. */
export const LIST_PAGE = { limit: 50, max: 1000 };
