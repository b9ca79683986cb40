/**
 * Envelope encryption for secrets at rest. Each secret gets its own random data key (AES-256-GCM); the data key is
 * wrapped with the key-encryption key (KEK) from the configuration. The record's context (e.g. the key pair it
 * belongs to) is bound as additional authenticated data, so a sealed value moved to another record will not open.
 * Rotating the KEK means re-wrapping data keys only; the KEK id in each value says which KEK wrapped it.
 *
 * Format: `kf1.<kekId>.<iv>.<wrapped data key>.<iv>.<ciphertext>` (base64url parts, GCM tags appended).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretBox } from '../core/ports.js';

function gcmSeal(key: Buffer, plain: Buffer, aad: Buffer): { iv: Buffer; sealed: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { iv, sealed: body };
}

function gcmOpen(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

const b64 = (b: Buffer) => b.toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url');

/** `kek` must be 32 bytes. Older KEKs may be given so values sealed before a rotation still open. */
export function createSecretBox(kek: Buffer, previousKeks: Buffer[] = []): SecretBox {
  if (kek.length !== 32) throw new Error('The key-encryption key must be 32 bytes.');
  const kekId = (k: Buffer) => createHash('sha256').update(k).digest('hex').slice(0, 12);
  const keks = new Map([kek, ...previousKeks].map((k) => [kekId(k), k]));
  const currentId = kekId(kek);
  return {
    seal(plain, context) {
      const aad = Buffer.from(context, 'utf8');
      const dataKey = randomBytes(32);
      const wrapped = gcmSeal(kek, dataKey, aad);
      const body = gcmSeal(dataKey, Buffer.from(plain, 'utf8'), aad);
      dataKey.fill(0);
      return ['kf1', currentId, b64(wrapped.iv), b64(wrapped.sealed), b64(body.iv), b64(body.sealed)].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 6 || parts[0] !== 'kf1') throw new Error('Not a sealed secret.');
      const key = keks.get(parts[1]!);
      if (!key) throw new Error('The key-encryption key that sealed this secret is not configured.');
      const aad = Buffer.from(context, 'utf8');
      const dataKey = gcmOpen(key, unb64(parts[2]!), unb64(parts[3]!), aad);
      try {
        return gcmOpen(dataKey, unb64(parts[4]!), unb64(parts[5]!), aad).toString('utf8');
      } finally {
        dataKey.fill(0);
      }
    },
  };
}
