/**
 * The dry run's unified diff (core/binding/unified-diff.ts) is a real unified diff: GNU patch(1) applied to the old
 * text gives the new one, for the edits keyfleet makes (a block added, emptied, replaced; a file created or removed)
 * and for random edits of random files, including a middle too long to align (shown as a replacement).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { unifiedDiff } from '../../src/core/binding/unified-diff.js';
import { tempDir } from '../support/keyfleet.js';

function applyWithPatch(before: string | null, diff: string): string {
  const dir = tempDir();
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, before ?? '');
  fs.writeFileSync(path.join(dir, 'p'), diff.replace(/^--- .*\n\+\+\+ .*\n/, '--- a/f\n+++ b/f\n'));
  execFileSync('patch', ['-s', file, path.join(dir, 'p')]);
  return fs.readFileSync(file, 'utf8');
}

/** A small deterministic generator, so a failure names its seed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('unifiedDiff', () => {
  test('equal texts give no diff; keyfleet-shaped edits apply with patch(1)', () => {
    assert.equal(unifiedDiff('/x', 'a\nb\n', 'a\nb\n'), '');
    assert.equal(unifiedDiff('/x', null, null), '');
    const hand = '# by hand\nssh-ed25519 AAAA hand\n';
    const block = (k: string) => `# >>> keyfleet >>>\n${k}\n# <<< keyfleet <<<\n`;
    const cases: Array<[string | null, string | null]> = [
      [hand, hand + block('ssh-ed25519 BBBB one')],
      [hand + block('ssh-ed25519 BBBB one'), hand + block('ssh-ed25519 CCCC two')],
      [hand + block('ssh-ed25519 BBBB one'), hand],
      [null, block('ssh-ed25519 BBBB one')],
      [block('ssh-ed25519 BBBB one') + hand, hand],
    ];
    for (const [before, after] of cases) {
      const diff = unifiedDiff('/root/.ssh/authorized_keys', before, after);
      assert.match(diff, /^--- (a\/root|\/dev\/null)/);
      assert.equal(applyWithPatch(before, diff), after ?? '');
    }
    assert.match(unifiedDiff('/f', null, 'x\n'), /^--- \/dev\/null\n\+\+\+ b\/f\n@@ -0,0 \+1,1 @@\n\+x\n$/);
  });

  test('random edits of random files (200 seeds) apply with patch(1)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = lcg(seed);
      const pick = () => `line ${Math.floor(rnd() * 12)}`;
      const a = Array.from({ length: Math.floor(rnd() * 30) }, pick);
      const b = a.flatMap((l) => (rnd() < 0.15 ? [] : rnd() < 0.15 ? [l, pick()] : rnd() < 0.1 ? [pick()] : [l]));
      const before = a.length ? `${a.join('\n')}\n` : '';
      const after = b.length ? `${b.join('\n')}\n` : '';
      const diff = unifiedDiff('/f', before, after);
      if (before === after) assert.equal(diff, '', `seed ${seed}`);
      else assert.equal(applyWithPatch(before, diff), after, `seed ${seed}:\n${diff}`);
    }
  });

  test('a middle too long to align is a replacement, still correct', () => {
    const a = Array.from({ length: 1500 }, (_, n) => `a${n}`);
    const b = Array.from({ length: 1500 }, (_, n) => (n % 2 ? `a${n}` : `b${n}`));
    const before = `head\n${a.join('\n')}\ntail\n`;
    const after = `head\n${b.join('\n')}\ntail\n`;
    assert.equal(applyWithPatch(before, unifiedDiff('/f', before, after)), after);
  });
});
