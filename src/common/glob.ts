/**
 * Wildcard patterns as RAM policies, sshd and DescribeKeyPairs write them: `*` stands for any run of characters
 * (possibly empty), `?` for exactly one, everything else for itself (case-sensitive, one UTF-16 code unit per
 * character, line breaks included). There is no escape.
 *
 * Matching never backtracks: a pattern is `head*m1*m2*…*tail`; the head must start the text, the tail must end
 * it, and each middle piece is taken at its leftmost place after the previous one. Taking the leftmost place is
 * never wrong, because whatever follows can only gain from more room. Each search starts where the previous piece
 * ended, so the text is read about once: a literal piece by the built-in string search, a piece with `?` by a
 * bit-parallel automaton (⌈piece length/32⌉ word operations per character). A test thus costs
 * O(text length × ⌈pattern length/32⌉) at worst, whatever the number of wildcards, where a regular expression
 * built from the same pattern (`.*a.*a.*…`) backtracks through every way of splitting the text: with 6
 * wildcards and 60 characters that was seconds, on the one event loop every tenant shares.
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
  /** For a piece with `?`: its bit-parallel automaton (null for a literal piece). */
  readonly automaton: ShiftAnd | null;
}

/**
 * Shift-And (Baeza-Yates–Gonnet): bit i of the state says "the last i+1 characters match the first i+1 of the
 * piece", so one pass over the text finds where the piece first ends, at ⌈length/32⌉ word operations per
 * character, instead of comparing the whole piece again at every place.
 */
interface ShiftAnd {
  readonly words: number;
  /** Each character the piece names has a class (1, 2, …); any other character is class 0. */
  readonly asciiClass: Uint16Array;
  readonly otherClass: Map<number, number>;
  /**
   * Per class k, at [k × words, (k+1) × words): the positions where the piece has that character or `?`, 32 per
   * word (class 0: the positions of `?`). Small: a pattern costs memory in proportion to its length.
   */
  readonly masks: Uint32Array;
  /** Where the state is kept between characters (reset by each search; tests do not interleave). */
  readonly state: Uint32Array;
}

function shiftAnd(text: string): ShiftAnd {
  const words = Math.ceil(text.length / 32);
  const asciiClass = new Uint16Array(128);
  const otherClass = new Map<number, number>();
  let classes = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 63) continue;
    if (c < 128) asciiClass[c] ||= classes++;
    else if (!otherClass.has(c)) otherClass.set(c, classes++);
  }
  const masks = new Uint32Array(classes * words);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    if (c === 63) for (let k = 0; k < classes; k++) masks[k * words + word]! |= bit;
    else masks[(c < 128 ? asciiClass[c]! : otherClass.get(c)!) * words + word]! |= bit;
  }
  return { words, asciiClass, otherClass, masks, state: new Uint32Array(words) };
}

const piece = (text: string, questionMarkIsWildcard: boolean): Piece => {
  const literal = !questionMarkIsWildcard || !text.includes('?');
  return { text, literal, automaton: literal ? null : shiftAnd(text) };
};

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
  const { words, asciiClass, otherClass, masks, state } = p.automaton!;
  const length = p.text.length;
  const found = 1 << ((length - 1) & 31);
  const end = last + length;
  if (words === 1) {
    // The usual piece (up to 32 characters): the state fits one number.
    let d = 0;
    for (let j = from; j < end; j++) {
      const c = text.charCodeAt(j);
      d = ((d << 1) | 1) & masks[c < 128 ? asciiClass[c]! : (otherClass.get(c) ?? 0)]!;
      if (d & found) return j - length + 1;
    }
    return -1;
  }
  const top = words - 1;
  state.fill(0);
  for (let j = from; j < end; j++) {
    const c = text.charCodeAt(j);
    const at = (c < 128 ? asciiClass[c]! : (otherClass.get(c) ?? 0)) * words;
    // Shift the whole state left by one (a carry crosses each word boundary) and let a new match begin.
    for (let w = top; w > 0; w--) state[w] = ((state[w]! << 1) | (state[w - 1]! >>> 31)) & masks[at + w]!;
    state[0] = ((state[0]! << 1) | 1) & masks[at]!;
    if (state[top]! & found) return j - length + 1;
  }
  return -1;
}

/** Options: `?` may be an ordinary character (DescribeKeyPairs' KeyPairName knows only `*`). */
export interface GlobOptions {
  questionMark?: 'wildcard' | 'literal';
}

export function compileGlob(pattern: string, options: GlobOptions = {}): Glob {
  const q = options.questionMark !== 'literal';
  const parts = pattern.split('*');
  if (parts.length === 1) {
    const whole = piece(pattern, q);
    return {
      pattern,
      test: whole.literal
        ? (text) => text === pattern
        : (text) => text.length === pattern.length && pieceAt(whole, text, 0),
    };
  }
  if (parts.every((p) => p === '')) return { pattern, test: () => true };
  const head = piece(parts[0]!, q);
  const tail = piece(parts[parts.length - 1]!, q);
  const middles = parts
    .slice(1, -1)
    .filter((p) => p.length > 0)
    .map((p) => piece(p, q));
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
export function globMatches(pattern: string, text: string, options: GlobOptions = {}): boolean {
  return compileGlob(pattern, options).test(text);
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
