/**
 * The public key of a private key, derived in the browser, so the console can tell before sending a private key for
 * a live change that it is not the key bound to the machine (the server would only answer Live.CredentialRejected
 * after trying to log in). Reads the formats the server accepts (src/crypto/ssh-key-material.ts): OpenSSH
 * ('openssh-key-v1'), PKCS#1 RSA, SEC1 EC and PKCS#8. The public parts are read from the key itself (an OpenSSH
 * file's private section, PKCS#1's modulus, SEC1's point); only a PKCS#8 key without its public point (Ed25519,
 * some EC keys) is imported into WebCrypto to derive it. A passphrase-protected key cannot be read here: the answer
 * is then "unknown" and the server has the last word, as it always does.
 */
import { decodeCanonicalBase64 } from '../../../common/base64.js';
import { formatSha256Fingerprint } from '../../../common/fingerprint.js';

export type DerivedPublicKey =
  /** The SHA256 fingerprint ('SHA256:…') of the public key the private key belongs to. */
  | { kind: 'derived'; fingerprintSha256: string }
  /** The text is a private key whose parts contradict each other (an OpenSSH file whose public part was swapped). */
  | { kind: 'inconsistent' }
  /** Not readable in the browser (passphrase-protected, an unknown format): the server decides. */
  | { kind: 'unknown' };

const UNKNOWN: DerivedPublicKey = { kind: 'unknown' };

export async function derivePublicKey(text: string): Promise<DerivedPublicKey> {
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text.trim());
  if (!pem) return UNKNOWN;
  const label = pem[1]!;
  const body = pem[2]!;
  if (/^Proc-Type:\s*4,\s*ENCRYPTED/m.test(body)) return UNKNOWN;
  const bytes = decodeCanonicalBase64(body.replace(/\s+/g, ''));
  if (!bytes) return UNKNOWN;
  try {
    const blob =
      label === 'OPENSSH PRIVATE KEY'
        ? opensshBlob(bytes)
        : label === 'RSA PRIVATE KEY'
          ? pkcs1Blob(bytes)
          : label === 'EC PRIVATE KEY'
            ? sec1Blob(bytes, null)
            : label === 'PRIVATE KEY'
              ? await pkcs8Blob(bytes)
              : null;
    if (blob === 'inconsistent') return { kind: 'inconsistent' };
    if (!blob) return UNKNOWN;
    if (!globalThis.crypto?.subtle) return UNKNOWN; // WebCrypto: secure contexts only
    const digest = await crypto.subtle.digest('SHA-256', blob as Uint8Array<ArrayBuffer>);
    return { kind: 'derived', fingerprintSha256: formatSha256Fingerprint(new Uint8Array(digest)) };
  } catch {
    return UNKNOWN;
  }
}

// ---- SSH wire format ---------------------------------------------------------------------------------------------

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

const text = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

/** An unsigned big-endian integer as an RFC 4251 mpint's contents (minimal, a 0 byte before a high bit). */
function mpint(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return m.length > 0 && (m[0]! & 0x80) !== 0 ? new Uint8Array([0, ...m]) : m;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Reads the SSH wire format: bare uint32s and length-prefixed strings. */
class Reader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  uint32(): number {
    if (this.b.length - this.o < 4) throw new Error('truncated');
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.o, 4).getUint32(0);
    this.o += 4;
    return v;
  }
  string(): Uint8Array {
    const n = this.uint32();
    if (n > this.b.length - this.o) throw new Error('truncated');
    this.o += n;
    return this.b.subarray(this.o - n, this.o);
  }
  text(): string {
    return String.fromCharCode(...this.string());
  }
}

/**
 * openssh-key-v1: the public blob is in clear in the header; an unencrypted file also repeats the public parts in its
 * private section, and both must agree (the server refuses a file whose parts do not belong together).
 */
function opensshBlob(bytes: Uint8Array): Uint8Array | 'inconsistent' | null {
  const magic = text('openssh-key-v1\0');
  if (!equal(bytes.subarray(0, magic.length), magic)) return null;
  const r = new Reader(bytes.subarray(magic.length));
  const cipher = r.text();
  r.string(); // kdf name
  r.string(); // kdf options
  if (r.uint32() !== 1) return null; // a key pair's file holds one key
  const header = r.string();
  if (cipher !== 'none') return header; // the private section is encrypted: the header is all there is
  const priv = new Reader(r.string());
  const check1 = priv.uint32();
  const check2 = priv.uint32(); // equal in an unencrypted file (they catch a wrong passphrase otherwise)
  if (check1 !== check2) return 'inconsistent';
  const type = priv.text();
  let fromPrivate: Uint8Array;
  if (type === 'ssh-ed25519') {
    fromPrivate = concat([sshString(text(type)), sshString(priv.string())]);
  } else if (type === 'ssh-rsa') {
    const n = priv.string();
    const e = priv.string();
    fromPrivate = concat([sshString(text(type)), sshString(e), sshString(n)]);
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curve = priv.string();
    const q = priv.string();
    fromPrivate = concat([sshString(text(type)), sshString(curve), sshString(q)]);
  } else {
    return null;
  }
  return equal(fromPrivate, header) ? header : 'inconsistent';
}

// ---- DER (PKCS#1, SEC1, PKCS#8) ----------------------------------------------------------------------------------

interface Der {
  tag: number;
  value: Uint8Array;
}

/** The DER elements one after another in `bytes`. */
function derList(bytes: Uint8Array): Der[] {
  const out: Der[] = [];
  let o = 0;
  while (o < bytes.length) {
    const tag = bytes[o++]!;
    let len = bytes[o++]!;
    if (len & 0x80) {
      const k = len & 0x7f;
      if (k === 0 || k > 4) throw new Error('bad DER length');
      len = 0;
      for (let i = 0; i < k; i++) len = len * 256 + bytes[o++]!;
    }
    if (o + len > bytes.length) throw new Error('truncated DER');
    out.push({ tag, value: bytes.subarray(o, o + len) });
    o += len;
  }
  return out;
}

function derSequence(bytes: Uint8Array): Der[] {
  const [seq] = derList(bytes);
  if (!seq || seq.tag !== 0x30) throw new Error('not a DER sequence');
  return derList(seq.value);
}

function oid(bytes: Uint8Array): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const CURVES: Record<string, { name: string; webCrypto: string }> = {
  '1.2.840.10045.3.1.7': { name: 'nistp256', webCrypto: 'P-256' },
  '1.3.132.0.34': { name: 'nistp384', webCrypto: 'P-384' },
  '1.3.132.0.35': { name: 'nistp521', webCrypto: 'P-521' },
};

/** RSAPrivateKey: version, n, e, …; the SSH blob is type, e, n. */
function pkcs1Blob(der: Uint8Array): Uint8Array {
  const [, n, e] = derSequence(der);
  if (!n || !e) throw new Error('short RSA key');
  return concat([sshString(text('ssh-rsa')), sshString(mpint(e.value)), sshString(mpint(n.value))]);
}

/** ECPrivateKey: version, d, [0] curve, [1] public point; the curve may come from PKCS#8's algorithm instead. */
function sec1Blob(der: Uint8Array, curveOid: string | null): Uint8Array | null {
  const items = derSequence(der);
  const params = items.find((i) => i.tag === 0xa0);
  const pub = items.find((i) => i.tag === 0xa1);
  const curve = CURVES[params ? oid(derList(params.value)[0]!.value) : (curveOid ?? '')];
  if (!curve || !pub) return null;
  const bits = derList(pub.value)[0]!.value;
  const point = bits.subarray(1); // the BIT STRING's unused-bits byte
  const type = `ecdsa-sha2-${curve.name}`;
  return concat([sshString(text(type)), sshString(text(curve.name)), sshString(point)]);
}

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_EC = '1.2.840.10045.2.1';
const OID_ED25519 = '1.3.101.112';

/** PrivateKeyInfo: version, algorithm, the inner key; Ed25519 (and EC without its point) go through WebCrypto. */
async function pkcs8Blob(der: Uint8Array): Promise<Uint8Array | null> {
  const [, alg, inner] = derSequence(der);
  if (!alg || !inner) return null;
  const [algOid, params] = derList(alg.value);
  const which = oid(algOid!.value);
  if (which === OID_RSA) return pkcs1Blob(inner.value);
  if (which === OID_EC) {
    const curveOid = params ? oid(params.value) : null;
    const direct = sec1Blob(inner.value, curveOid);
    if (direct) return direct;
    const curve = CURVES[curveOid ?? ''];
    if (!curve) return null;
    const jwk = await jwkOf(der, { name: 'ECDSA', namedCurve: curve.webCrypto });
    if (!jwk?.x || !jwk.y) return null;
    const point = concat([new Uint8Array([4]), fromB64url(jwk.x), fromB64url(jwk.y)]);
    const type = `ecdsa-sha2-${curve.name}`;
    return concat([sshString(text(type)), sshString(text(curve.name)), sshString(point)]);
  }
  if (which === OID_ED25519) {
    const jwk = await jwkOf(der, { name: 'Ed25519' });
    if (!jwk?.x) return null;
    return concat([sshString(text('ssh-ed25519')), sshString(fromB64url(jwk.x))]);
  }
  return null;
}

async function jwkOf(der: Uint8Array, algorithm: AlgorithmIdentifier | EcKeyImportParams): Promise<JsonWebKey | null> {
  if (!globalThis.crypto?.subtle) return null;
  const key = await crypto.subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, algorithm, true, ['sign']);
  return crypto.subtle.exportKey('jwk', key);
}

function fromB64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new Uint8Array([...b].map((c) => c.charCodeAt(0)));
}

/**
 * Why this private key cannot log in to a machine whose bound key pair is `expected`, or null when it matches (or
 * cannot be read here, and the server decides).
 */
export async function privateKeyMismatch(
  privateKey: string,
  expected: { name: string; fingerprintSha256: string },
): Promise<string | null> {
  const derived = await derivePublicKey(privateKey);
  if (derived.kind === 'inconsistent')
    return 'This private key file is damaged: its private and public parts do not belong together.';
  if (derived.kind === 'unknown' || derived.fingerprintSha256 === expected.fingerprintSha256) return null;
  return `This private key does not match key pair ${expected.name}: the key given is ${derived.fingerprintSha256}, the key pair bound is ${expected.fingerprintSha256}. Give the private key of ${expected.name}.`;
}
