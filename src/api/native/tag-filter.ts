/**
 * The native API's tag filter: `tag=key=value` (the value may be empty) or `tag=key` (any value), repeatable, every
 * one must match. The key ends at the first '=', so a value may hold '=' but a key may not.
 */
import { Type } from 'typebox';
import type { Tag } from '../../core/keypair/keypair.js';

const One = Type.String({ minLength: 1, maxLength: 257 });
export const TagFilterQuery = Type.Optional(Type.Union([One, Type.Array(One, { maxItems: 20 })]));

export function tagFilterOf(q: string | string[] | undefined): Tag[] | undefined {
  if (q === undefined) return undefined;
  const list = Array.isArray(q) ? q : [q];
  return list.map((s) => {
    const at = s.indexOf('=');
    return at < 0 ? { key: s, value: '' } : { key: s.slice(0, at), value: s.slice(at + 1) };
  });
}
