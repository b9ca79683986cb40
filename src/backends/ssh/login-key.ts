/**
 * A private key ready to log in with: parsed once per credential, and signing through an OpenSSL key object.
 *
 * ssh2 keeps a parsed private key as PEM text and hands that text to crypto.sign on every signature. OpenSSL 3
 * decodes PEM through its generic decoder framework, which on this machine costs ~340 µs per call, against ~30 µs
 * for the ed25519 signature itself: eleven twelfths of every key login's signing was decoding the same key again.
 * keyfleet decodes it once into a KeyObject and signs with that.
 *
 * The cache is keyed by the credential object, weakly: a credential given for one task is held by that task only
 * (the binding service forgets it when the task ends), and its parsed form goes with it.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { CoreError } from '../../core/errors.js';

export interface LoginKey {
  /** ssh2's parsed key (public half, type): what the protocol sends as the key. */
  readonly parsed: ParsedKey;
  /** The signature of `data` for the signature algorithm the server is sent (`keyAlgo`), or the error. */
  sign(data: Buffer, keyAlgo: string): Buffer | Error;
}

const byCredential = new WeakMap<object, LoginKey>();

/** The login key of a private-key credential; parsed and decoded the first time this credential object is seen. */
export function loginKeyOf(credential: { readonly privateKey: string }): LoginKey {
  let key = byCredential.get(credential);
  if (!key) {
    key = decodeLoginKey(credential.privateKey);
    byCredential.set(credential, key);
  }
  return key;
}

function decodeLoginKey(text: string): LoginKey {
  const parsed = firstKey(ssh2.utils.parseKey(text));
  // ssh2's parse messages never quote the key, but keep ours free of anything derived from it anyway.
  if (!parsed || !parsed.isPrivateKey())
    throw new CoreError(
      'PrivateKey.Malformed',
      'The private key could not be read (unsupported format, or encrypted with a passphrase).',
    );
  let keyObject: KeyObject | null = null;
  return {
    parsed,
    sign(data, keyAlgo) {
      try {
        keyObject ??= createPrivateKey(parsed.getPrivatePEM());
        return sign(hashOf(keyAlgo), data, keyObject);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    },
  };
}

/**
 * The digest each SSH signature algorithm names (RFC 4253, 5656, 8332); ed25519 has its own (null for Node).
 * The same choices ssh2 makes for each key type when it signs itself.
 */
export function hashOf(keyAlgo: string): string | null {
  switch (keyAlgo) {
    case 'rsa-sha2-256':
    case 'ecdsa-sha2-nistp256':
      return 'sha256';
    case 'ecdsa-sha2-nistp384':
      return 'sha384';
    case 'rsa-sha2-512':
    case 'ecdsa-sha2-nistp521':
      return 'sha512';
    case 'ssh-rsa':
    case 'ssh-dss':
      return 'sha1';
    default:
      return null;
  }
}

/** ssh2's parseKey answers one key, a list (a file may hold several) or an error: the first key, or null. */
export function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | null {
  if (parsed instanceof Error) return null;
  return (Array.isArray(parsed) ? parsed[0] : parsed) ?? null;
}
