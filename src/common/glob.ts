/**
 * Wildcard patterns as RAM policies, sshd and DescribeKeyPairs write them: `*` stands for any run of characters
 * (possibly empty), `?` for exactly one, everything else for itself (case-sensitive, one UTF-16 code unit per
 * character, line breaks included). There is no escape.
 *
 * Matching never backtracks: a pattern is `head*m1*m2*…*tail`; the head must start the text, the tail must end
 * it, and each middle piece is taken at its leftmost place after the previous one. Taking the leftmost place is
 * never wrong, because whatever follows can only gain from more room. So a test costs at most
 * O(pattern length × text length), whatever the number of wildcards, where a regular expression built from the
 * same pattern (`.*a.*a.*…`) backtracks through every way of splitting the text: with 10 wildcards and 60
 * characters that was seconds, on the one event loop every tenant shares.
 *
 * Pure: no imports.
 */

/** A pattern compiled once, tested many times. */
export interface Glob {
  readonly pattern: string;
  test(text: string): boolean;
}

/** A run of the pattern without `*`: literal characters and `?`. */
interface Piece {
  readonly text: string;
  /** The piece has no `?`, so the built-in string search can find it. */
  readonly literal: boolean;
}

const piece = (text: string): Piece => ({ text, literal: !text.includes('?') });

/** Whether `p` matches `text` at `at` (the caller has checked that it fits). */
function pieceAt(p: Piece, text: string, at: number): boolean {
  if (p.literal) return text.startsWith(p.text, at);
  const s = p.text;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The leftmost place in [from, last] where `p` matches, or -1. */
function findPiece(p: Piece, text: string, from: number, last: number): number {
  if (p.literal) {
    const at = text.indexOf(p.text, from);
    return at !== -1 && at <= last ? at : -1;
  }
  for (let at = from; at <= last; at++) if (pieceAt(p, text, at)) return at;
  return -1;
}

export function compileGlob(pattern: string): Glob {
  const parts = pattern.split('*');
  if (parts.length === 1) {
    const whole = piece(pattern);
    return {
      pattern,
      test: whole.literal
        ? (text) => text === pattern
        : (text) => text.length === pattern.length && pieceAt(whole, text, 0),
    };
  }
  const head = piece(parts[0]!);
  const tail = piece(parts[parts.length - 1]!);
  const middles = parts
    .slice(1, -1)
    .filter((p) => p.length > 0)
    .map(piece);
  const shortest = middles.reduce((n, p) => n + p.text.length, head.text.length + tail.text.length);
  return {
    pattern,
    test(text) {
      if (text.length < shortest) return false;
      const end = text.length - tail.text.length;
      if (!pieceAt(head, text, 0) || !pieceAt(tail, text, end)) return false;
      let from = head.text.length;
      for (const m of middles) {
        const at = findPiece(m, text, from, end - m.text.length);
        if (at === -1) return false;
        from = at + m.text.length;
      }
      return true;
    },
  };
}

/** One-off test; compile with compileGlob when the pattern is tested more than once. */
export function globMatches(pattern: string, text: string): boolean {
  return compileGlob(pattern).test(text);
}

/** The number of `*` and `?` in a pattern (policy limits count them). */
export function wildcardCount(pattern: string): number {
  let n = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 42 || c === 63) n++;
  }
  return n;
}
