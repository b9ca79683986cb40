/**
 * The ssh2/node:crypto KeyMaterial adapter against the real ssh-keygen: generated keys load in ssh-keygen, and
 * publicKeyOf derives the same public key as `ssh-keygen -y` for OpenSSH, PEM (PKCS#1, SEC1) and PKCS#8 keys.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreError } from '../../src/core/errors.js';
import { parsePublicKey } from '../../src/core/keypair/public-key.js';
import { createSshKeyMaterial } from '../../src/crypto/ssh-key-material.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const keys = createSshKeyMaterial();
let dir: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-key-material-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeKey(text: string): string {
  const path = join(dir, `file${++counter}`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

function sshKeygenArgs(args: string[]): string {
  return execFileSync(SSH_KEYGEN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ssh-keygen -y`, reduced to 'type base64' (9.x appends the comment for OpenSSH-format keys). */
function publicBodyFromSshKeygen(privatePath: string): string {
  return body(sshKeygenArgs(['-y', '-f', privatePath]));
}

function body(publicLine: string): string {
  return publicLine.trim().split(/\s+/).slice(0, 2).join(' ');
}

function newSshKeygenKey(args: string[]): string {
  const path = join(dir, `key${++counter}`);
  sshKeygenArgs(['-q', ...args, '-N', '', '-C', 'test', '-f', path]);
  return path;
}

function assertMalformedQuotingNothing(privateKey: string, messagePattern?: RegExp): CoreError {
  let caught: unknown;
  try {
    keys.publicKeyOf(privateKey);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CoreError, `expected a CoreError, got ${String(caught)}`);
  assert.equal(caught.code, 'PrivateKey.Malformed');
  if (messagePattern) assert.match(caught.message, messagePattern);
  const quoted = `${caught.message} ${JSON.stringify(caught.details)}`;
  for (const keyLine of privateKey.split('\n').filter((l) => l.length >= 12 && !l.startsWith('-----'))) {
    for (let i = 0; i + 12 <= keyLine.length; i += 6) {
      assert.ok(!quoted.includes(keyLine.slice(i, i + 12)), `the error quotes key text: ${quoted}`);
    }
  }
  return caught;
}

describe('generate', () => {
  for (const type of ['rsa', 'ed25519'] as const) {
    it(`${type}: ssh-keygen reads the private key and derives the same public key`, async () => {
      const { privateKey, publicKey } = await keys.generate(type, 'web-1');
      assert.match(privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
      assert.match(
        publicKey,
        type === 'rsa' ? /^ssh-rsa [A-Za-z0-9+/=]+ web-1$/ : /^ssh-ed25519 [A-Za-z0-9+/=]+ web-1$/,
      );

      const privatePath = writeKey(privateKey);
      assert.equal(publicBodyFromSshKeygen(privatePath), body(publicKey));

      const publicPath = writeKey(`${publicKey}\n`);
      const listing = sshKeygenArgs(['-l', '-E', 'sha256', '-f', publicPath]).trim();
      const info = parsePublicKey(publicKey);
      assert.equal(listing, `${info.bits} ${info.fingerprintSha256} web-1 (${type === 'rsa' ? 'RSA' : 'ED25519'})`);
      assert.equal(info.bits, type === 'rsa' ? 2048 : 256);
      assert.equal(info.comment, 'web-1');

      assert.equal(keys.publicKeyOf(privateKey), body(publicKey));
    });
  }

  it('keeps a line break in the comment out of the public key line', async () => {
    const { publicKey } = await keys.generate('ed25519', 'a\nb');
    assert.equal(parsePublicKey(publicKey).comment, 'a b');
  });

  it('makes a different key each time', async () => {
    const [a, b] = await Promise.all([keys.generate('ed25519', 'x'), keys.generate('ed25519', 'x')]);
    assert.notEqual(a.publicKey, b.publicKey);
  });
});

describe('publicKeyOf', () => {
  const formats: Array<{ name: string; args: string[]; header: string }> = [
    { name: 'OpenSSH RSA', args: ['-t', 'rsa', '-b', '2048'], header: 'OPENSSH PRIVATE KEY' },
    { name: 'OpenSSH Ed25519', args: ['-t', 'ed25519'], header: 'OPENSSH PRIVATE KEY' },
    { name: 'OpenSSH ECDSA 256', args: ['-t', 'ecdsa', '-b', '256'], header: 'OPENSSH PRIVATE KEY' },
    { name: 'OpenSSH ECDSA 384', args: ['-t', 'ecdsa', '-b', '384'], header: 'OPENSSH PRIVATE KEY' },
    { name: 'OpenSSH ECDSA 521', args: ['-t', 'ecdsa', '-b', '521'], header: 'OPENSSH PRIVATE KEY' },
    { name: 'PEM PKCS#1 RSA', args: ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], header: 'RSA PRIVATE KEY' },
    { name: 'PEM SEC1 ECDSA', args: ['-t', 'ecdsa', '-b', '384', '-m', 'PEM'], header: 'EC PRIVATE KEY' },
    { name: 'PKCS#8 RSA', args: ['-t', 'rsa', '-b', '3072', '-m', 'PKCS8'], header: 'PRIVATE KEY' },
    { name: 'PKCS#8 ECDSA', args: ['-t', 'ecdsa', '-b', '521', '-m', 'PKCS8'], header: 'PRIVATE KEY' },
  ];

  for (const f of formats) {
    it(`${f.name} (ssh-keygen): same public key as ssh-keygen -y`, () => {
      const path = newSshKeygenKey(f.args);
      const text = readFileSync(path, 'utf8');
      assert.ok(text.startsWith(`-----BEGIN ${f.header}-----`), text.split('\n')[0]);
      assert.equal(keys.publicKeyOf(text), publicBodyFromSshKeygen(path));
    });
  }

  it('an OpenSSH key converted to PEM with ssh-keygen -p -m PEM', () => {
    const path = newSshKeygenKey(['-t', 'rsa', '-b', '2048']);
    const before = publicBodyFromSshKeygen(path);
    sshKeygenArgs(['-q', '-p', '-m', 'PEM', '-P', '', '-N', '', '-f', path]);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.startsWith('-----BEGIN RSA PRIVATE KEY-----'));
    assert.equal(keys.publicKeyOf(text), before);
  });

  it('PKCS#8 RSA exported by node:crypto: same public key as ssh-keygen -y', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const derived = keys.publicKeyOf(pem);
    assert.equal(derived, publicBodyFromSshKeygen(writeKey(pem)));
    assert.equal(parsePublicKey(derived).bits, 2048);
  });

  it('PKCS#8 Ed25519 exported by node:crypto: the raw public key in an ssh-ed25519 blob', () => {
    // ssh-keygen 9.2 cannot read PKCS#8 Ed25519 ("invalid format"), so the expected line is built by hand: the
    // SPKI DER of an Ed25519 key ends with the 32-byte public key.
    const pair = generateKeyPairSync('ed25519');
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const raw = pair.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    const blob = Buffer.concat([
      Buffer.from([0, 0, 0, 11]),
      Buffer.from('ssh-ed25519'),
      Buffer.from([0, 0, 0, 32]),
      raw,
    ]);
    assert.equal(keys.publicKeyOf(pem), `ssh-ed25519 ${blob.toString('base64')}`);
  });

  it('tolerates CRLF line endings and surrounding whitespace', () => {
    const text = readFileSync(newSshKeygenKey(['-t', 'ed25519']), 'utf8');
    const expected = keys.publicKeyOf(text);
    assert.equal(keys.publicKeyOf(`\n  ${text.replace(/\n/g, '\r\n')}  \n`), expected);
  });

  it('passphrase-protected keys: OpenSSH, PEM and PKCS#8', () => {
    const openssh = join(dir, `enc${++counter}`);
    sshKeygenArgs(['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', openssh]);
    const pem = join(dir, `enc${++counter}`);
    sshKeygenArgs(['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'correct horse', '-f', pem]);
    const pkcs8 = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    for (const text of [readFileSync(openssh, 'utf8'), readFileSync(pem, 'utf8'), pkcs8]) {
      const err = assertMalformedQuotingNothing(text);
      assert.equal(err.message, 'passphrase-protected private keys are not supported');
    }
  });

  it('garbage, public keys and unsupported formats as malformed, quoting nothing', () => {
    const good = readFileSync(newSshKeygenKey(['-t', 'rsa', '-b', '2048']), 'utf8');
    const goodLines = good.trim().split('\n');
    const truncated = [...goodLines.slice(0, 10), goodLines[goodLines.length - 1]!].join('\n');
    const flipped = good.replace(
      /(\n[A-Za-z0-9+/]{20})([A-Za-z])/,
      (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'),
    );
    const dsa = readFileSync(newSshKeygenKey(['-t', 'dsa', '-m', 'PEM']), 'utf8');
    const publicLine = readFileSync(`${newSshKeygenKey(['-t', 'ed25519'])}.pub`, 'utf8');
    const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pkcs8Garbage = pkcs8.replace(/\n[^-][^\n]*\n/, '\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n');
    const x448 = generateKeyPairSync('x448').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['not a key at all', /not an OpenSSH/],
      [good.slice(0, 200), /cannot be read/],
      [truncated, /cannot be read/],
      [flipped, /cannot be read/],
      [dsa, /DSA/],
      [publicLine, /public key/],
      [pkcs8Garbage, /cannot be read/],
      [`${pkcs8}${pkcs8}`, /cannot be read/],
      [x448, /only RSA, ECDSA .* and Ed25519/],
      ['x'.repeat(70_000), /64 KiB/],
    ];
    for (const [text, reason] of cases) assertMalformedQuotingNothing(text, reason);
  });

  it('a key whose public part belongs to another key as malformed', () => {
    const a = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const b = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const swapped = createPrivateKey({ key: { ...a, n: b.n }, format: 'jwk' })
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    assertMalformedQuotingNothing(swapped, /do not belong together/);
  });
});

it('every generated ed25519 key loads (ssh2 alone writes an unusable one about once in 400)', async () => {
  const km = createSshKeyMaterial();
  const ssh2 = (await import('ssh2')).default;
  let unusable = 0;
  for (let i = 0; i < 2000; i++) {
    const pair = await km.generate('ed25519', `k${i}`);
    const parsed = ssh2.utils.parseKey(pair.privateKey);
    if (!parsed || parsed instanceof Error) unusable++;
  }
  assert.equal(unusable, 0);
});

describe('publicKeyOf remembers recent answers (a fleet asks for the same management key once per host)', () => {
  it('the same key answers the same line, fast; every key keeps its own line past the memory size', () => {
    const fresh = createSshKeyMaterial();
    const paths = Array.from({ length: 3 }, () => newSshKeygenKey(['-t', 'ed25519']));
    const texts = paths.map((p) => readFileSync(p, 'utf8'));
    const expected = paths.map(publicBodyFromSshKeygen);
    assert.deepEqual(
      texts.map((t) => fresh.publicKeyOf(t)),
      expected,
    );
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) assert.equal(fresh.publicKeyOf(texts[i % 3]!), expected[i % 3]);
    const perCall = (performance.now() - t0) / 1000;
    assert.ok(perCall < 0.1, `a remembered answer costs ${perCall.toFixed(3)} ms (reading the key costs ~0.5 ms)`);
    // More keys than the memory holds (256): the oldest are read again, and every answer stays right.
    for (let i = 0; i < 300; i++) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      assert.match(fresh.publicKeyOf(pem), /^ssh-ed25519 AAAA/);
    }
    assert.deepEqual(
      texts.map((t) => fresh.publicKeyOf(t)),
      expected,
      'evicted keys are read again, correctly',
    );
  });

  it('a malformed key is refused every time (errors are not remembered) and its text is never quoted', () => {
    const path = newSshKeygenKey(['-t', 'ed25519']);
    const broken = readFileSync(path, 'utf8').replace(/^([A-Za-z0-9+/]{20})/m, 'AAAAAAAAAAAAAAAAAAAA');
    assertMalformedQuotingNothing(broken);
    assertMalformedQuotingNothing(broken);
  });
});
