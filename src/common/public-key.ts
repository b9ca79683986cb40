/**
 * The rules for an OpenSSH public key line as users paste it, shared by the core (which has the last word) and the
 * console (which checks before sending): one line `<type> <base64> [comment]`, an accepted type, canonical base64, a
 * wire blob that names the same type, sizes that fit (RSA 2048-16384 bits, Ed25519 32 bytes on the curve, ECDSA on
 * the named curve's uncompressed form).
 *
 * Problems are values with the core's stable error codes and messages. Messages never quote the base64 body (a
 * pasted private key would be a secret); they quote at most a key type name. Checks that need a crypto library
 * (does OpenSSL accept the RSA numbers, is the EC point on the curve) are passed in by the caller.
 */
import { decodeCanonicalBase64 } from './base64.js';
import { WireError, WireReader, bitLength, isEd25519Point, isOdd } from './ssh-wire.js';

export type KeyAlgorithm =
  | 'ssh-rsa'
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521';

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

export interface EcCurve {
  sshName: string;
  /** The JWK 'crv' name. */
  jwkName: string;
  bits: number;
  coordinateBytes: number;
}

export const EC_CURVES: Readonly<Record<string, EcCurve>> = {
  'ecdsa-sha2-nistp256': { sshName: 'nistp256', jwkName: 'P-256', bits: 256, coordinateBytes: 32 },
  'ecdsa-sha2-nistp384': { sshName: 'nistp384', jwkName: 'P-384', bits: 384, coordinateBytes: 48 },
  'ecdsa-sha2-nistp521': { sshName: 'nistp521', jwkName: 'P-521', bits: 521, coordinateBytes: 66 },
};

export interface ParsedPublicKey {
  algorithm: KeyAlgorithm;
  /** Exactly the number `ssh-keygen -l` prints: RSA modulus bits, 256 for Ed25519, 256/384/521 for ECDSA. */
  bits: number;
  /** The decoded RFC 4253 wire blob. */
  blob: Uint8Array;
  /** The key data as given (canonical base64). */
  base64: string;
  /** '' if the line has none. */
  comment: string;
}

export type PublicKeyProblemCode = 'PublicKey.Malformed' | 'PublicKey.UnsupportedType' | 'PublicKey.TooWeak';

export interface PublicKeyProblem {
  code: PublicKeyProblemCode;
  message: string;
  details: Record<string, string | number | string[]>;
}

export type PublicKeyResult = { ok: true; key: ParsedPublicKey } | { ok: false; problem: PublicKeyProblem };

/** Key material checks that need a crypto library; each returns whether the key is valid. */
export interface KeyMaterialChecks {
  rsa?(modulus: Uint8Array, exponent: Uint8Array): boolean;
  ed25519?(point: Uint8Array): boolean;
  ec?(curve: EcCurve, x: Uint8Array, y: Uint8Array): boolean;
}

export function parseOpenSshPublicKey(text: string, checks: KeyMaterialChecks = {}): PublicKeyResult {
  try {
    const line = singleLine(text);
    const { type, base64, comment } = splitLine(line);
    const algorithm = acceptedAlgorithm(type);
    const blob = decodeCanonicalBase64(base64);
    if (!blob) throw malformed('the key data is not valid base64');
    const bits = validateBlob(algorithm, blob, checks);
    return { ok: true, key: { algorithm, bits, blob, base64, comment } };
  } catch (e) {
    if (e instanceof ProblemThrown) return { ok: false, problem: e.problem };
    if (e instanceof WireError) return { ok: false, problem: malformed(e.message).problem };
    throw e;
  }
}

/** A short human name for messages and the UI: 'RSA 2048', 'ED25519', 'ECDSA 256'. */
export function describeKeyType(key: { algorithm: KeyAlgorithm; bits: number }): string {
  if (key.algorithm === 'ssh-rsa') return `RSA ${key.bits}`;
  if (key.algorithm === 'ssh-ed25519') return 'ED25519';
  return `ECDSA ${key.bits}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The line

class ProblemThrown extends Error {
  constructor(readonly problem: PublicKeyProblem) {
    super(problem.message);
  }
}

function malformed(reason: string, details: PublicKeyProblem['details'] = {}): ProblemThrown {
  return new ProblemThrown({
    code: 'PublicKey.Malformed',
    message: `The public key is not valid: ${reason}.`,
    details,
  });
}

function singleLine(text: string): string {
  if (typeof text !== 'string') throw malformed('it must be text');
  // Length first, so no further work is spent on oversized input (UTF-8 is never shorter than the UTF-16 length).
  if (text.length > MAX_PUBLIC_KEY_BYTES || new TextEncoder().encode(text).length > MAX_PUBLIC_KEY_BYTES) {
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
const OPTION_WORDS =
  /^(?:restrict|cert-authority|no-[a-z-]+|permit-[a-z-]+|pty|agent-forwarding|port-forwarding|x11-forwarding|user-rc|touch-required|verify-required)$/i;

function looksLikeKeyType(word: string): boolean {
  return word.length <= 64 && /^(?:ssh-|ecdsa-sha2-|sk-|rsa-sha2-|x509v3-)[A-Za-z0-9@._-]+$/.test(word);
}

function splitLine(line: string): { type: string; base64: string; comment: string } {
  const words = line.split(/[ \t]+/);
  const first = words[0] ?? '';
  if (
    !looksLikeKeyType(first) &&
    (/[=",]/.test(first) || OPTION_WORDS.test(first) || words.slice(1).some(looksLikeKeyType))
  ) {
    throw malformed("authorized_keys options are not accepted; give only '<type> <base64> [comment]'");
  }
  const match = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) throw malformed("expected one line '<type> <base64> [comment]'");
  return { type: match[1]!, base64: match[2]!, comment: match[3] ?? '' };
}

function acceptedAlgorithm(type: string): KeyAlgorithm {
  if ((ACCEPTED_KEY_ALGORITHMS as readonly string[]).includes(type)) return type as KeyAlgorithm;
  const quoted = looksLikeKeyType(type) ? `'${type}'` : 'of the first word';
  throw new ProblemThrown({
    code: 'PublicKey.UnsupportedType',
    message: `The key type ${quoted} is not supported${unsupportedReason(type)}; use one of ${ACCEPTED_LIST}.`,
    details: { acceptedTypes: [...ACCEPTED_KEY_ALGORITHMS], ...(looksLikeKeyType(type) ? { type } : {}) },
  });
}

function unsupportedReason(type: string): string {
  if (type.endsWith('-cert-v01@openssh.com')) return ' (certificates are not accepted, give the plain public key)';
  if (type.startsWith('sk-')) return ' (security-key keys are not supported)';
  if (type === 'ssh-dss') return ' (DSA keys are too weak)';
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// The blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4)

/** Checks the blob against the line's type and returns the key size. */
function validateBlob(algorithm: KeyAlgorithm, blob: Uint8Array, checks: KeyMaterialChecks): number {
  const reader = new WireReader(blob);
  const innerType = reader.text();
  if (innerType !== algorithm) {
    const quoted = looksLikeKeyType(innerType) ? ` ('${innerType}')` : '';
    throw malformed(`the key type '${algorithm}' does not match the type inside the key data${quoted}`);
  }
  const bits =
    algorithm === 'ssh-rsa'
      ? validateRsa(reader, checks)
      : algorithm === 'ssh-ed25519'
        ? validateEd25519(reader, checks)
        : validateEcdsa(reader, EC_CURVES[algorithm]!, checks);
  reader.end();
  return bits;
}

function validateRsa(reader: WireReader, checks: KeyMaterialChecks): number {
  const exponent = reader.mpint();
  const modulus = reader.mpint();
  if (modulus.length === 0 || !isOdd(modulus)) throw malformed('the RSA modulus is not valid');
  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS) {
    throw new ProblemThrown({
      code: 'PublicKey.TooWeak',
      message: `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.`,
      details: { bits, minimumBits: MIN_RSA_BITS },
    });
  }
  if (bits > MAX_RSA_BITS) throw malformed(`the RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are supported`);
  // OpenSSL caps public exponents at 64 bits; e must be odd and at least 3 to be an RSA key at all.
  if (exponent.length === 0 || exponent.length > 8 || !isOdd(exponent) || bitLength(exponent) < 2) {
    throw malformed('the RSA public exponent is not valid');
  }
  if (checks.rsa && !checks.rsa(modulus, exponent)) throw malformed('the RSA key is not valid');
  return bits;
}

function validateEd25519(reader: WireReader, checks: KeyMaterialChecks): number {
  const point = reader.string();
  if (point.length !== 32) throw malformed(`an Ed25519 key is 32 bytes, this one has ${point.length}`);
  if (!isEd25519Point(point) || (checks.ed25519 && !checks.ed25519(point)))
    throw malformed('the Ed25519 key is not a valid curve point');
  return 256;
}

function validateEcdsa(reader: WireReader, curve: EcCurve, checks: KeyMaterialChecks): number {
  const curveName = reader.text();
  if (curveName !== curve.sshName) throw malformed(`the curve inside the key data does not match '${curve.sshName}'`);
  const point = reader.string();
  const size = curve.coordinateBytes;
  // Only the uncompressed form (0x04 || x || y) is canonical; ssh-keygen fingerprints that form.
  if (point.length !== 1 + 2 * size || point[0] !== 0x04)
    throw malformed(`the EC point is not an uncompressed ${curve.sshName} point`);
  if (checks.ec && !checks.ec(curve, point.subarray(1, 1 + size), point.subarray(1 + size))) {
    throw malformed(`the EC point is not on the curve ${curve.sshName}`);
  }
  return curve.bits;
}
