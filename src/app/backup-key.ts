/**
 * The key-encryption key inside a backup, sealed with a passphrase: scrypt (RFC 7914) derives a 256-bit key from the
 * passphrase and a random salt, AES-256-GCM seals the 32-byte key-encryption key with it. Both are node:crypto's
 * own, well-known constructions; nothing is hand-rolled. The envelope is JSON (base64 fields), so a person can read
 * what it is and any language with scrypt and AES-GCM can open it:
 *
 *   {"format":"keyfleet-key-envelope-1","kdf":"scrypt","N":131072,"r":8,"p":1,"salt":"…16 bytes…",
 *    "cipher":"aes-256-gcm","iv":"…12 bytes…","tag":"…16 bytes…","ciphertext":"…32 bytes…"}
 *
 * The backup's id is the AEAD's additional data, so an envelope moved into another backup does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from 'node:crypto';

export const ENVELOPE_FORMAT = 'keyfleet-key-envelope-1';

/** scrypt cost: N=2^17, r=8, p=1 (128 MiB, about half a second) — the OWASP recommendation for scrypt. */
const COST = { N: 131072, r: 8, p: 1 } as const;
const MAX_N = 1 << 20;

export interface KeyEnvelope {
  format: typeof ENVELOPE_FORMAT;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  ciphertext: string;
}

export class WrongPassphrase extends Error {}

/**
 * The key's id, as the secret box writes it into every sealed value (`kf1.<kek id>.…`): the first 12 hex digits of
 * its SHA-256. It names the key without revealing it, so an operator can tell which key a backup needs.
 */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

function derive(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFC'),
      salt,
      32,
      { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

const aad = (backupId: string) => Buffer.from(`keyfleet-backup:${backupId}`, 'utf8');

export async function sealKey(key: Buffer, passphrase: string, backupId: string): Promise<KeyEnvelope> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const wrapping = await derive(passphrase, salt, COST);
  const cipher = createCipheriv('aes-256-gcm', wrapping, iv);
  cipher.setAAD(aad(backupId));
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
  return {
    format: ENVELOPE_FORMAT,
    kdf: 'scrypt',
    ...COST,
    salt: salt.toString('base64'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

export async function openKey(envelope: KeyEnvelope, passphrase: string, backupId: string): Promise<Buffer> {
  if (envelope.format !== ENVELOPE_FORMAT || envelope.kdf !== 'scrypt' || envelope.cipher !== 'aes-256-gcm')
    throw new Error(`The backup's key envelope is of an unknown format (${envelope.format}).`);
  // A tampered envelope must not make us allocate gigabytes before the tag check refuses it.
  if (
    !(
      envelope.N > 1 &&
      envelope.N <= MAX_N &&
      envelope.r >= 1 &&
      envelope.r <= 32 &&
      envelope.p >= 1 &&
      envelope.p <= 16
    )
  )
    throw new Error("The backup's key envelope has scrypt parameters out of range.");
  const wrapping = await derive(passphrase, Buffer.from(envelope.salt, 'base64'), envelope);
  const decipher = createDecipheriv('aes-256-gcm', wrapping, Buffer.from(envelope.iv, 'base64'));
  decipher.setAAD(aad(backupId));
  decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  try {
    const key = Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]);
    if (key.length !== 32) throw new Error('not 32 bytes');
    return key;
  } catch {
    throw new WrongPassphrase(
      'The passphrase does not open the key in this backup (wrong passphrase, or the file was altered).',
    );
  }
}
