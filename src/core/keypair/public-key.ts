/**
 * OpenSSH public keys in the core: parses one `type base64 [comment]` line as users paste it into the APIs, validates
 * the key material, and computes the fingerprints and sizes exactly as `ssh-keygen -l` prints them.
 *
 * The line and blob rules are shared with the console (src/common/public-key.ts); here they are turned into
 * CoreErrors, and node:crypto adds what the browser cannot check: that OpenSSL accepts the RSA numbers and that the
 * curve points are valid, and the hashes of the fingerprints.
 */
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { formatMd5Fingerprint, formatSha256Fingerprint } from '../../common/fingerprint.js';
import { parseOpenSshPublicKey, type KeyAlgorithm, type KeyMaterialChecks } from '../../common/public-key.js';
import { CoreError } from '../errors.js';

export {
  ACCEPTED_KEY_ALGORITHMS,
  MAX_PUBLIC_KEY_BYTES,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  describeKeyType,
  type KeyAlgorithm,
} from '../../common/public-key.js';

export interface PublicKeyInfo {
  algorithm: KeyAlgorithm;
  /** Exactly the number `ssh-keygen -l` prints: RSA modulus bits, 256 for Ed25519, 256/384/521 for ECDSA. */
  bits: number;
  /** The decoded RFC 4253 wire blob. */
  blob: Buffer;
  /** '' if the line has none. */
  comment: string;
  /** Normalised '<algorithm> <base64>', without the comment. */
  openssh: string;
  /** 'MD5:aa:bb:…' as `ssh-keygen -l -E md5` prints it. */
  fingerprintMd5: string;
  /** 'SHA256:…' (base64, no padding) as `ssh-keygen -l -E sha256` prints it. */
  fingerprintSha256: string;
}

export function parsePublicKey(text: string): PublicKeyInfo {
  const parsed = parseOpenSshPublicKey(text, OPENSSL_CHECKS);
  if (!parsed.ok) throw new CoreError(parsed.problem.code, parsed.problem.message, parsed.problem.details);
  const { algorithm, bits, base64, comment } = parsed.key;
  const blob = Buffer.from(parsed.key.blob);
  const { md5, sha256 } = fingerprints(blob);
  return {
    algorithm,
    bits,
    blob,
    comment,
    openssh: `${algorithm} ${base64}`,
    fingerprintMd5: md5,
    fingerprintSha256: sha256,
  };
}

export function fingerprints(blob: Buffer): { md5: string; sha256: string } {
  return {
    md5: formatMd5Fingerprint(createHash('md5').update(blob).digest()),
    sha256: formatSha256Fingerprint(createHash('sha256').update(blob).digest()),
  };
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** OpenSSL's own checks: it refuses RSA numbers it cannot use and EC points off the curve. */
const OPENSSL_CHECKS: KeyMaterialChecks = {
  rsa: (modulus, exponent) => importsAsPublicKey({ kty: 'RSA', n: base64url(modulus), e: base64url(exponent) }),
  // OpenSSL stores Ed25519 public keys without decoding them; the shared rules decode the point first.
  ed25519: (point) => importsAsPublicKey({ kty: 'OKP', crv: 'Ed25519', x: base64url(point) }),
  ec: (curve, x, y) => importsAsPublicKey({ kty: 'EC', crv: curve.jwkName, x: base64url(x), y: base64url(y) }),
};

function importsAsPublicKey(jwk: JsonWebKey): boolean {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}
