/**
 * parsePublicKey against the real ssh-keygen: fingerprints, sizes and comments must be exactly what
 * `ssh-keygen -l` prints, and every kind of bad input must be refused with the right CoreError code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreError, type ErrorCode } from '../../src/core/errors.js';
import { describeKeyType, fingerprints, parsePublicKey } from '../../src/core/keypair/public-key.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
let dir: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-public-key-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Generates a key with ssh-keygen and returns the path of the private key (the public one is `${path}.pub`). */
function sshKeygen(type: string, bits: number | undefined, comment: string): string {
  const path = join(dir, `key${++counter}`);
  const bitArgs = bits === undefined ? [] : ['-b', String(bits)];
  execFileSync(SSH_KEYGEN, ['-q', '-t', type, ...bitArgs, '-N', '', '-C', comment, '-f', path], { stdio: 'pipe' });
  return path;
}

interface KeygenListing {
  bits: number;
  fingerprint: string;
  comment: string;
  type: string;
}

/** Parses `ssh-keygen -l -E <hash> -f <file>`: `<bits> <fingerprint> <comment> (<TYPE>)`. */
function sshKeygenList(file: string, hash: 'md5' | 'sha256'): KeygenListing {
  const out = execFileSync(SSH_KEYGEN, ['-l', '-E', hash, '-f', file], { encoding: 'utf8' }).trim();
  const m = /^(\d+) (\S+) (.*) \(([A-Z0-9-]+)\)$/.exec(out);
  assert.ok(m, `unexpected ssh-keygen -l output: ${out}`);
  return { bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, type: m[4]! };
}

function rejects(input: string, code: ErrorCode, messagePattern?: RegExp): CoreError {
  let caught: unknown;
  try {
    parsePublicKey(input);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CoreError, `expected a CoreError, got ${String(caught)}`);
  assert.equal(caught.code, code, `wrong code; message: ${caught.message}`);
  if (messagePattern) assert.match(caught.message, messagePattern);
  return caught;
}

// --- wire-format helpers for hand-built blobs ------------------------------------------------------------------

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function sshMpint(magnitude: Buffer): Buffer {
  return sshString((magnitude[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}

function line(type: string, blob: Buffer, comment = ''): string {
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

function blobOf(publicLine: string): Buffer {
  return Buffer.from(publicLine.trim().split(/\s+/)[1]!, 'base64');
}

// ---------------------------------------------------------------------------------------------------------------

describe('parsePublicKey on keys made by ssh-keygen', () => {
  const cases: Array<{ type: string; bits?: number; algorithm: string; expectedBits: number; label: string }> = [
    { type: 'rsa', bits: 2048, algorithm: 'ssh-rsa', expectedBits: 2048, label: 'RSA 2048' },
    { type: 'rsa', bits: 3072, algorithm: 'ssh-rsa', expectedBits: 3072, label: 'RSA 3072' },
    { type: 'ed25519', algorithm: 'ssh-ed25519', expectedBits: 256, label: 'ED25519' },
    { type: 'ecdsa', bits: 256, algorithm: 'ecdsa-sha2-nistp256', expectedBits: 256, label: 'ECDSA 256' },
    { type: 'ecdsa', bits: 384, algorithm: 'ecdsa-sha2-nistp384', expectedBits: 384, label: 'ECDSA 384' },
    { type: 'ecdsa', bits: 521, algorithm: 'ecdsa-sha2-nistp521', expectedBits: 521, label: 'ECDSA 521' },
  ];

  for (const c of cases) {
    it(`${c.label}: fingerprints, bits and comment match ssh-keygen -l`, () => {
      const comment = `alice@laptop ${c.label}  two spaces`;
      const path = sshKeygen(c.type, c.bits, comment);
      const text = readFileSync(`${path}.pub`, 'utf8');
      const info = parsePublicKey(text);

      const md5 = sshKeygenList(`${path}.pub`, 'md5');
      const sha256 = sshKeygenList(`${path}.pub`, 'sha256');
      assert.equal(info.algorithm, c.algorithm);
      assert.equal(info.bits, c.expectedBits);
      assert.equal(info.bits, sha256.bits);
      assert.equal(info.fingerprintMd5, md5.fingerprint);
      assert.equal(info.fingerprintSha256, sha256.fingerprint);
      assert.equal(info.comment, comment);
      assert.equal(sha256.comment, comment);
      assert.equal(describeKeyType(info), c.label);
      assert.equal(describeKeyType(info).split(' ')[0], sha256.type);
      assert.equal(info.openssh, text.trim().split(' ').slice(0, 2).join(' '));
      assert.deepEqual(info.blob, blobOf(text));
      assert.deepEqual(fingerprints(info.blob), { md5: info.fingerprintMd5, sha256: info.fingerprintSha256 });
    });
  }

  it('a key without comment gives an empty comment (ssh-keygen leaves a trailing space)', () => {
    const path = sshKeygen('ed25519', undefined, '');
    const text = readFileSync(`${path}.pub`, 'utf8');
    const info = parsePublicKey(text);
    assert.equal(info.comment, '');
    assert.equal(sshKeygenList(`${path}.pub`, 'sha256').comment, 'no comment');
    assert.equal(info.fingerprintSha256, sshKeygenList(`${path}.pub`, 'sha256').fingerprint);
  });

  it('tolerates surrounding whitespace, CRLF and tabs between the parts', () => {
    const path = sshKeygen('ed25519', undefined, 'c');
    const [type, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
    const info = parsePublicKey(`  ${type}\t${base64}\t my comment \r\n`);
    assert.equal(info.openssh, `${type} ${base64}`);
    assert.equal(info.comment, 'my comment');
  });
});

describe('parsePublicKey rejects', () => {
  let ed25519Line: string;
  let ecdsa256Line: string;

  before(() => {
    ed25519Line = readFileSync(`${sshKeygen('ed25519', undefined, 'k')}.pub`, 'utf8').trim();
    ecdsa256Line = readFileSync(`${sshKeygen('ecdsa', 256, 'k')}.pub`, 'utf8').trim();
  });

  it('RSA 1024 as too weak, saying the size and the minimum', () => {
    const text = readFileSync(`${sshKeygen('rsa', 1024, 'weak')}.pub`, 'utf8');
    const err = rejects(text, 'PublicKey.TooWeak', /1024.*2048/);
    assert.equal(err.details['bits'], 1024);
  });

  it('ssh-dss as unsupported, listing the accepted types', () => {
    let text: string;
    try {
      text = readFileSync(`${sshKeygen('dsa', undefined, 'dsa')}.pub`, 'utf8');
    } catch {
      // ssh-keygen built without DSA: the blob is p, q, g, y (RFC 4253 §6.6).
      text = line(
        'ssh-dss',
        Buffer.concat([sshString('ssh-dss'), ...[128, 20, 128, 128].map((n) => sshMpint(randomBytes(n)))]),
      );
    }
    rejects(
      text,
      'PublicKey.UnsupportedType',
      /ssh-rsa.*ssh-ed25519.*ecdsa-sha2-nistp256.*ecdsa-sha2-nistp384.*ecdsa-sha2-nistp521/,
    );
  });

  it('a certificate as unsupported', () => {
    const ca = sshKeygen('ed25519', undefined, 'ca');
    const user = sshKeygen('ed25519', undefined, 'user');
    execFileSync(SSH_KEYGEN, ['-q', '-s', ca, '-I', 'id', '-n', 'root', `${user}.pub`], { stdio: 'pipe' });
    const cert = readFileSync(`${user}-cert.pub`, 'utf8');
    assert.match(cert, /^ssh-ed25519-cert-v01@openssh\.com /);
    rejects(cert, 'PublicKey.UnsupportedType', /certificate/);
  });

  it('security-key types as unsupported', () => {
    const sk = Buffer.concat([sshString('sk-ssh-ed25519@openssh.com'), sshString(randomBytes(32)), sshString('ssh:')]);
    rejects(line('sk-ssh-ed25519@openssh.com', sk), 'PublicKey.UnsupportedType', /sk-ssh-ed25519@openssh\.com/);
    rejects(line('sk-ecdsa-sha2-nistp256@openssh.com', sk), 'PublicKey.UnsupportedType');
  });

  it('unknown types as unsupported, without quoting a first word that is not a type name', () => {
    rejects('ssh-foo AAAA', 'PublicKey.UnsupportedType', /'ssh-foo'/);
    const secretish = randomBytes(48).toString('base64');
    const err = rejects(`${secretish} c`, 'PublicKey.UnsupportedType');
    assert.ok(!err.message.includes(secretish.slice(0, 12)));
  });

  it('random base64 as malformed', () => {
    rejects(`ssh-ed25519 ${randomBytes(51).toString('base64')}`, 'PublicKey.Malformed');
    rejects(`ssh-rsa ${randomBytes(300).toString('base64')}`, 'PublicKey.Malformed');
  });

  it('text that is not base64 as malformed', () => {
    rejects('ssh-ed25519 not*base64!', 'PublicKey.Malformed', /base64/);
    rejects('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI', 'PublicKey.Malformed', /base64/);
  });

  it('base64 with non-zero padding bits as malformed', () => {
    const base64 = ecdsa256Line.split(' ')[1]!;
    assert.match(base64, /[^=]=$/);
    const last = base64[base64.length - 2]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const tweaked = alphabet[alphabet.indexOf(last) ^ 1]!;
    rejects(`ecdsa-sha2-nistp256 ${base64.slice(0, -2)}${tweaked}=`, 'PublicKey.Malformed', /base64/);
  });

  it('a truncated blob as malformed', () => {
    const blob = blobOf(ed25519Line);
    rejects(line('ssh-ed25519', blob.subarray(0, blob.length - 5)), 'PublicKey.Malformed', /truncated/);
    rejects(line('ssh-ed25519', blob.subarray(0, 3)), 'PublicKey.Malformed', /truncated/);
  });

  it('trailing bytes in the blob as malformed', () => {
    rejects(
      line('ssh-ed25519', Buffer.concat([blobOf(ed25519Line), Buffer.alloc(4)])),
      'PublicKey.Malformed',
      /trailing/,
    );
  });

  it('a type in the line that differs from the type in the blob as malformed', () => {
    rejects(line('ssh-rsa', blobOf(ed25519Line)), 'PublicKey.Malformed', /does not match/);
    rejects(line('ecdsa-sha2-nistp384', blobOf(ecdsa256Line)), 'PublicKey.Malformed', /does not match/);
  });

  it('an ECDSA curve name that does not match as malformed', () => {
    const blob = blobOf(ecdsa256Line);
    const point = blob.subarray(blob.length - 65);
    const wrongCurve = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp384'), sshString(point)]);
    rejects(line('ecdsa-sha2-nistp256', wrongCurve), 'PublicKey.Malformed', /curve/);
  });

  it('an ECDSA point not on the curve as malformed', () => {
    const blob = Buffer.from(blobOf(ecdsa256Line));
    blob[blob.length - 1] = blob[blob.length - 1]! ^ 0x01;
    rejects(line('ecdsa-sha2-nistp256', blob), 'PublicKey.Malformed', /not on the curve/);
  });

  it('a compressed ECDSA point as malformed', () => {
    const blob = blobOf(ecdsa256Line);
    const point = blob.subarray(blob.length - 65);
    const compressed = Buffer.concat([Buffer.from([0x02 | (point[64]! & 1)]), point.subarray(1, 33)]);
    const body = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(compressed)]);
    rejects(line('ecdsa-sha2-nistp256', body), 'PublicKey.Malformed', /uncompressed/);
  });

  it('an Ed25519 key of 31 bytes as malformed', () => {
    const body = Buffer.concat([sshString('ssh-ed25519'), sshString(randomBytes(31))]);
    rejects(line('ssh-ed25519', body), 'PublicKey.Malformed', /32 bytes/);
  });

  it('an Ed25519 key that is not a curve point as malformed', () => {
    // y = p = 2^255 - 19 (little-endian), which is not a canonical field element.
    const yIsP = Buffer.alloc(32, 0xff);
    yIsP[0] = 0xed;
    yIsP[31] = 0x7f;
    rejects(
      line('ssh-ed25519', Buffer.concat([sshString('ssh-ed25519'), sshString(yIsP)])),
      'PublicKey.Malformed',
      /curve point/,
    );
    // y = 2 has no x: (y²-1)/(dy²+1) is not a square mod p.
    const yIsTwo = Buffer.alloc(32);
    yIsTwo[0] = 2;
    rejects(
      line('ssh-ed25519', Buffer.concat([sshString('ssh-ed25519'), sshString(yIsTwo)])),
      'PublicKey.Malformed',
      /curve point/,
    );
  });

  it('RSA numbers that are not valid or not minimally encoded as malformed', () => {
    const n = randomBytes(256);
    n[0] = n[0]! | 0x80;
    n[255] = n[255]! | 1;
    const e = Buffer.from([0x01, 0x00, 0x01]);
    const good = (exponent: Buffer, modulus: Buffer) =>
      Buffer.concat([sshString('ssh-rsa'), sshMpint(exponent), sshMpint(modulus)]);
    assert.equal(parsePublicKey(line('ssh-rsa', good(e, n))).bits, 2048);
    rejects(line('ssh-rsa', good(Buffer.from([0x01, 0x00, 0x00]), n)), 'PublicKey.Malformed', /exponent/);
    rejects(line('ssh-rsa', good(Buffer.from([0x01]), n)), 'PublicKey.Malformed', /exponent/);
    const evenN = Buffer.from(n);
    evenN[255] = evenN[255]! & 0xfe;
    rejects(line('ssh-rsa', good(e, evenN)), 'PublicKey.Malformed', /modulus/);
    const padded = Buffer.concat([sshString('ssh-rsa'), sshString(Buffer.concat([Buffer.from([0]), e])), sshMpint(n)]);
    rejects(line('ssh-rsa', padded), 'PublicKey.Malformed', /minimally/);
    const negative = Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshString(n)]);
    rejects(line('ssh-rsa', negative), 'PublicKey.Malformed', /negative/);
  });

  it('two lines as malformed', () => {
    rejects(`${ed25519Line}\n${ed25519Line}`, 'PublicKey.Malformed', /one key line/);
    rejects(`${ed25519Line}\r\n# comment`, 'PublicKey.Malformed', /one key line/);
  });

  it('authorized_keys options as malformed', () => {
    for (const options of [
      'no-pty,command="echo hi there"',
      'restrict',
      'from="10.0.0.1"',
      'no-agent-forwarding',
      'cert-authority',
    ]) {
      rejects(`${options} ${ed25519Line}`, 'PublicKey.Malformed', /options/);
    }
  });

  it('empty and whitespace-only input as malformed', () => {
    rejects('', 'PublicKey.Malformed', /empty/);
    rejects(' \r\n\t', 'PublicKey.Malformed', /empty/);
  });

  it('a line with a type and no key data as malformed', () => {
    rejects('ssh-ed25519', 'PublicKey.Malformed');
  });

  it('input over 16 KiB as malformed', () => {
    const err = rejects(`${ed25519Line} ${'x'.repeat(20 * 1024)}`, 'PublicKey.Malformed', /16 KiB/);
    assert.equal(err.details['limit'], 16384);
  });

  it('control characters as malformed', () => {
    rejects(`${ed25519Line} evil\x00comment`, 'PublicKey.Malformed', /control/);
  });

  it('never quotes the key data in a message', () => {
    const base64 = randomBytes(120).toString('base64');
    for (const text of [
      `ssh-ed25519 ${base64}`,
      `ssh-rsa ${base64} comment`,
      `${base64}`,
      `no-pty ssh-rsa ${base64}`,
    ]) {
      let message = '';
      try {
        parsePublicKey(text);
      } catch (e) {
        message = (e as Error).message;
      }
      assert.ok(message !== '');
      assert.ok(!message.includes(base64.slice(0, 16)), message);
    }
  });
});

describe('fingerprints and describeKeyType', () => {
  it('formats MD5 as colon-separated hex and SHA256 as unpadded base64', () => {
    const fp = fingerprints(Buffer.from('abc'));
    assert.equal(fp.md5, 'MD5:90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72');
    assert.equal(fp.sha256, 'SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });

  it('names key types for messages', () => {
    assert.equal(describeKeyType({ algorithm: 'ssh-rsa', bits: 4096 }), 'RSA 4096');
    assert.equal(describeKeyType({ algorithm: 'ssh-ed25519', bits: 256 }), 'ED25519');
    assert.equal(describeKeyType({ algorithm: 'ecdsa-sha2-nistp521', bits: 521 }), 'ECDSA 521');
  });
});
