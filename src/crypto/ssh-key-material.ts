/**
 * KeyMaterial adapter: generates key pairs with ssh2 and reads private keys with ssh2 (OpenSSH, PEM PKCS#1/SEC1)
 * or node:crypto (PKCS#8, which ssh2 cannot read). The public key is always derived from the private key with
 * node:crypto and encoded as an OpenSSH blob here, so every format yields the same line `ssh-keygen -y` prints.
 *
 * Errors are CoreError 'PrivateKey.Malformed'; messages and details never quote the key text.
 */
import { Buffer } from 'node:buffer';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { CoreError } from '../core/errors.js';
import type { GeneratedKeyType, KeyMaterial } from '../core/keypair/key-material.js';

const GENERATED_RSA_BITS = 2048;
// A 16384-bit RSA key in OpenSSH format is about 13 KiB; anything much larger is not a key.
const MAX_PRIVATE_KEY_BYTES = 64 * 1024;
const PASSPHRASE_MESSAGE = 'passphrase-protected private keys are not supported';

/** PEM labels of the accepted formats: OpenSSH, PKCS#1 (RSA), SEC1 (EC), PKCS#8. */
const ACCEPTED_LABELS = new Set(['OPENSSH PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY']);

const SUPPORTED_NODE_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const SSH_CURVE_OF_JWK: Record<string, string> = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' };

export function createSshKeyMaterial(): KeyMaterial {
  return { generate, publicKeyOf: rememberedPublicKeyOf() };
}

/**
 * publicKeyOf with a small memory of recent answers: a fleet-wide task asks for the public half of the same
 * management key once per host (the lock-out guard, drift scans), and reading a key costs ~0.5 ms. The memory is
 * keyed by the SHA-256 of the key text and holds public lines only, never the private key; errors are not kept.
 */
const REMEMBERED_KEYS = 256;
function rememberedPublicKeyOf(): (privateKey: string) => string {
  const known = new Map<string, string>();
  return (privateKey) => {
    const id = createHash('sha256').update(privateKey).digest('base64');
    const hit = known.get(id);
    if (hit !== undefined) {
      known.delete(id); // most recently used last
      known.set(id, hit);
      return hit;
    }
    const line = publicKeyOf(privateKey);
    known.set(id, line);
    if (known.size > REMEMBERED_KEYS) known.delete(known.keys().next().value as string);
    return line;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Generation

/**
 * ssh2's ed25519 generator writes a key that neither ssh2 nor OpenSSH can load about once in 400 keys (measured:
 * 7 of 3000; `ssh-keygen -y` says "error in libcrypto"). Every generated key is therefore read back and checked
 * against its public half before anyone sees it; a bad one is discarded and generated again.
 */
const GENERATION_ATTEMPTS = 8;

async function generate(type: GeneratedKeyType, comment: string): Promise<{ privateKey: string; publicKey: string }> {
  for (let attempt = 1; ; attempt++) {
    const pair = await generateOnce(type, comment);
    if (isUsable(pair)) return pair;
    if (attempt >= GENERATION_ATTEMPTS)
      throw new Error(`could not generate a usable ${type} key in ${GENERATION_ATTEMPTS} attempts`);
  }
}

function isUsable(pair: { privateKey: string; publicKey: string }): boolean {
  try {
    const parsed = ssh2.utils.parseKey(pair.privateKey);
    if (!parsed || parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) return false;
    return publicKeyOf(pair.privateKey) === pair.publicKey.split(/\s+/).slice(0, 2).join(' ');
  } catch {
    return false;
  }
}

function generateOnce(type: GeneratedKeyType, comment: string): Promise<{ privateKey: string; publicKey: string }> {
  // The comment is written into both files; a line break in it would corrupt the public key line.
  const safeComment = comment.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, pair: { private: string; public: string }) => {
      if (err) reject(err);
      else resolve({ privateKey: pair.private, publicKey: pair.public.trim() });
    };
    switch (type) {
      case 'rsa':
        ssh2.utils.generateKeyPair('rsa', { bits: GENERATED_RSA_BITS, comment: safeComment }, done);
        return;
      case 'ed25519':
        ssh2.utils.generateKeyPair('ed25519', { comment: safeComment }, done);
        return;
      default:
        reject(new TypeError(`unsupported key type to generate: ${String(type)}`));
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading private keys

function publicKeyOf(privateKey: string): string {
  const text = boundedText(privateKey);
  const label = pemLabel(text);
  if (label === 'ENCRYPTED PRIVATE KEY' || isPassphraseProtected(text, label)) {
    throw new CoreError('PrivateKey.Malformed', PASSPHRASE_MESSAGE, { reason: 'encrypted' });
  }
  if (label === undefined || !ACCEPTED_LABELS.has(label)) throw malformed(unacceptedFormatReason(text, label));
  const key = label === 'PRIVATE KEY' ? pkcs8Key(text) : sshParsedKey(text);
  assertSupportedKeyType(key);
  const publicKey = createPublicKey(key);
  assertPartsBelongTogether(key, publicKey);
  return opensshLine(publicKey);
}

function malformed(reason: string): CoreError {
  return new CoreError('PrivateKey.Malformed', `The private key is not valid: ${reason}.`);
}

function boundedText(privateKey: string): string {
  if (typeof privateKey !== 'string') throw malformed('it must be text');
  if (privateKey.length > MAX_PRIVATE_KEY_BYTES)
    throw malformed(`it is larger than ${MAX_PRIVATE_KEY_BYTES / 1024} KiB`);
  const text = privateKey.trim();
  if (text === '') throw malformed('it is empty');
  return text;
}

function pemLabel(text: string): string | undefined {
  return /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n/.exec(text)?.[1];
}

function unacceptedFormatReason(text: string, label: string | undefined): string {
  if (label === 'DSA PRIVATE KEY') return 'DSA keys are not supported';
  if (label === undefined && /^(?:ssh-|ecdsa-sha2-|sk-)\S+ /.test(text))
    return 'this is a public key; give the private key';
  return 'it is not an OpenSSH, PEM (PKCS#1 or SEC1) or PKCS#8 private key';
}

function isPassphraseProtected(text: string, label: string | undefined): boolean {
  if (label === 'OPENSSH PRIVATE KEY') {
    const cipher = opensshCipherName(text);
    return cipher !== undefined && cipher !== 'none';
  }
  return /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text);
}

/** The cipher named in an OpenSSH private key ('none' when unencrypted); undefined if the header is unreadable. */
function opensshCipherName(text: string): string | undefined {
  const body = Buffer.from(text.replace(/^-----[^\n]*-----\r?$/gm, '').replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (body.length < magic.length + 4 || !body.subarray(0, magic.length).equals(magic)) return undefined;
  const length = body.readUInt32BE(magic.length);
  const start = magic.length + 4;
  if (length > body.length - start) return undefined;
  return body.subarray(start, start + length).toString('latin1');
}

/** OpenSSH, PKCS#1 and SEC1 keys, read by ssh2 and handed to node:crypto as the PEM ssh2 rebuilds. */
function sshParsedKey(text: string): KeyObject {
  let parsed: unknown;
  try {
    parsed = ssh2.utils.parseKey(text);
  } catch {
    throw malformed('it cannot be read');
  }
  // A multi-key OpenSSH file parses to an array; a key pair has exactly one key.
  const key = Array.isArray(parsed) ? (parsed.length === 1 ? parsed[0] : undefined) : parsed;
  if (!key || key instanceof Error) throw malformed('it cannot be read');
  const sshKey = key as ParsedKey;
  if (!sshKey.isPrivateKey()) throw malformed('it holds no private key');
  return nodePrivateKey(sshKey.getPrivatePEM());
}

function pkcs8Key(text: string): KeyObject {
  // node:crypto reads the first PEM block and ignores the rest; only a lone block is accepted.
  if (!/^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----$/.test(text)) {
    throw malformed('it cannot be read');
  }
  return nodePrivateKey(text);
}

function nodePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw malformed('it cannot be read');
  }
}

function assertSupportedKeyType(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const supported =
    type === 'rsa' || type === 'ed25519' || (type === 'ec' && curve !== undefined && SUPPORTED_NODE_CURVES.has(curve));
  if (!supported) throw malformed('only RSA, ECDSA (nistp256, nistp384, nistp521) and Ed25519 keys are supported');
}

/** Signs and verifies once, so a file whose public part was swapped for another key's is refused. */
function assertPartsBelongTogether(privateKey: KeyObject, publicKey: KeyObject): void {
  const challenge = randomBytes(32);
  const digest = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  let matches: boolean;
  try {
    matches = verify(digest, challenge, publicKey, sign(digest, challenge, privateKey));
  } catch {
    matches = false;
  }
  if (!matches) throw malformed('its private and public parts do not belong together');
}

// ---------------------------------------------------------------------------------------------------------------
// OpenSSH public blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4)

function opensshLine(publicKey: KeyObject): string {
  const { type, blob } = opensshBlob(publicKey);
  return `${type} ${blob.toString('base64')}`;
}

function opensshBlob(publicKey: KeyObject): { type: string; blob: Buffer } {
  // The key type was checked before, so the JWK export cannot fail on an exotic curve.
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) {
    return {
      type: 'ssh-rsa',
      blob: Buffer.concat([sshString('ssh-rsa'), sshMpint(fromJwk(jwk.e)), sshMpint(fromJwk(jwk.n))]),
    };
  }
  const curve = jwk.crv ? SSH_CURVE_OF_JWK[jwk.crv] : undefined;
  if (jwk.kty === 'EC' && curve && jwk.x && jwk.y) {
    const type = `ecdsa-sha2-${curve}`;
    const point = Buffer.concat([Buffer.from([0x04]), fromJwk(jwk.x), fromJwk(jwk.y)]);
    return { type, blob: Buffer.concat([sshString(type), sshString(curve), sshString(point)]) };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) {
    return { type: 'ssh-ed25519', blob: Buffer.concat([sshString('ssh-ed25519'), sshString(fromJwk(jwk.x))]) };
  }
  throw malformed('only RSA, ECDSA (nistp256, nistp384, nistp521) and Ed25519 keys are supported');
}

function fromJwk(value: string): Buffer {
  return Buffer.from(value, 'base64url');
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** RFC 4251 mpint of a non-negative big-endian magnitude: minimal, with a zero byte when the top bit is set. */
function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0;
  return sshString(needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}
