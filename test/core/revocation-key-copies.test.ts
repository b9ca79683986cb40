/**
 * Issue 19, the pure parts of a revocation: naming a key (key pair, SHA256 or MD5 fingerprint, pasted line, bounded),
 * finding its copies in an authorized_keys file (keyfleet's own lines told apart by the shared parser, whatever
 * options they carry) and removing the copies keyfleet did not write with every other byte kept.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { findCopies, removeCopies } from '../../src/core/revocation/key-copies.js';
import { keyOfLine, nameKey, normaliseFingerprint } from '../../src/core/revocation/revoked-key.js';
import { sshKeygen } from '../support/openssh.js';

const run = promisify(execFile);
const FILE = { account: 'user' as const, user: 'u', path: '/home/u/.ssh/authorized_keys' };

describe('revocation: naming the key and its copies', () => {
  test('fingerprints are those ssh-keygen prints, SHA256 and MD5', async () => {
    const k = await sshKeygen('ed25519', 'fp');
    const pub = `${k.privateKeyPath}.pub`;
    const sha = (await run('ssh-keygen', ['-lf', pub])).stdout.split(' ')[1]!;
    const md5 = (await run('ssh-keygen', ['-E', 'md5', '-lf', pub])).stdout.split(' ')[1]!;
    const key = keyOfLine(k.publicKey);
    assert.equal(key.fingerprintSha256, sha);
    assert.equal(key.fingerprintMd5, md5);
    assert.equal(normaliseFingerprint(md5.slice(4).toUpperCase()), md5, 'MD5 without its prefix, any case');
    assert.deepEqual(nameKey({ fingerprint: sha }), {
      target: { kind: 'fingerprint', fingerprint: sha },
      fingerprint: sha,
    });
  });

  test('bad or unbounded input is refused with a clear code', () => {
    assert.throws(() => nameKey({}), { code: 'Input.Invalid' });
    assert.throws(() => nameKey({ keyPairName: 'a', publicKey: 'b' }), { code: 'Input.Invalid' });
    assert.throws(() => nameKey({ fingerprint: 'SHA256:short' }), { code: 'Input.Invalid' });
    assert.throws(() => keyOfLine(`ssh-ed25519 ${'A'.repeat(20_000)}`), { code: 'Input.TooLarge' });
    assert.throws(() => keyOfLine('ssh-ed25519 AAAA\nssh-ed25519 AAAA'), { code: 'PublicKey.Malformed' });
    // The body must be a key of the type the line says.
    assert.throws(() => keyOfLine('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00'), {
      code: 'PublicKey.Malformed',
    });
  });

  test("copies inside and outside keyfleet's block, with options; removal keeps every other byte", async () => {
    const k = await sshKeygen('ed25519', 'leaver');
    const [type, body] = k.publicKey.split(' ');
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00 other';
    const text = [
      '# mine\r',
      other,
      `from="10.0.0.0/8",command="echo \\"a b\\"" ${type} ${body} laptop`,
      '# >>> keyfleet managed keys: do not edit inside this block >>>',
      `${type} ${body} keyfleet:leaver`,
      '# <<< keyfleet managed keys <<<',
      `${type} ${body}`,
    ].join('\n');
    const copies = findCopies(FILE, text, { base64: body! });
    assert.deepEqual(
      copies.map((c) => [c.line, c.inBlock, c.managed, c.hasOptions]),
      [
        [3, false, false, true],
        [5, true, true, false],
        [7, false, false, false],
      ],
    );
    const byFingerprint = findCopies(FILE, text, { fingerprint: keyOfLine(k.publicKey).fingerprintSha256 });
    assert.deepEqual(
      byFingerprint.map((c) => c.line),
      [3, 5, 7],
    );
    const out = removeCopies(text, body!);
    assert.equal(out.removed, 2);
    // keyfleet's line stays (the unbind removes it); the last line had no newline: the one before keeps its own.
    assert.equal(
      out.content,
      [
        '# mine\r',
        other,
        '# >>> keyfleet managed keys: do not edit inside this block >>>',
        `${type} ${body} keyfleet:leaver`,
        '# <<< keyfleet managed keys <<<',
        '',
      ].join('\n'),
    );
    assert.deepEqual(removeCopies(other, body!), { content: other, removed: 0 });
    // sshd agrees with the parser: the file after removal, given to ssh-keygen, lists no line with the key.
    const dir = path.dirname(k.privateKeyPath);
    await fs.writeFile(
      path.join(dir, 'ak'),
      removeCopies(out.content.replace(/.*keyfleet:leaver\n/, ''), body!).content,
    );
    const listed = await run('ssh-keygen', ['-lf', path.join(dir, 'ak')]).then(
      (r) => r.stdout,
      (e) => e.stdout ?? '',
    );
    assert.ok(!listed.includes(keyOfLine(k.publicKey).fingerprintSha256), listed);
  });
});
