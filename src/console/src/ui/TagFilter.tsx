/** A list's tag filter and a row's tags. A filter: `key=value` or `key` (any value), applied on Enter, cleared with the × button. */
import { type FormEvent, useState } from 'react';

export function TagFilter({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    onChange(text.trim());
  };
  return (
    <form className="search tag-filter" role="search" aria-label="Filter by tag" onSubmit={apply}>
      <label htmlFor={id} className="visually-hidden">
        Filter by tag (key=value)
      </label>
      <input
        id={id}
        type="search"
        placeholder="Tag: key=value"
        value={text}
        maxLength={257}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value === '') onChange('');
        }}
        autoComplete="off"
      />
    </form>
  );
}

/** A row's tags, as small pills under its name (nothing when it has none). */
export function TagPills({ tags }: { tags: ReadonlyArray<{ key: string; value: string }> }) {
  if (tags.length === 0) return null;
  return (
    <div className="tag-pills" role="group" aria-label="Tags">
      {tags.map((t) => (
        <span key={t.key} className="pill pill-grey mono" data-tag={t.key}>
          {t.value ? `${t.key}=${t.value}` : t.key}
        </span>
      ))}
    </div>
  );
}
