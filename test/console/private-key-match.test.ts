/**
 * The console's browser-side reading of a private key (src/console/src/lib/privateKey.ts), run in Node's WebCrypto:
 * for every format the server accepts, the fingerprint it derives is the one ssh-keygen prints for the key's
 * public half; a passphrase-protected PEM key is "unknown" (the server decides), and an OpenSSH file whose public
 * part was swapped for another key's is "inconsistent".
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { derivePublicKey, privateKeyMismatch } from '../../src/console/src/lib/privateKey.js';
import { tempDir } from '../support/keyfleet.js';

const dir = tempDir();

/** The SHA256 fingerprint ssh-keygen prints for the public half of a private key file. */
function sshKeygenFingerprint(privateKey: string): string {
  const file = path.join(dir, `k-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, privateKey, { mode: 0o600 });
  const pub = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
  fs.writeFileSync(`${file}.pub`, pub);
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
}

/** ssh-keygen cannot read a PKCS#8 Ed25519 key: its fingerprint from node:crypto's public key (RFC 8709 blob). */
function ed25519Fingerprint(privateKey: string): string {
  const x = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]);
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function opensshKey(type: string, bits?: string): string {
  const file = path.join(dir, `o-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-f', file]);
  return fs.readFileSync(file, 'utf8');
}

const pem = (type: 'rsa' | 'ec' | 'ed25519', format: 'pkcs1' | 'pkcs8' | 'sec1', curve?: string) =>
  generateKeyPairSync(
    type as 'rsa',
    {
      ...(type === 'rsa' ? { modulusLength: 2048 } : {}),
      ...(curve ? { namedCurve: curve } : {}),
      privateKeyEncoding: { type: format as 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    } as never,
  ).privateKey as unknown as string;

describe('console: the public key of a private key, derived as the browser does', () => {
  const cases: Array<[string, () => string, ((key: string) => string)?]> = [
    ['OpenSSH ed25519', () => opensshKey('ed25519')],
    ['OpenSSH RSA', () => opensshKey('rsa', '2048')],
    ['OpenSSH ECDSA P-384', () => opensshKey('ecdsa', '384')],
    ['PKCS#1 RSA', () => pem('rsa', 'pkcs1')],
    ['PKCS#8 RSA', () => pem('rsa', 'pkcs8')],
    ['SEC1 EC P-256', () => pem('ec', 'sec1', 'prime256v1')],
    ['PKCS#8 EC P-521', () => pem('ec', 'pkcs8', 'secp521r1')],
    ['PKCS#8 Ed25519', () => pem('ed25519', 'pkcs8'), ed25519Fingerprint],
  ];
  for (const [name, make, expected = sshKeygenFingerprint] of cases) {
    test(`${name}: the fingerprint of its public half`, async () => {
      const key = make();
      const derived = await derivePublicKey(key);
      assert.deepEqual(derived, { kind: 'derived', fingerprintSha256: expected(key) });
    });
  }

  test('a passphrase-protected PEM key cannot be read here: unknown, and no mismatch is claimed', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'secret-pass' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.deepEqual(await derivePublicKey(privateKey), { kind: 'unknown' });
    assert.equal(await privateKeyMismatch(privateKey, { name: 'web', fingerprintSha256: 'SHA256:x' }), null);
  });

  test("an OpenSSH file whose public part was swapped for another key's is inconsistent", async () => {
    const a = opensshKey('ed25519');
    const b = opensshKey('ed25519');
    const body = (t: string) => Buffer.from(t.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const ba = body(a);
    const bb = body(b);
    // Header: magic(15) cipher(4+4) kdf(4+4) kdfopts(4) count(4), then the public blob (4+51 for ed25519).
    const start = 15 + 8 + 8 + 4 + 4;
    const swapped = Buffer.concat([ba.subarray(0, start), bb.subarray(start, start + 55), ba.subarray(start + 55)]);
    const text = `-----BEGIN OPENSSH PRIVATE KEY-----\n${swapped.toString('base64').replace(/.{70}/g, '$&\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    assert.deepEqual(await derivePublicKey(text), { kind: 'inconsistent' });
    assert.match((await privateKeyMismatch(text, { name: 'web', fingerprintSha256: 'SHA256:x' }))!, /damaged/);
  });

  test('the mismatch message names both fingerprints; the right key passes', async () => {
    const key = opensshKey('ed25519');
    const fp = sshKeygenFingerprint(key);
    assert.equal(await privateKeyMismatch(key, { name: 'web', fingerprintSha256: fp }), null);
    const msg = (await privateKeyMismatch(key, { name: 'web', fingerprintSha256: 'SHA256:other' }))!;
    assert.ok(msg.includes(`the key given is ${fp}`) && msg.includes('the key pair bound is SHA256:other'), msg);
  });
});
