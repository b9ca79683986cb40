/** Offset and page size of a server-side paged list, back to the first page whenever `resetOn` changes. */
import { type DependencyList, useEffect, useState } from 'react';

export function usePaging(initialLimit: number, resetOn: DependencyList) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(initialLimit);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what resets the page
  useEffect(() => setOffset(0), resetOn);
  return {
    offset,
    limit,
    setOffset,
    /** Spread into <Pager>. */
    pager: {
      offset,
      limit,
      onChange: (o: number, l: number) => {
        setOffset(o);
        setLimit(l);
      },
    },
  };
}
