/**
 * keyfleet's block in authorized_keys: bind, replace, unbind without touching a line keyfleet did not write,
 * idempotence, corrupt blocks, OpenSSH options parsing, CRLF, and a seeded property test over random files.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  MANAGED_BEGIN,
  MANAGED_END,
  managedKeysIn,
  parseAuthorizedKeys,
  planAuthorizedKeys,
  type ManagedKey,
} from '../../src/core/binding/authorized-keys.js';
import { isCoreError } from '../../src/core/errors.js';

const ED_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const ED_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const RSA_C = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQCcccccccccccccccccccccccccccccccccc+/cc==';
const HAND = 'AAAAC3NzaC1lZDI1NTE5AAAAIHhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh';

const keyA: ManagedKey = { keyPairName: 'kp-a', publicKey: `ssh-ed25519 ${ED_A}` };
const keyB: ManagedKey = { keyPairName: 'kp-b', publicKey: `ssh-ed25519 ${ED_B} alice@laptop` };
const keyC: ManagedKey = { keyPairName: 'kp-c', publicKey: `ssh-rsa ${RSA_C}` };

const lineA = `ssh-ed25519 ${ED_A} keyfleet:kp-a`;
const lineB = `ssh-ed25519 ${ED_B} keyfleet:kp-b`;
const block = (...lines: string[]) => [MANAGED_BEGIN, ...lines, MANAGED_END].join('\n') + '\n';

/** Plans, then checks the plan is a fixed point: planning its own output changes nothing. */
function plan(current: string | null, desired: ManagedKey[]) {
  const result = planAuthorizedKeys(current, desired);
  const again = planAuthorizedKeys(result.content, desired);
  assert.equal(again.changed, false, 'planning the result again must change nothing');
  assert.equal(again.content, result.content);
  if (result.changed)
    assert.ok(result.content === '' || result.content.endsWith('\n'), 'a rewritten file ends with a newline');
  return result;
}

describe('planAuthorizedKeys: empty and missing files', () => {
  it('binds into a missing file: the block alone', () => {
    const r = plan(null, [keyA]);
    assert.equal(r.content, block(lineA));
    assert.equal(r.changed, true);
    assert.deepEqual(r.added, [ED_A]);
    assert.deepEqual(r.removed, []);
  });

  it('binds into an empty file', () => {
    const r = plan('', [keyA]);
    assert.equal(r.content, block(lineA));
    assert.equal(r.changed, true);
  });

  it('unbinding a missing or empty file changes nothing and writes nothing', () => {
    for (const current of [null, '']) {
      const r = plan(current, []);
      assert.deepEqual(r, {
        content: '',
        changed: false,
        added: [],
        removed: [],
        retainedOutside: [],
        foreignRemoved: [],
      });
    }
  });

  it('removing the only block leaves an empty file', () => {
    const r = plan(block(lineA), []);
    assert.equal(r.content, '');
    assert.equal(r.changed, true);
    assert.deepEqual(r.removed, [ED_A]);
  });
});

describe('planAuthorizedKeys: lines keyfleet did not write', () => {
  it('adds a newline to a file without one before appending the block, and keeps it after unbind', () => {
    const original = `ssh-ed25519 ${HAND} me@desk`;
    const bound = plan(original, [keyA]);
    assert.equal(bound.content, `${original}\n${block(lineA)}`);
    const unbound = plan(bound.content, []);
    assert.equal(unbound.content, `${original}\n`);
  });

  it('returns a file that needs no change verbatim, even without a final newline', () => {
    const original = `# my keys\nssh-ed25519 ${HAND} me@desk`;
    const r = planAuthorizedKeys(original, []);
    assert.equal(r.changed, false);
    assert.equal(r.content, original);
  });

  it('keeps hand-added lines before and after the block through bind, replace and unbind', () => {
    const before = `# laptop\nssh-ed25519 ${HAND} me@desk\n\n`;
    const bound = plan(before, [keyA]);
    assert.equal(bound.content, before + block(lineA));

    // Someone adds lines after keyfleet's block by hand.
    const after = `# added later\nfrom="10.0.0.1" ssh-rsa ${RSA_C} backup\n`;
    const edited = bound.content + after;

    const replaced = plan(edited, [keyB]);
    assert.equal(replaced.content, before + block(lineB) + after);
    assert.deepEqual(replaced.added, [ED_B]);
    assert.deepEqual(replaced.removed, [ED_A]);

    const unbound = plan(replaced.content, []);
    assert.equal(unbound.content, before + after);
    assert.deepEqual(unbound.removed, [ED_B]);
    assert.equal(parseAuthorizedKeys(unbound.content).managedBlock, 'absent');
  });

  it('replaces the block in place, not at the end', () => {
    const head = 'ssh-ed25519 ' + HAND + ' top\n';
    const tail = '# tail comment\n';
    const current = head + block(lineA) + tail;
    const r = plan(current, [keyB, keyC]);
    assert.equal(r.content, head + block(lineB, `ssh-rsa ${RSA_C} keyfleet:kp-c`) + tail);
    assert.deepEqual(r.added, [ED_B, RSA_C]);
    assert.deepEqual(r.removed, [ED_A]);
  });

  it('is idempotent: the same desired keys change nothing', () => {
    const current = `# top\n${block(lineA)}# bottom\n`;
    const r = planAuthorizedKeys(current, [keyA]);
    assert.equal(r.changed, false);
    assert.equal(r.content, current);
    assert.deepEqual(r.added, []);
    assert.deepEqual(r.removed, []);
  });

  it('removes the whole block, markers included, when no key is desired', () => {
    const r = plan(`a\n${block(lineA, lineB)}b\n`, []);
    assert.equal(r.content, 'a\nb\n');
    assert.ok(!r.content.includes('keyfleet'));
    assert.deepEqual(r.removed, [ED_A, ED_B]);
  });

  it('removes every line keyfleet did not write inside a well-formed block: keys, options lines, comments (issue 16)', () => {
    const inside = `ssh-ed25519 ${HAND} pasted-in-the-wrong-place`;
    const withOptions = `from="10.0.0.1",no-pty ssh-rsa ${RSA_C} intruder`;
    const current = `top\n${MANAGED_BEGIN}\n${lineA}\n${inside}\n\n# a note\n${withOptions}\n${MANAGED_END}\nbottom\n`;
    const parsed = parseAuthorizedKeys(current);
    assert.equal(parsed.managedBlock, 'present');
    assert.deepEqual(
      parsed.entries.map((e) => [e.comment, e.managed, e.inBlock]),
      [
        ['keyfleet:kp-a', true, true],
        ['pasted-in-the-wrong-place', false, true],
        ['intruder', false, true],
      ],
    );
    const replaced = plan(current, [keyB]);
    assert.equal(replaced.content, `top\n${block(lineB)}bottom\n`);
    assert.deepEqual(replaced.removed, [ED_A, HAND, RSA_C], "the foreign keys leave the block with keyfleet's own");
    assert.deepEqual(replaced.foreignRemoved, [HAND, RSA_C]);
    assert.deepEqual(replaced.retainedOutside, []);
    const unbound = plan(current, []);
    assert.equal(unbound.content, 'top\nbottom\n');
    assert.deepEqual(unbound.foreignRemoved, [HAND, RSA_C]);
    const kept = plan(current, [keyA]);
    assert.equal(kept.content, `top\n${block(lineA)}bottom\n`, 'also when the bound key is already in place');
    assert.equal(kept.changed, true);
    assert.deepEqual(kept.removed, [HAND, RSA_C]);
  });

  it('a foreign key in the block that is also authorised outside it: removed from the block, reported as still working', () => {
    const hand = `ssh-ed25519 ${HAND} me@desk`;
    const r = plan(`${hand}\n${block(lineA, `ssh-ed25519 ${HAND} copy`)}`, [keyA]);
    assert.equal(r.content, `${hand}\n${block(lineA)}`);
    assert.deepEqual(r.foreignRemoved, [HAND]);
    assert.deepEqual(r.retainedOutside, [HAND]);
  });

  it('a plain copy of the desired key inside the block is replaced by keyfleet\'s line, and is not "removed"', () => {
    const r = plan(block(`ssh-ed25519 ${ED_A} no-keyfleet-comment`), [keyA]);
    assert.equal(r.content, block(lineA));
    assert.deepEqual(r.removed, []);
    assert.deepEqual(r.foreignRemoved, []);
  });

  it('keeps the hand-added copy of a key that is also managed: unbinding does not revoke it', () => {
    // The same key body both hand-added (outside) and bound by keyfleet (inside).
    const hand = `ssh-ed25519 ${ED_A} me@desk`;
    const bound = plan(`${hand}\n`, [keyA]);
    assert.equal(bound.content, `${hand}\n${block(lineA)}`);
    assert.deepEqual(managedKeysIn(bound.content), [ED_A]);

    const unbound = plan(bound.content, []);
    assert.equal(unbound.content, `${hand}\n`, 'the hand-added copy stays: keyfleet only removes its own line');
    assert.deepEqual(unbound.removed, [ED_A]);
    assert.deepEqual(
      unbound.retainedOutside,
      [ED_A],
      'the plan says the removed key still works through the hand-added line',
    );
  });

  it('reports no retained key when the removed key exists only in the block', () => {
    const r = plan(`ssh-ed25519 ${HAND} me\n${block(lineA)}`, []);
    assert.deepEqual(r.retainedOutside, []);
  });

  it('does not treat a keyfleet-looking line outside the block as managed', () => {
    const lookalike = `ssh-ed25519 ${ED_B} keyfleet:copied-by-hand`;
    const current = `${lookalike}\n${block(lineA)}`;
    assert.deepEqual(managedKeysIn(current), [ED_A]);
    assert.equal(plan(current, []).content, `${lookalike}\n`);
  });
});

describe('planAuthorizedKeys: desired keys', () => {
  it('drops the key comment and names the key pair instead', () => {
    assert.equal(plan(null, [keyB]).content, block(lineB));
  });

  it('writes each key once, first name wins, in the given order', () => {
    const r = plan(null, [keyB, keyA, { keyPairName: 'other', publicKey: `ssh-ed25519 ${ED_B}` }]);
    assert.equal(r.content, block(lineB, lineA));
  });

  it('refuses a public key that is not a `type base64` line', () => {
    for (const publicKey of [
      '',
      'ssh-ed25519',
      'not-a-type AAAA',
      `ssh-ed25519 ${ED_A}\nssh-rsa ${RSA_C}`,
      `no-pty ssh-ed25519 ${ED_A}`,
      'ssh-ed25519 AA!A',
    ]) {
      assert.throws(
        () => planAuthorizedKeys(null, [{ keyPairName: 'k', publicKey }]),
        (e: unknown) => isCoreError(e) && e.code === 'PublicKey.Malformed' && !e.message.includes(ED_A),
        JSON.stringify(publicKey),
      );
    }
  });

  it('refuses a key pair name that would break the line', () => {
    for (const keyPairName of ['', 'a b', 'a\nb', 'a\tb']) {
      assert.throws(
        () => planAuthorizedKeys(null, [{ keyPairName, publicKey: keyA.publicKey }]),
        (e: unknown) => isCoreError(e) && e.code === 'KeyPair.NameMalformed',
      );
    }
  });
});

describe('planAuthorizedKeys: corrupt blocks', () => {
  it('BEGIN without END: removes only the marker and keyfleet lines to the end of the file, keeps the rest', () => {
    const user1 = `ssh-ed25519 ${HAND} after-begin`;
    const current = `top\n${MANAGED_BEGIN}\n${lineA}\n${user1}\n\n# note\n${lineB}\n`;
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt');
    assert.deepEqual(managedKeysIn(current), [ED_A, ED_B]);

    const rebound = plan(current, [keyA]);
    assert.equal(rebound.content, `top\n${block(lineA)}${user1}\n\n# note\n`);
    assert.deepEqual(rebound.removed, [ED_B]);
    assert.equal(parseAuthorizedKeys(rebound.content).managedBlock, 'present', 'planning repairs the block');

    const unbound = plan(current, []);
    assert.equal(unbound.content, `top\n${user1}\n\n# note\n`);
  });

  it('END before BEGIN: stray markers go, every user line stays', () => {
    const current = `one\n${MANAGED_END}\ntwo\n${MANAGED_BEGIN}\n${lineA}\nthree\n`;
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt');
    assert.equal(plan(current, [keyB]).content, `one\n${block(lineB)}two\nthree\n`);
    assert.equal(plan(current, []).content, 'one\ntwo\nthree\n');
  });

  it('two BEGINs: one block results, user lines between them stay', () => {
    const current = `${MANAGED_BEGIN}\n${lineA}\nuser\n${MANAGED_BEGIN}\n${lineB}\n${MANAGED_END}\ntail\n`;
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt');
    assert.equal(plan(current, [keyA]).content, `${block(lineA)}user\ntail\n`);
  });

  it('two complete blocks merge into one at the first', () => {
    const current = `x\n${block(lineA)}y\n${block(lineB)}z\n`;
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt');
    const r = plan(current, [keyC]);
    assert.equal(r.content, `x\n${block(`ssh-rsa ${RSA_C} keyfleet:kp-c`)}y\nz\n`);
    assert.deepEqual(r.removed, [ED_A, ED_B]);
  });

  it('a lone END is corrupt too and is removed', () => {
    const current = `a\n${MANAGED_END}\nb\n`;
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt');
    assert.equal(plan(current, []).content, 'a\nb\n');
  });
});

describe('parseAuthorizedKeys', () => {
  it('parses options with quoted spaces, commas and escaped quotes', () => {
    const lines = [
      `command="echo a b",no-pty ssh-ed25519 ${ED_A} with options`,
      `from="10.0.0.1,10.0.0.2",environment="X=a b" ssh-rsa ${RSA_C}`,
      `command="echo \\"x, y\\" z" ssh-ed25519 ${ED_B} escaped`,
      `restrict,pty sk-ssh-ed25519@openssh.com ${HAND} sk key`,
      `  ssh-ed25519 ${HAND}   spaced comment  `,
    ];
    const { entries } = parseAuthorizedKeys(lines.join('\n') + '\n');
    assert.deepEqual(
      entries.map(({ options, type, base64, comment }) => ({ options, type, base64, comment })),
      [
        { options: 'command="echo a b",no-pty', type: 'ssh-ed25519', base64: ED_A, comment: 'with options' },
        { options: 'from="10.0.0.1,10.0.0.2",environment="X=a b"', type: 'ssh-rsa', base64: RSA_C, comment: '' },
        { options: 'command="echo \\"x, y\\" z"', type: 'ssh-ed25519', base64: ED_B, comment: 'escaped' },
        { options: 'restrict,pty', type: 'sk-ssh-ed25519@openssh.com', base64: HAND, comment: 'sk key' },
        { options: null, type: 'ssh-ed25519', base64: HAND, comment: 'spaced comment' },
      ],
    );
  });

  it('keeps options lines byte for byte through bind and unbind', () => {
    const original = `command="echo a b",no-pty ssh-ed25519 ${HAND} x\nfrom="*.example.com,!bad" ssh-rsa ${RSA_C}\n`;
    const bound = plan(original, [keyA]);
    assert.ok(bound.content.startsWith(original));
    assert.equal(plan(bound.content, []).content, original);
  });

  it('skips comments, blank lines, markers and lines that are not keys', () => {
    const content = `# comment\n\n${MANAGED_BEGIN}\n${lineA}\n${MANAGED_END}\ngarbage line\ncommand="unterminated ssh-ed25519 ${HAND}\n`;
    const { entries, managedBlock } = parseAuthorizedKeys(content);
    assert.equal(managedBlock, 'present');
    assert.deepEqual(
      entries.map((e) => [e.lineNo, e.base64, e.comment, e.managed]),
      [[4, ED_A, 'keyfleet:kp-a', true]],
    );
  });

  it('marks only keyfleet lines inside the block as managed', () => {
    const content = `ssh-ed25519 ${ED_A} keyfleet:kp-a\n${block(lineB)}`;
    assert.deepEqual(
      parseAuthorizedKeys(content).entries.map((e) => [e.lineNo, e.managed]),
      [
        [1, false],
        [3, true],
      ],
    );
  });

  it('reports an absent block', () => {
    assert.equal(parseAuthorizedKeys(`ssh-ed25519 ${HAND}\n`).managedBlock, 'absent');
    assert.equal(parseAuthorizedKeys('').managedBlock, 'absent');
  });
});

describe('planAuthorizedKeys: CRLF', () => {
  it('keeps CRLF user lines as they are and writes its block with LF', () => {
    const original = `# windows\r\nssh-ed25519 ${HAND} me\r\n`;
    const bound = plan(original, [keyA]);
    assert.equal(bound.content, original + block(lineA));
    assert.equal(plan(bound.content, []).content, original);
  });

  it('recognises a block whose lines were converted to CRLF, and rewrites it once with LF', () => {
    const crlf = (s: string) => s.replace(/\n/g, '\r\n');
    const current = crlf(`top\n${block(lineA)}bottom\n`);
    assert.equal(parseAuthorizedKeys(current).managedBlock, 'present');
    assert.deepEqual(managedKeysIn(current), [ED_A]);
    const r = plan(current, [keyA]);
    assert.equal(r.content, `top\r\n${block(lineA)}bottom\r\n`);
    assert.deepEqual(r.added, []);
    assert.equal(plan(current, []).content, 'top\r\nbottom\r\n');
  });

  it('parses CRLF key lines without the carriage return', () => {
    const { entries } = parseAuthorizedKeys(`ssh-ed25519 ${HAND} me\r\nssh-rsa ${RSA_C}\r\n`);
    assert.deepEqual(
      entries.map((e) => [e.raw, e.comment, e.base64]),
      [
        [`ssh-ed25519 ${HAND} me`, 'me', HAND],
        [`ssh-rsa ${RSA_C}`, '', RSA_C],
      ],
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests: random files, seeded so a failure is reproducible.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function generator(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const body = () => 'AAAAC3NzaC1lZDI1NTE5AAAAI' + Array.from({ length: 43 }, () => pick([...B64])).join('');
  const name = () => 'kp-' + int(1000);
  const foreignLine = (): string => {
    const line = pick([
      () => `ssh-ed25519 ${body()} user${int(50)}@host`,
      () => `ssh-rsa ${body()}`,
      () => `command="echo ${int(9)} a b",no-pty ssh-ed25519 ${body()} opt`,
      () => `from="10.0.${int(255)}.1,10.1.0.0/16" ssh-ed25519 ${body()}`,
      () => `# comment ${int(100)} keyfleet`,
      () => '',
      () => '   ',
      () => `ssh-ed25519 ${body()} keyfleet:${name()}`, // keyfleet-looking, but outside the block: foreign
      () => `garbage ${int(100)}`,
      () => `# >>> keyfleet managed keys`, // close to a marker, but not one
    ])();
    return rnd() < 0.15 ? line + '\r' : line;
  };
  const desired = (): ManagedKey[] =>
    Array.from({ length: int(4) }, () => ({ keyPairName: name(), publicKey: `ssh-ed25519 ${body()} c` }));
  const keyfleetLine = () => `ssh-ed25519 ${body()} keyfleet:${name()}`;
  return { rnd, int, pick, foreignLine, desired, keyfleetLine };
}

const keyfleetLinesOf = (keys: ManagedKey[]) => {
  const seen = new Set<string>();
  return keys.flatMap((k) => {
    const [type, b64] = k.publicKey.split(' ');
    if (seen.has(b64!)) return [];
    seen.add(b64!);
    return [`${type} ${b64} keyfleet:${k.keyPairName}`];
  });
};

const joinLines = (lines: string[], finalNewline: boolean) =>
  lines.length === 0 ? '' : lines.join('\n') + (finalNewline ? '\n' : '');

describe('planAuthorizedKeys: property tests', () => {
  it('200 random files with a well-formed or absent block: lines outside survive in order, lines slipped into the block go, the block is exactly the desired keys', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const g = generator(seed);
      const foreign = Array.from({ length: g.int(12) }, g.foreignLine);
      const hasBlock = g.rnd() < 0.6;
      const at = g.int(foreign.length + 1);
      // Lines keyfleet did not write, slipped in between keyfleet's own (issue 16).
      const intruders = hasBlock ? Array.from({ length: g.int(3) }, g.foreignLine) : [];
      const inBlock = [...Array.from({ length: g.int(3) }, g.keyfleetLine), ...intruders].sort(() => g.rnd() - 0.5);
      const oldBlock = hasBlock ? [MANAGED_BEGIN, ...inBlock, MANAGED_END] : [];
      const fileLines = [...foreign.slice(0, at), ...oldBlock, ...foreign.slice(at)];
      // A last line that is empty is only a line if a newline follows it.
      const finalNewline = g.rnd() < 0.8 || fileLines.at(-1) === '';
      const current = g.rnd() < 0.05 && fileLines.length === 0 ? null : joinLines(fileLines, finalNewline);
      const want = g.desired();

      const r = plan(current, want);
      const newBlock = want.length > 0 ? [MANAGED_BEGIN, ...keyfleetLinesOf(want), MANAGED_END] : [];
      const position = hasBlock ? at : foreign.length;
      const expected = [...foreign.slice(0, position), ...newBlock, ...foreign.slice(position)];
      const context = `seed ${seed}`;
      if (r.changed) assert.equal(r.content, joinLines(expected, true), context);
      else assert.equal(r.content, current ?? '', context);
      assert.equal(r.changed, r.content !== (current ?? ''), context);
      assert.deepEqual(
        managedKeysIn(r.content),
        keyfleetLinesOf(want).map((l) => l.split(' ')[1]),
        context,
      );
      const wanted = new Set(keyfleetLinesOf(want).map((l) => l.split(' ')[1]));
      // A keyfleet-looking intruder goes too, as one of keyfleet's lines (removed, not foreignRemoved).
      const intruderKeys = parseAuthorizedKeys(joinLines(inBlock, true))
        .entries.filter((e) => !/^keyfleet:\S+$/.test(e.comment) || e.options !== null)
        .map((e) => e.base64);
      assert.deepEqual(
        r.foreignRemoved,
        [...new Set(intruderKeys)].filter((b) => !wanted.has(b)),
        context,
      );

      // Unbinding afterwards gives back exactly the foreign lines.
      const unbound = plan(r.content, []);
      assert.equal(unbound.content.replace(/\n$/, ''), joinLines(foreign, false), context);
    }
  });

  it('200 random files with a corrupt block: every line that is not a marker or a keyfleet line survives, in order', () => {
    for (let seed = 1001; seed <= 1200; seed++) {
      const g = generator(seed);
      const markers = Array.from({ length: 1 + g.int(3) }, () => g.pick([MANAGED_BEGIN, MANAGED_END]));
      // Foreign lines here never look like keyfleet lines: inside a corrupt region those are removed by design.
      const foreign = Array.from({ length: g.int(12) }, g.foreignLine).filter((l) => !/ keyfleet:\S+\r?$/.test(l));
      const lines = [...foreign];
      for (const marker of markers) lines.splice(g.int(lines.length + 1), 0, marker);
      const markerOrder = lines.filter((l) => l === MANAGED_BEGIN || l === MANAGED_END).join('|');
      if (markerOrder === `${MANAGED_BEGIN}|${MANAGED_END}`) lines.push(MANAGED_BEGIN); // would be well-formed
      for (let i = g.int(4); i > 0; i--) {
        const firstMarker = lines.findIndex((l) => l === MANAGED_BEGIN || l === MANAGED_END);
        lines.splice(firstMarker + 1 + g.int(lines.length - firstMarker), 0, g.keyfleetLine());
      }
      const current = joinLines(lines, true);
      assert.equal(parseAuthorizedKeys(current).managedBlock, 'corrupt', `seed ${seed}`);

      const want = g.desired();
      const r = plan(current, want);
      const survivors = r.content
        .split('\n')
        .slice(0, -1)
        .filter((l) => l !== MANAGED_BEGIN && l !== MANAGED_END && !/ keyfleet:\S+$/.test(l));
      assert.deepEqual(survivors, foreign, `seed ${seed}`);
      assert.equal(parseAuthorizedKeys(r.content).managedBlock, want.length > 0 ? 'present' : 'absent', `seed ${seed}`);
    }
  });
});
