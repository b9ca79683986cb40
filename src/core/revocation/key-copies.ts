/**
 * Finding and removing copies of one key in an authorized_keys file. Pure. Lines are recognised by
 * parseAuthorizedKeys, the parser the rest of keyfleet uses, so keyfleet's own lines (whatever options it writes on
 * them, such as expiry-time) are told apart by its `managed` flag and never by a pattern of this module.
 *
 * Removal drops exactly the lines that authorise the key and that keyfleet did not write; every other byte of the
 * file (other lines, their terminators, a last line without a newline, CRLF endings) stays as it was.
 */
import { parseAuthorizedKeys } from '../binding/authorized-keys.js';
import type { KeyCopy } from './revocation.js';
import { hasFingerprint } from './revoked-key.js';

export interface FileRef {
  account: 'user' | 'root';
  user: string;
  path: string;
}

/** How a line is matched: by the key body, or (a fingerprint whose key is not known yet) by fingerprint. */
export type KeyMatch = { base64: string } | { fingerprint: string };

export function matches(match: KeyMatch, base64: string): boolean {
  return 'base64' in match ? match.base64 === base64 : hasFingerprint(base64, match.fingerprint);
}

/** Every line of the file that authorises the key, with the body and type found there. */
export function findCopies(
  file: FileRef,
  content: string | null,
  match: KeyMatch,
): Array<KeyCopy & { type: string; base64: string }> {
  if (content === null) return [];
  return parseAuthorizedKeys(content)
    .entries.filter((e) => matches(match, e.base64))
    .map((e) => ({
      account: file.account,
      user: file.user,
      path: file.path,
      line: e.lineNo,
      inBlock: e.inBlock || e.managed,
      managed: e.managed,
      hasOptions: e.options !== null,
      type: e.type,
      base64: e.base64,
    }));
}

/**
 * The file without the lines keyfleet did not write that authorise the key; `removed` counts them (0: the content
 * is returned as it was).
 */
export function removeCopies(content: string, base64: string): { content: string; removed: number } {
  const drop = new Set(
    parseAuthorizedKeys(content)
      .entries.filter((e) => !e.managed && e.base64 === base64)
      .map((e) => e.lineNo - 1),
  );
  if (drop.size === 0) return { content, removed: 0 };
  // Each line with its own terminator, so what is kept is exactly the bytes it had.
  const segments = content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return { content: segments.filter((_, i) => !drop.has(i)).join(''), removed: drop.size };
}
