import { CoreError } from '../errors.js';
import type { KeyAlgorithm } from './public-key.js';
import { isKeyPairName, KEY_PAIR_NAME_MAX } from '../../common/names.js';
import { compileGlob } from '../../common/glob.js';

export interface Tag {
  key: string;
  value: string;
}

/** KeyPair is a named public key of an account in a region. The private key is never stored in the clear. */
export interface KeyPair {
  id: string;
  accountId: string;
  regionId: string;
  name: string;
  algorithm: KeyAlgorithm;
  bits: number;
  /** The OpenSSH public key line as imported or generated, comment included. */
  publicKey: string;
  fingerprintMd5: string;
  fingerprintSha256: string;
  resourceGroupId: string;
  tags: Tag[];
  description: string;
  createdAt: Date;
  /** Private key escrow: an envelope-encrypted private key, or null. */
  escrowedPrivateKey: string | null;
}

export { KEY_PAIR_NAME_MAX };
export const MAX_TAGS = 20;

export function validateKeyPairName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new CoreError('Input.Missing', 'The key pair name is required.', { parameter: 'KeyPairName' });
  }
  // The union of what the Alibaba and Huawei faces accept; each face narrows it further to its own documented rule.
  if (!isKeyPairName(name)) {
    throw new CoreError(
      'KeyPair.NameMalformed',
      `The key pair name '${name.slice(0, 64)}' is not valid: use 1-${KEY_PAIR_NAME_MAX} letters, digits, ':', '_', '.' or '-', starting with a letter or digit.`,
      { parameter: 'KeyPairName' },
    );
  }
  return name;
}

export function validateTags(tags: readonly Tag[] | undefined): Tag[] {
  if (!tags || tags.length === 0) return [];
  if (tags.length > MAX_TAGS) {
    throw new CoreError('KeyPair.TagInvalid', `At most ${MAX_TAGS} tags are allowed; ${tags.length} were given.`);
  }
  const seen = new Set<string>();
  for (const t of tags) {
    if (!t.key || t.key.length > 128 || /^(aliyun|acs:)/i.test(t.key) || /https?:\/\//i.test(t.key)) {
      throw new CoreError('KeyPair.TagInvalid', `The tag key '${(t.key ?? '').slice(0, 64)}' is not valid.`, {
        reason: 'key',
      });
    }
    if (t.value.length > 128 || /^acs:/i.test(t.value) || /https?:\/\//i.test(t.value)) {
      throw new CoreError('KeyPair.TagInvalid', `The value of tag '${t.key}' is not valid.`, { reason: 'value' });
    }
    if (seen.has(t.key))
      throw new CoreError('KeyPair.TagInvalid', `The tag key '${t.key}' is given twice.`, { reason: 'duplicate' });
    seen.add(t.key);
  }
  return tags.map((t) => ({ key: t.key, value: t.value }));
}

/**
 * Tag filters of a listing: at most 20, each a key of 1-128 characters with a value of at most 128 (an empty value
 * matches the key with any value). Bounded like the tags themselves, so a filter cannot grow a query without end.
 */
export function validateTagFilters(tags: readonly Tag[] | undefined): Tag[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  if (tags.length > MAX_TAGS)
    throw new CoreError('KeyPair.TagInvalid', `At most ${MAX_TAGS} tag filters; ${tags.length} were given.`, {
      reason: 'count',
      limit: MAX_TAGS,
    });
  for (const t of tags) {
    if (typeof t.key !== 'string' || t.key === '' || t.key.length > 128)
      throw new CoreError('KeyPair.TagInvalid', `The tag key '${String(t.key ?? '').slice(0, 64)}' is not valid.`, {
        reason: 'key',
      });
    if (typeof t.value !== 'string' || t.value.length > 128)
      throw new CoreError('KeyPair.TagInvalid', `The value of tag '${t.key}' is not valid.`, { reason: 'value' });
  }
  return tags.map((t) => ({ key: t.key, value: t.value }));
}

/** Matches a name against a pattern where '*' is a wildcard, as DescribeKeyPairs does. */
export function nameMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  // Without backtracking (a regular expression of `.*`s stalled the event loop for seconds on a crafted name).
  return compileGlob(pattern, { questionMark: 'literal' }).test(name);
}
