/**
 * OpenSSH public keys: parses one `type base64 [comment]` line as users paste it into the APIs, validates the key
 * material, and computes the fingerprints and sizes exactly as `ssh-keygen -l` prints them.
 *
 * Pure core: node:crypto does the curve and key checks, the RFC 4253 wire format is read by hand. Error messages
 * never quote the base64 body (a pasted private key would be a secret); they quote at most a key type name.
 */
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { CoreError } from '../errors.js';

export type KeyAlgorithm =
  | 'ssh-rsa'
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521';

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

export const ACCEPTED_KEY_ALGORITHMS: readonly KeyAlgorithm[] = [
  'ssh-rsa',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
];
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 16384;
export const MAX_PUBLIC_KEY_BYTES = 16 * 1024;

const ACCEPTED_LIST = `ssh-rsa (${MIN_RSA_BITS} bits or more), ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521`;

interface EcCurve {
  sshName: string;
  jwkName: string;
  bits: number;
  coordinateBytes: number;
}

const EC_CURVES: Record<string, EcCurve> = {
  'ecdsa-sha2-nistp256': { sshName: 'nistp256', jwkName: 'P-256', bits: 256, coordinateBytes: 32 },
  'ecdsa-sha2-nistp384': { sshName: 'nistp384', jwkName: 'P-384', bits: 384, coordinateBytes: 48 },
  'ecdsa-sha2-nistp521': { sshName: 'nistp521', jwkName: 'P-521', bits: 521, coordinateBytes: 66 },
};

// ---------------------------------------------------------------------------------------------------------------
// Public API

export function parsePublicKey(text: string): PublicKeyInfo {
  const line = singleLine(text);
  const { type, base64, comment } = splitLine(line);
  const algorithm = acceptedAlgorithm(type);
  const blob = decodeBase64(base64);
  const bits = validateBlob(algorithm, blob);
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
  const md5 = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
  const sha256 = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return { md5: `MD5:${md5}`, sha256: `SHA256:${sha256}` };
}

/** A short human name for messages and the UI: 'RSA 2048', 'ED25519', 'ECDSA 256'. */
export function describeKeyType(info: Pick<PublicKeyInfo, 'algorithm' | 'bits'>): string {
  switch (info.algorithm) {
    case 'ssh-rsa':
      return `RSA ${info.bits}`;
    case 'ssh-ed25519':
      return 'ED25519';
    default:
      return `ECDSA ${info.bits}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The line

function malformed(reason: string, details: Record<string, string | number> = {}): CoreError {
  return new CoreError('PublicKey.Malformed', `The public key is not valid: ${reason}.`, details);
}

function singleLine(text: string): string {
  if (typeof text !== 'string') throw malformed('it must be text');
  // Length first, so no further work is spent on oversized input (UTF-8 is never shorter than the UTF-16 length).
  if (text.length > MAX_PUBLIC_KEY_BYTES || Buffer.byteLength(text, 'utf8') > MAX_PUBLIC_KEY_BYTES) {
    throw malformed(`it is larger than ${MAX_PUBLIC_KEY_BYTES / 1024} KiB`, { limit: MAX_PUBLIC_KEY_BYTES });
  }
  const line = text.trim();
  if (line === '') throw malformed('it is empty');
  if (/[\r\n]/.test(line)) throw malformed('give exactly one key line; the text has several lines');
  // A control character in the comment could break the authorized_keys file it is written to.
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) throw malformed('it contains control characters');
  return line;
}

/** Words that start an authorized_keys line with options instead of a key type. */
const OPTION_WORDS = /^(?:restrict|cert-authority|no-[a-z-]+|permit-[a-z-]+|pty|agent-forwarding|port-forwarding|x11-forwarding|user-rc|touch-required|verify-required)$/i;

function looksLikeKeyType(word: string): boolean {
  return word.length <= 64 && /^(?:ssh-|ecdsa-sha2-|sk-|rsa-sha2-|x509v3-)[A-Za-z0-9@._-]+$/.test(word);
}

function splitLine(line: string): { type: string; base64: string; comment: string } {
  const words = line.split(/[ \t]+/);
  const first = words[0] ?? '';
  if (!looksLikeKeyType(first) && (/[=",]/.test(first) || OPTION_WORDS.test(first) || words.slice(1).some(looksLikeKeyType))) {
    throw malformed("authorized_keys options are not accepted; give only '<type> <base64> [comment]'");
  }
  const match = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) throw malformed("expected one line '<type> <base64> [comment]'");
  return { type: match[1]!, base64: match[2]!, comment: match[3] ?? '' };
}

function acceptedAlgorithm(type: string): KeyAlgorithm {
  if ((ACCEPTED_KEY_ALGORITHMS as readonly string[]).includes(type)) return type as KeyAlgorithm;
  const quoted = looksLikeKeyType(type) ? `'${type}'` : 'of the first word';
  throw new CoreError(
    'PublicKey.UnsupportedType',
    `The key type ${quoted} is not supported${unsupportedReason(type)}; use one of ${ACCEPTED_LIST}.`,
    { acceptedTypes: [...ACCEPTED_KEY_ALGORITHMS], ...(looksLikeKeyType(type) ? { type } : {}) },
  );
}

function unsupportedReason(type: string): string {
  if (type.endsWith('-cert-v01@openssh.com')) return ' (certificates are not accepted, give the plain public key)';
  if (type.startsWith('sk-')) return ' (security-key keys are not supported)';
  if (type === 'ssh-dss') return ' (DSA keys are too weak)';
  return '';
}

function decodeBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw malformed('the key data is not valid base64');
  const blob = Buffer.from(text, 'base64');
  // Buffer.from ignores non-zero padding bits; only the canonical form is accepted.
  if (blob.toString('base64') !== text) throw malformed('the key data is not valid base64');
  return blob;
}

// ---------------------------------------------------------------------------------------------------------------
// The blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4)

class BlobReader {
  private offset = 0;
  constructor(private readonly blob: Buffer) {}

  string(): Buffer {
    if (this.blob.length - this.offset < 4) throw malformed('the key data is truncated');
    const length = this.blob.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (length > this.blob.length - start) throw malformed('the key data is truncated');
    this.offset = start + length;
    return this.blob.subarray(start, this.offset);
  }

  /** An RFC 4251 mpint, which must be non-negative and minimally encoded; returns the magnitude. */
  mpint(): Buffer {
    const bytes = this.string();
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) throw malformed('the key data has a negative number');
    if (bytes.length > 0 && bytes[0] === 0 && (bytes.length === 1 || (bytes[1]! & 0x80) === 0)) {
      throw malformed('the key data has a number that is not minimally encoded');
    }
    return bytes[0] === 0 ? bytes.subarray(1) : bytes;
  }

  end(): void {
    if (this.offset !== this.blob.length) throw malformed('the key data has trailing bytes');
  }
}

/** Checks the blob against the line's type and returns the key size. */
function validateBlob(algorithm: KeyAlgorithm, blob: Buffer): number {
  const reader = new BlobReader(blob);
  const innerType = reader.string().toString('latin1');
  if (innerType !== algorithm) {
    const quoted = looksLikeKeyType(innerType) ? ` ('${innerType}')` : '';
    throw malformed(`the key type '${algorithm}' does not match the type inside the key data${quoted}`);
  }
  const bits = algorithm === 'ssh-rsa' ? validateRsa(reader) : algorithm === 'ssh-ed25519' ? validateEd25519(reader) : validateEcdsa(reader, EC_CURVES[algorithm]!);
  reader.end();
  return bits;
}

function validateRsa(reader: BlobReader): number {
  const exponent = reader.mpint();
  const modulus = reader.mpint();
  if (modulus.length === 0 || !isOdd(modulus)) throw malformed('the RSA modulus is not valid');
  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS) {
    throw new CoreError('PublicKey.TooWeak', `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.`, { bits, minimumBits: MIN_RSA_BITS });
  }
  if (bits > MAX_RSA_BITS) throw malformed(`the RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are supported`);
  // OpenSSL caps public exponents at 64 bits; e must be odd and at least 3 to be an RSA key at all.
  if (exponent.length === 0 || exponent.length > 8 || !isOdd(exponent) || bitLength(exponent) < 2) {
    throw malformed('the RSA public exponent is not valid');
  }
  if (!importsAsPublicKey({ kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') })) {
    throw malformed('the RSA key is not valid');
  }
  return bits;
}

function validateEd25519(reader: BlobReader): number {
  const point = reader.string();
  if (point.length !== 32) throw malformed(`an Ed25519 key is 32 bytes, this one has ${point.length}`);
  // OpenSSL stores Ed25519 public keys without decoding them, so the point is checked here.
  if (!isEd25519Point(point) || !importsAsPublicKey({ kty: 'OKP', crv: 'Ed25519', x: point.toString('base64url') })) {
    throw malformed('the Ed25519 key is not a valid curve point');
  }
  return 256;
}

function validateEcdsa(reader: BlobReader, curve: EcCurve): number {
  const curveName = reader.string().toString('latin1');
  if (curveName !== curve.sshName) throw malformed(`the curve inside the key data does not match '${curve.sshName}'`);
  const point = reader.string();
  const size = curve.coordinateBytes;
  // Only the uncompressed form (0x04 || x || y) is canonical; ssh-keygen fingerprints that form.
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw malformed(`the EC point is not an uncompressed ${curve.sshName} point`);
  const x = point.subarray(1, 1 + size).toString('base64url');
  const y = point.subarray(1 + size).toString('base64url');
  if (!importsAsPublicKey({ kty: 'EC', crv: curve.jwkName, x, y })) throw malformed(`the EC point is not on the curve ${curve.sshName}`);
  return curve.bits;
}

// ---------------------------------------------------------------------------------------------------------------
// Key maths

function importsAsPublicKey(jwk: JsonWebKey): boolean {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

function isOdd(bigEndian: Buffer): boolean {
  return (bigEndian[bigEndian.length - 1]! & 1) === 1;
}

/** Bit length of a big-endian magnitude without leading zero bytes. */
function bitLength(bigEndian: Buffer): number {
  if (bigEndian.length === 0) return 0;
  return (bigEndian.length - 1) * 8 + (32 - Math.clz32(bigEndian[0]!));
}

const ED25519_P = 2n ** 255n - 19n;
const ED25519_D = mod(-121665n * modPow(121666n, ED25519_P - 2n, ED25519_P), ED25519_P);

/** RFC 8032 §5.1.3 decoding: y below p, and x² = (y²-1)/(dy²+1) a square; x = 0 only with the sign bit clear. */
function isEd25519Point(encoded: Buffer): boolean {
  const littleEndian = Buffer.from(encoded).reverse();
  const sign = littleEndian[0]! >> 7;
  littleEndian[0] = littleEndian[0]! & 0x7f;
  const y = BigInt('0x' + littleEndian.toString('hex'));
  if (y >= ED25519_P) return false;
  const yy = mod(y * y, ED25519_P);
  const u = mod(yy - 1n, ED25519_P);
  const v = mod(ED25519_D * yy + 1n, ED25519_P);
  if (u === 0n) return sign === 0;
  // u/v is a square exactly when u·v is (they differ by the square v²), which spares an inversion.
  return modPow(u * v, (ED25519_P - 1n) / 2n, ED25519_P) === 1n;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}
