/** Server-side paging controls: "1–20 of 10,000", first/previous/next/last, page size. */
import { formatCount } from '../lib/format';
import { IconChevronLeft, IconChevronRight } from './Icons';

export function Pager({
  offset,
  limit,
  total,
  onChange,
  sizes = [20, 50, 100],
  label = 'items',
}: {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number, limit: number) => void;
  sizes?: number[];
  label?: string;
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label={`Pages of ${label}`}>
      <span className="pager-range" aria-live="polite">
        {formatCount(from)}–{formatCount(to)} of {formatCount(total)}
      </span>
      <span className="pager-buttons">
        <button
          type="button"
          className="button button-small"
          onClick={() => onChange(0, limit)}
          disabled={page <= 1}
          aria-label="First page"
        >
          «
        </button>
        <button
          type="button"
          className="button button-small"
          onClick={() => onChange(Math.max(0, offset - limit), limit)}
          disabled={page <= 1}
          aria-label="Previous page"
        >
          <IconChevronLeft />
        </button>
        <span className="pager-page">
          Page {formatCount(page)} of {formatCount(pages)}
        </span>
        <button
          type="button"
          className="button button-small"
          onClick={() => onChange(offset + limit, limit)}
          disabled={page >= pages}
          aria-label="Next page"
        >
          <IconChevronRight />
        </button>
        <button
          type="button"
          className="button button-small"
          onClick={() => onChange((pages - 1) * limit, limit)}
          disabled={page >= pages}
          aria-label="Last page"
        >
          »
        </button>
      </span>
      <label className="pager-size">
        <span>Per page</span>
        <select value={limit} onChange={(e) => onChange(0, Number(e.target.value))}>
          {sizes.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
    </nav>
  );
}
