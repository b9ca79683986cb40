/**
 * The tags of one key pair or instance: each shown as `key=value` with a remove button, and a form to add one (a
 * key it has already takes the new value). The rules are checked in the browser first (1-128 characters, no
 * `aliyun`/`acs:` prefix, at most 20 tags) and again by the server, whose answer is shown as it is.
 */
import { type FormEvent, useState } from 'react';
import { type Tag, type TaggableType, tagsApi } from '../api/tags';
import { InlineError } from './States';

const MAX_TAGS = 20;

function ruleBroken(key: string, value: string, tags: readonly Tag[]): string | null {
  if (!key) return 'Enter a tag key.';
  if (key.length > 128) return 'A tag key is at most 128 characters.';
  if (/^(aliyun|acs:)/i.test(key)) return "A tag key cannot start with 'aliyun' or 'acs:'.";
  if (value.length > 128) return 'A tag value is at most 128 characters.';
  if (/^acs:/i.test(value)) return "A tag value cannot start with 'acs:'.";
  if (/https?:\/\//i.test(key + value)) return 'Tags cannot contain http:// or https://.';
  if (!tags.some((t) => t.key === key) && tags.length >= MAX_TAGS) return `A resource has at most ${MAX_TAGS} tags.`;
  return null;
}

export function TagsEditor({
  regionId,
  resourceType,
  resourceId,
  tags,
  onChanged,
}: {
  regionId: string;
  resourceType: TaggableType;
  /** A key pair's name or an instance's id. */
  resourceId: string;
  tags: readonly Tag[];
  onChanged: (tags: Tag[]) => void;
}) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [hint, setHint] = useState<string | null>(null);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const k = key.trim();
    const broken = ruleBroken(k, value, tags);
    setHint(broken);
    if (broken) return;
    setBusy(true);
    setError(null);
    try {
      await tagsApi.tag(regionId, resourceType, [resourceId], [{ key: k, value }]);
      onChanged([...tags.filter((t) => t.key !== k), { key: k, value }].sort((a, b) => a.key.localeCompare(b.key)));
      setKey('');
      setValue('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (k: string) => {
    setBusy(true);
    setError(null);
    try {
      await tagsApi.untag(regionId, resourceType, [resourceId], [k]);
      onChanged(tags.filter((t) => t.key !== k));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tags-editor">
      {tags.length === 0 ? (
        <p className="muted">No tags.</p>
      ) : (
        <ul className="tag-list" aria-label="Tags">
          {tags.map((t) => (
            <li key={t.key} className="pill pill-blue" data-tag={t.key}>
              <span className="mono">{t.value ? `${t.key}=${t.value}` : t.key}</span>
              <button
                type="button"
                className="link-button"
                aria-label={`Remove tag ${t.key}`}
                disabled={busy}
                onClick={() => void remove(t.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="tag-add" onSubmit={(e) => void add(e)}>
        <label>
          <span>Key</span>
          <input value={key} maxLength={128} onChange={(e) => setKey(e.target.value)} aria-label="Tag key" />
        </label>
        <label>
          <span>Value</span>
          <input value={value} maxLength={128} onChange={(e) => setValue(e.target.value)} aria-label="Tag value" />
        </label>
        <button type="submit" className="button" disabled={busy}>
          Add tag
        </button>
      </form>
      {hint ? (
        <p className="field-error" role="alert">
          {hint}
        </p>
      ) : null}
      <InlineError error={error} />
      <p className="muted small">
        Up to {MAX_TAGS} tags; keys and values up to 128 characters. Filter lists by a tag with key=value.
      </p>
    </div>
  );
}
