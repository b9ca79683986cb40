/** The wildcard matcher of policies: the answers of a naive evaluation, without its cost. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob, globMatches, wildcardCount } from '../../src/common/glob.js';

/** The definition, written as directly as possible: `*` tries every split, `?` takes one character. */
function naive(pattern: string, text: string, p = 0, t = 0): boolean {
  if (p === pattern.length) return t === text.length;
  const c = pattern[p];
  if (c === '*') return naive(pattern, text, p + 1, t) || (t < text.length && naive(pattern, text, p, t + 1));
  if (t === text.length) return false;
  return (c === '?' || c === text[t]) && naive(pattern, text, p + 1, t + 1);
}

/** What policies used before: a regular expression built from the pattern ('s': `?` takes a line break too). */
function viaRegExp(pattern: string, text: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(text);
}

/** mulberry32: a seeded generator whose low bits are as random as its high ones; rand(n) is in [0, n). */
function seededRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

describe('glob matching', () => {
  it('examples', () => {
    const cases: Array<[string, string, boolean]> = [
      ['', '', true],
      ['', 'a', false],
      ['*', '', true],
      ['*', 'anything: at/all', true],
      ['?', '', false],
      ['?', 'x', true],
      ['?', 'xy', false],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['a**b', 'ab', true],
      ['*a*', 'bab', true],
      ['*a*', 'bbb', false],
      ['keypair/prod-*', 'keypair/prod-web', true],
      ['keypair/prod-*', 'keypair/Prod-web', false],
      ['ecs:Detach*', 'ecs:DetachKeyPair', true],
      ['ECS:DetachKeyPair', 'ecs:DetachKeyPair', false],
      ['*?', '', false],
      ['*?*', 'x', true],
      ['a?c', 'a\nc', true],
      ['*.*', 'a.b', true],
      ['*.*', 'ab', false],
      ['[ab]', 'a', false],
      ['[ab]', '[ab]', true],
      ['a*b?d*e', 'axxbcdyye', true],
      ['a*b?d*e', 'axxbcdyy', false],
      ['*ab*ab*', 'abab', true],
      ['*ab*ab*', 'aba', false],
      ['*aa*aa*', 'aaa', false],
      ['*aa*aa*', 'aaaa', true],
      ['*aab', 'aaab', true],
      ['*a?b*', 'xaaybab', true],
      ['*', '*', true],
      ['?', '*', true],
      ['a', '*', false],
    ];
    for (const [pattern, text, expected] of cases) {
      assert.equal(globMatches(pattern, text), expected, `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`);
      assert.equal(naive(pattern, text), expected, `naive: ${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`);
    }
  });

  it('answers as the naive definition and the old regular expression on random patterns and texts (seeded)', () => {
    const rand = seededRandom(20261207);
    const draw = (alphabet: string, max: number) =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join('');
    let matched = 0;
    const total = 20_000;
    for (let n = 0; n < total; n++) {
      // Small alphabets make repeated and overlapping pieces (`*aa*aa*` against `aaa`) common; the texts use the
      // patterns' letters (and sometimes a literal '*' or '?'), so that many of them match.
      const [letters, texts] = [
        ['ab:/*??**', 'aab:/'],
        ['aa*?b*', 'aab'],
        ['a*?', 'a'],
        ['ab:/*?', 'ab:/*?'],
      ][rand(4)]!;
      const pattern = draw(letters!, 9);
      const text = draw(texts!, 12);
      const glob = compileGlob(pattern);
      const expected = naive(pattern, text);
      const context = `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`;
      assert.equal(glob.test(text), expected, context);
      assert.equal(viaRegExp(pattern, text), expected, `old: ${context}`);
      if (expected) matched++;
    }
    // Both answers occur often, so the comparison says something about each.
    assert.ok(matched > total / 10 && matched < (total * 9) / 10, `${matched} of ${total} matched`);
  });

  it('long pieces with `?` (several words of the bit-parallel search) answer as the naive definition (seeded)', () => {
    const rand = seededRandom(32);
    // Mostly 'a' with a rare 'b': pieces nearly match at many places, and a match may end anywhere.
    const run = (n: number, q: number) =>
      Array.from({ length: n }, () => (rand(q) === 0 ? '?' : rand(12) === 0 ? 'b' : 'a')).join('');
    let matched = 0;
    const total = 1_000;
    for (let n = 0; n < total; n++) {
      const pieces = Array.from({ length: 1 + rand(3) }, () => run(rand(80), 1 + rand(4)));
      const pattern = (rand(2) ? '*' : '') + pieces.join('*') + (rand(2) ? '*' : '');
      const text = Array.from({ length: rand(160) }, () => (rand(20) === 0 ? 'b' : 'a')).join('');
      const expected = naive(pattern, text);
      assert.equal(compileGlob(pattern).test(text), expected, `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`);
      if (expected) matched++;
    }
    assert.ok(matched > total / 20 && matched < (total * 19) / 20, `${matched} of ${total} matched`);
  });

  it("with questionMark 'literal', only `*` is a wildcard (answers as the naive definition with ? escaped)", () => {
    const rand = seededRandom(7);
    const draw = (alphabet: string, max: number) =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join('');
    const starOnly = (pattern: string, text: string, p = 0, t = 0): boolean => {
      if (p === pattern.length) return t === text.length;
      if (pattern[p] === '*')
        return starOnly(pattern, text, p + 1, t) || (t < text.length && starOnly(pattern, text, p, t + 1));
      return t < text.length && pattern[p] === text[t] && starOnly(pattern, text, p + 1, t + 1);
    };
    for (let n = 0; n < 5_000; n++) {
      const pattern = draw('a?*b', 8);
      const text = draw('a?b', 10);
      assert.equal(
        globMatches(pattern, text, { questionMark: 'literal' }),
        starOnly(pattern, text),
        `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`,
      );
    }
    assert.equal(globMatches('a?', 'ab', { questionMark: 'literal' }), false);
    assert.equal(globMatches('a?*', 'a?b', { questionMark: 'literal' }), true);
  });

  it('a compiled pattern tests many texts with the same answers as fresh ones', () => {
    const glob = compileGlob('a*?b*');
    for (const text of ['ab', 'axb', 'axxbyy', 'b', 'axb', 'ab']) assert.equal(glob.test(text), naive('a*?b*', text));
    assert.equal(glob.pattern, 'a*?b*');
  });

  it('the pathological patterns of issue 18 give their answer (they stalled a backtracking matcher for seconds)', () => {
    const name = 'acs:ecs:cn-hangzhou:acc-1:keypair/' + 'a'.repeat(60);
    assert.equal(globMatches('acs:ecs:*:*:keypair/*a*a*a*a*a*a!', name), false);
    assert.equal(globMatches('acs:ecs:*:*:keypair/*a*a*a*a*a*a', name), true);
    assert.equal(globMatches('*?*?*?*?*?*?*?*?*?#', 'kps:SSHKeyPair:exportPrivateKey'), false);
    assert.equal(globMatches('*?*?*?*?*?*?*?*?*?y', 'kps:SSHKeyPair:exportPrivateKey'), true);
    const twenty = `${'*a'.repeat(19)}*!`;
    assert.equal(wildcardCount(twenty), 20);
    assert.equal(globMatches(twenty, 'a'.repeat(255)), false);
    assert.equal(globMatches(twenty.slice(0, -2), 'a'.repeat(255)), true);
  });

  it('counts wildcards', () => {
    assert.equal(wildcardCount(''), 0);
    assert.equal(wildcardCount('acs:ecs:*:*:keypair/a?b*'), 4);
  });
});
