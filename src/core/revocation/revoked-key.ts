/**
 * Naming the key to revoke: by key pair, by fingerprint (SHA256 or MD5, as ssh-keygen prints them) or by a pasted
 * public key, including a key keyfleet never knew. A pasted key is read the way sshd reads an authorized_keys line
 * (parseAuthorizedKeys), not by the key pair import rules: a weak or odd key someone added by hand must still be
 * revocable. A fingerprint names a key body only once it is found (a key pair, or a line on some machine), since the
 * publickey query that proves a refusal needs the key itself.
 */
import { Buffer } from 'node:buffer';
import { parseAuthorizedKeys } from '../binding/authorized-keys.js';
import { CoreError } from '../errors.js';
import { fingerprints } from '../keypair/public-key.js';
import { REVOCATION_LIMITS, type RevocationTarget, type RevokedKey } from './revocation.js';

export interface RevokeWhat {
  keyPairName?: unknown;
  fingerprint?: unknown;
  publicKey?: unknown;
}

/** What a request names, validated; a fingerprint normalised to ssh-keygen's form. */
export type NamedKey =
  | { target: RevocationTarget & { kind: 'keyPair' } }
  | { target: RevocationTarget & { kind: 'fingerprint' }; fingerprint: string }
  | { target: RevocationTarget & { kind: 'publicKey' }; key: RevokedKey };

export function nameKey(what: RevokeWhat): NamedKey {
  const given = (['keyPairName', 'fingerprint', 'publicKey'] as const).filter((k) => what[k] !== undefined);
  if (given.length !== 1)
    throw new CoreError(
      'Input.Invalid',
      'Name the key to revoke in exactly one way: keyPairName, fingerprint (SHA256:… or MD5:…) or publicKey.',
      { parameter: 'keyPairName|fingerprint|publicKey' },
    );
  if (what.keyPairName !== undefined) {
    if (typeof what.keyPairName !== 'string' || what.keyPairName.length === 0 || what.keyPairName.length > 255)
      throw new CoreError('Input.Invalid', 'keyPairName must be a key pair name.', { parameter: 'keyPairName' });
    return { target: { kind: 'keyPair', keyPairName: what.keyPairName } };
  }
  if (what.fingerprint !== undefined) {
    const fp = normaliseFingerprint(what.fingerprint);
    return { target: { kind: 'fingerprint', fingerprint: fp }, fingerprint: fp };
  }
  return { target: { kind: 'publicKey' }, key: keyOfLine(what.publicKey) };
}

/** 'SHA256:<43 base64>' or 'MD5:aa:…' (the 'MD5:' prefix may be left out); anything else is refused. */
export function normaliseFingerprint(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > REVOCATION_LIMITS.fingerprintChars)
    throw new CoreError(
      'Input.Invalid',
      'fingerprint must be a SHA256 or MD5 fingerprint as ssh-keygen -l prints it.',
      {
        parameter: 'fingerprint',
      },
    );
  const text = raw.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}$/.test(text)) return text;
  const md5 = /^(?:MD5:)?((?:[0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2})$/.exec(text);
  if (md5) return `MD5:${md5[1]!.toLowerCase()}`;
  throw new CoreError(
    'Input.Invalid',
    `'${text.slice(0, 80)}' is not a fingerprint as ssh-keygen -l prints it (SHA256:… or MD5:aa:bb:…).`,
    { parameter: 'fingerprint' },
  );
}

/** A pasted public key line ('type base64 [comment]', options tolerated), bounded in size. */
export function keyOfLine(raw: unknown): RevokedKey {
  if (typeof raw !== 'string' || raw.length === 0)
    throw new CoreError('PublicKey.Malformed', 'publicKey must be an OpenSSH public key line.', {
      parameter: 'publicKey',
    });
  if (raw.length > REVOCATION_LIMITS.publicKeyChars)
    throw new CoreError(
      'Input.TooLarge',
      `publicKey is ${raw.length} characters; at most ${REVOCATION_LIMITS.publicKeyChars} are read.`,
      { parameter: 'publicKey', limit: REVOCATION_LIMITS.publicKeyChars },
    );
  const { entries } = parseAuthorizedKeys(raw.trim());
  const entry = entries[0];
  if (entries.length !== 1 || !entry)
    throw new CoreError('PublicKey.Malformed', 'publicKey must be exactly one OpenSSH public key line.', {
      parameter: 'publicKey',
    });
  return keyOfBody(entry.type, entry.base64);
}

/** The key of a line's type and body; the body must decode to a blob of that type (as sshd checks). */
export function keyOfBody(type: string, base64: string): RevokedKey {
  const blob = Buffer.from(base64, 'base64');
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len < 1 || len + 4 > blob.length || blob.subarray(4, 4 + len).toString('latin1') !== type)
    throw new CoreError('PublicKey.Malformed', `The key body is not a '${type}' key.`, { parameter: 'publicKey' });
  const fp = fingerprints(blob);
  return { type, base64, fingerprintSha256: fp.sha256, fingerprintMd5: fp.md5 };
}

/** Whether a line's key has this fingerprint (SHA256 or MD5 in ssh-keygen's form). */
export function hasFingerprint(base64: string, fingerprint: string): boolean {
  const fp = fingerprints(Buffer.from(base64, 'base64'));
  return fp.sha256 === fingerprint || fp.md5 === fingerprint;
}
