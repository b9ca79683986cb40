/**
 * Key pairs selected by their tags, the way Huawei's tag-managed services filter "resource instances" (issue 20,
 * KPS ListResourceInstancesFilter/Count): every named key must be present with one of its values (no values: any
 * value), or no tag at all; optionally a name containing some text; a page ordered by name with the total count.
 * The selection is one store query over the tag table, so counts and pages agree and nothing is read unbounded.
 *
 * Bounds (Huawei's KPS pages allow at most 10 tag filters; its tag services 10 values per key, values of up to 255
 * characters): 10 keys, 10 values per key, key 1-128 and value 0-255 characters, a name text of 1-255 characters,
 * pages of 1-1000 (default 1000). A value longer than keyfleet stores (128) is accepted and matches nothing.
 */
import type { Caller } from '../caller.js';
import { CoreError } from '../errors.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { Page, Store, TagChoice } from '../ports.js';
import { type Region, requireRegion } from '../region.js';

export const MAX_FILTER_KEYS = 10;
export const MAX_FILTER_VALUES = 10;
export const MAX_FILTER_VALUE_LENGTH = 255;
export const MAX_NAME_TEXT = 255;
/** Huawei's page: 1000 by default and at most. */
export const FILTER_PAGE = { limit: 1000, max: 1000 };
/** Offsets beyond any list keyfleet holds, and within both stores' integer range. */
export const MAX_FILTER_OFFSET = 2_147_483_647;

export interface KeyPairTagQuery {
  regionId: string;
  /** Each key must be present with one of its values; no values (or an empty list): the key with any value. */
  tags?: Array<{ key: string; values?: string[] }>;
  /** Only key pairs without any tag; `tags` are then not applied (as Huawei documents it). */
  withoutAnyTag?: boolean;
  /** Only key pairs whose name contains this text, case-sensitively (Huawei's `resource_name` match). */
  nameContains?: string;
  offset?: number;
  limit?: number;
}

const tagInvalid = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
  new CoreError('KeyPair.TagInvalid', message, { reason, ...extra });

/** The tag filters as the store takes them; refuses too many, malformed or repeated keys and values. */
export function validateTagChoices(tags: unknown): TagChoice[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags))
    throw new CoreError('Input.Invalid', 'The tag filters must be a list of {key, values}.', { parameter: 'tags' });
  if (tags.length > MAX_FILTER_KEYS)
    throw tagInvalid('count', `At most ${MAX_FILTER_KEYS} tag filters; ${tags.length} were given.`, {
      limit: MAX_FILTER_KEYS,
    });
  const keys = new Set<string>();
  return tags.map((t: unknown): TagChoice => {
    const { key, values } = (t ?? {}) as { key?: unknown; values?: unknown };
    if (typeof key !== 'string' || key === '' || key.length > 128)
      throw tagInvalid('key', `The tag key '${String(key ?? '').slice(0, 64)}' is not valid: 1 to 128 characters.`);
    if (keys.has(key)) throw tagInvalid('duplicate', `The tag key '${key.slice(0, 64)}' is given twice.`);
    keys.add(key);
    if (values === undefined || values === null) return { key, values: [] };
    if (!Array.isArray(values)) throw tagInvalid('value', `The values of tag '${key.slice(0, 64)}' must be a list.`);
    if (values.length > MAX_FILTER_VALUES)
      throw tagInvalid(
        'count',
        `At most ${MAX_FILTER_VALUES} values per tag key; '${key.slice(0, 64)}' has ${values.length}.`,
        { limit: MAX_FILTER_VALUES },
      );
    for (const v of values)
      if (typeof v !== 'string' || v.length > MAX_FILTER_VALUE_LENGTH)
        throw tagInvalid(
          'value',
          `A value of tag '${key.slice(0, 64)}' is not valid: at most ${MAX_FILTER_VALUE_LENGTH} characters.`,
        );
    if (new Set(values).size !== values.length)
      throw tagInvalid('duplicate', `A value of tag '${key.slice(0, 64)}' is given twice.`);
    return { key, values: values as string[] };
  });
}

function wholeNumber(value: unknown, parameter: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new CoreError('Input.Invalid', `The ${parameter} must be a whole number from ${min} to ${max}.`, {
      parameter,
    });
  return value;
}

function validateNameText(text: unknown): string | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || text === '' || text.length > MAX_NAME_TEXT)
    throw new CoreError('Input.Invalid', `The name to match must be 1 to ${MAX_NAME_TEXT} characters.`, {
      parameter: 'matches',
    });
  return text;
}

export function createKeyPairTagFilter(deps: { store: Store; regions: readonly Region[] }) {
  const { store, regions } = deps;

  /** The store filter of a query, every input checked (a bad one changes nothing and reads nothing). */
  function filterOf(caller: Caller, q: KeyPairTagQuery) {
    const region = requireRegion(regions, q.regionId);
    const choices = validateTagChoices(q.tags);
    const nameContains = validateNameText(q.nameContains);
    if (q.withoutAnyTag !== undefined && typeof q.withoutAnyTag !== 'boolean')
      throw new CoreError('Input.Invalid', 'without_any_tag must be true or false.', { parameter: 'without_any_tag' });
    return {
      accountId: caller.accountId,
      regionId: region.id,
      ...(q.withoutAnyTag ? { untagged: true } : choices.length > 0 ? { tagChoices: choices } : {}),
      ...(nameContains ? { nameContains } : {}),
      orderBy: 'name' as const,
    };
  }

  return {
    /** One page of the matching key pairs (with their tags), ordered by name, and how many match in all. */
    async filter(caller: Caller, q: KeyPairTagQuery): Promise<Page<KeyPair>> {
      const filter = filterOf(caller, q);
      const limit = wholeNumber(q.limit, 'limit', 1, FILTER_PAGE.max, FILTER_PAGE.limit);
      const offset = wholeNumber(q.offset, 'offset', 0, MAX_FILTER_OFFSET, 0);
      return store.keyPairs.list({ ...filter, offset, limit });
    },

    /** How many key pairs match (paging does not apply). */
    async count(caller: Caller, q: KeyPairTagQuery): Promise<number> {
      const filter = filterOf(caller, q);
      return (await store.keyPairs.list({ ...filter, offset: 0, limit: 1 })).total;
    },
  };
}

export type KeyPairTagFilter = ReturnType<typeof createKeyPairTagFilter>;
