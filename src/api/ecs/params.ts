/**
 * Reading RPC parameters with Alibaba's errors. The values come merged from the query and the form body and
 * already percent-decoded (signature/parse.ts does that once, for the signature). The shapes are the wire's
 * (API.md §1, SDK-TRAFFIC §1.2): scalars as text, booleans `true`/`false`, lists as JSON-array strings
 * (`InstanceIds=["i-a","i-b"]`), structured lists flattened 1-based (`Tag.1.Key`, `Tag.1.Value`, …).
 *
 * A required parameter that is absent or empty is MissingParameter; a value of the wrong shape is
 * InvalidParameter naming the parameter. Names are case-sensitive, as on the wire.
 */
import type { Tag } from '../../core/keypair/keypair.js';
import { type EcsError, ecsErrors } from './errors.js';

/** Alibaba's Tag.N runs from 1 to 20 (API.md §3.1, §3.7). */
export const MAX_TAGS = 20;

const TAG_PARAM = /^Tag\.([1-9]\d{0,5})\.(Key|Value)$/;

export interface TagParam {
  key: string | undefined;
  value: string | undefined;
}

export class Params {
  constructor(private readonly values: Readonly<Record<string, string>>) {}

  /** The value, or undefined when absent or empty (the SDKs never send a parameter the caller left out). */
  optional(name: string): string | undefined {
    const v = Object.hasOwn(this.values, name) ? this.values[name] : undefined;
    return v === undefined || v === '' ? undefined : v;
  }

  /**
   * An optional filter no longer than `max` characters, else InvalidParameter: the native API's bounds for the same
   * filters. A name pattern reaches the store as a LIKE pattern, and SQLite refuses one over 50,000 bytes (a 500).
   */
  filter(name: string, max: number): string | undefined {
    const v = this.optional(name);
    if (v !== undefined && v.length > max) throw ecsErrors.invalidParameter(name);
    return v;
  }

  required(name: string): string {
    const v = this.optional(name);
    if (v === undefined) throw ecsErrors.missingParameter(name);
    return v;
  }

  /** Names of the parameters present, for operations that must refuse what they cannot honour. */
  names(): string[] {
    return Object.keys(this.values);
  }

  integer(name: string, range: { min: number; max: number }, fallback: number): number;
  integer(name: string, range: { min: number; max: number }): number | undefined;
  integer(name: string, range: { min: number; max: number }, fallback?: number): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,15}$/.test(v)) throw ecsErrors.invalidParameter(name);
    const n = Number(v);
    if (n < range.min || n > range.max) throw ecsErrors.invalidParameter(name);
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw ecsErrors.invalidParameter(name);
  }

  /** One of the listed values, or `notFound()` (Alibaba answers unknown enumeration values with operation-specific codes). */
  oneOf<T extends string>(name: string, allowed: readonly T[], notFound: () => EcsError): T | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw notFound();
    return v as T;
  }

  /**
   * A JSON-array parameter, parsed but not judged: the elements are checked by whoever owns the rule (the core
   * checks batches of instance IDs). Text that is not a JSON array gets `notAnArray()`.
   */
  jsonArray(name: string, notAnArray: () => EcsError): unknown[] {
    const raw = this.required(name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw notAnArray();
    }
    if (!Array.isArray(parsed)) throw notAnArray();
    return parsed;
  }

  /**
   * A repeat list (`ResourceId.1`, `ResourceId.2`, …) in N order, empty values skipped. N above `max` is refused
   * (InvalidParameter), so a request cannot name more elements than the operation takes.
   */
  repeatList(name: string, max: number): string[] {
    const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}\\.([1-9]\\d{0,5})$`);
    const byIndex = new Map<number, string>();
    for (const key of Object.keys(this.values)) {
      const m = pattern.exec(key);
      if (!m) continue;
      const n = Number(m[1]);
      if (n > max) throw ecsErrors.invalidParameter(`${name}.N`);
      const v = this.values[key];
      if (v !== undefined && v !== '') byIndex.set(n, v);
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** `Tag.N.Key` / `Tag.N.Value` pairs in N order. */
  tagParams(): TagParam[] {
    const byIndex = new Map<number, TagParam>();
    for (const name of this.names()) {
      const m = TAG_PARAM.exec(name);
      if (!m) continue;
      const n = Number(m[1]);
      const entry = byIndex.get(n) ?? { key: undefined, value: undefined };
      // An empty value is a real value for tags (API.md §3.1: Tag.N.Value may be empty).
      if (m[2] === 'Key') entry.key = this.values[name];
      else entry.value = this.values[name];
      byIndex.set(n, entry);
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
  }

  /**
   * Tags to set on a new resource. They go to the core as given (a value without a key becomes an empty key):
   * the core's tag rule then answers InvalidTagKey.Malformed, InvalidTagValue.Malformed, Duplicate.TagKey or
   * QuotaExceed.Tags.
   */
  tagsToSet(): Tag[] {
    return this.tagParams().map((t) => ({ key: t.key ?? '', value: t.value ?? '' }));
  }

  /** Tags to filter by (API.md §3.3, §3.7): a value needs its key; at most 20. A key alone matches any value. */
  tagFilters(): Tag[] {
    const tags = this.tagParams();
    if (tags.some((t) => t.key === undefined || t.key === '')) throw ecsErrors.tagMismatch();
    if (tags.length > MAX_TAGS) throw ecsErrors.tagCount();
    return tags.map((t) => ({ key: t.key!, value: t.value ?? '' }));
  }
}
