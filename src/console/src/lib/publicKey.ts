/**
 * Checks a pasted or uploaded OpenSSH public key in the browser before it is sent: one line
 * `<type> <base64> [comment]`, an accepted type, canonical base64, a wire blob that names the same type, sizes
 * that fit (RSA ≥ 2048 bits, Ed25519 32 bytes, ECDSA on the named curve). The server checks everything again,
 * including that the key is a valid curve point, and has the last word.
 */
export const ACCEPTED_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const;
export type AcceptedType = (typeof ACCEPTED_TYPES)[number];
export const MIN_RSA_BITS = 2048;
const MAX_BYTES = 16 * 1024;

export interface CheckedPublicKey {
  ok: true;
  type: AcceptedType;
  bits: number;
  label: string;
  comment: string;
  /** The normalised line to send (trimmed). */
  line: string;
  blob: Uint8Array;
}

export interface PublicKeyProblem {
  ok: false;
  problem: string;
}

const CURVES: Record<string, { name: string; bits: number; bytes: number }> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', bits: 256, bytes: 32 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', bits: 384, bytes: 48 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', bits: 521, bytes: 66 },
};

export function checkPublicKey(text: string): CheckedPublicKey | PublicKeyProblem {
  const bad = (problem: string): PublicKeyProblem => ({ ok: false, problem });
  if (text.length > MAX_BYTES) return bad('The text is larger than 16 KiB; a public key is one short line.');
  const line = text.trim();
  if (line === '') return bad('Paste or upload a public key.');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) {
    return bad('This is a PRIVATE key. Never paste it here: import the public key (the .pub file) instead.');
  }
  if (/^-----BEGIN|^---- BEGIN SSH2 PUBLIC KEY/.test(line)) return bad('Give the key in OpenSSH format (one line starting with ssh-ed25519, ssh-rsa or ecdsa-sha2-…), as in a .pub file.');
  if (/[\r\n]/.test(line)) return bad('Give exactly one key line; the text has several lines.');
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return bad('The text contains control characters.');
  const m = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return bad("Expected one line: '<type> <base64> [comment]'.");
  const [, type = '', b64 = '', comment = ''] = m;
  if (!(ACCEPTED_TYPES as readonly string[]).includes(type)) {
    if (type.endsWith('-cert-v01@openssh.com')) return bad('Certificates are not accepted; give the plain public key.');
    if (type === 'ssh-dss') return bad('DSA keys are too weak; use ssh-ed25519 or ssh-rsa (2048 bits or more).');
    if (type.startsWith('sk-')) return bad('Security-key (sk-) keys are not supported.');
    return bad(`The key type '${type.slice(0, 40)}' is not supported; use ${ACCEPTED_TYPES.join(', ')}.`);
  }
  const blob = decodeBase64(b64);
  if (!blob) return bad('The key data is not valid base64.');
  try {
    const r = new Reader(blob);
    const inner = r.text();
    if (inner !== type) return bad(`The key type '${type}' does not match the type inside the key data.`);
    let bits: number;
    if (type === 'ssh-rsa') {
      const e = r.mpint();
      const n = r.mpint();
      bits = bitLength(n);
      if (e.length === 0 || (e[e.length - 1]! & 1) === 0) return bad('The RSA public exponent is not valid.');
      if (bits < MIN_RSA_BITS) return bad(`The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.`);
      if (bits > 16384) return bad(`The RSA key has ${bits} bits; at most 16384 are supported.`);
    } else if (type === 'ssh-ed25519') {
      const p = r.bytes();
      if (p.length !== 32) return bad(`An Ed25519 key is 32 bytes; this one has ${p.length}.`);
      bits = 256;
    } else {
      const curve = CURVES[type]!;
      if (r.text() !== curve.name) return bad(`The curve inside the key data does not match '${curve.name}'.`);
      const p = r.bytes();
      if (p.length !== 1 + 2 * curve.bytes || p[0] !== 4) return bad('The ECDSA point is not a valid uncompressed point.');
      bits = curve.bits;
    }
    if (!r.done()) return bad('The key data has trailing bytes.');
    const label = type === 'ssh-rsa' ? `RSA ${bits}` : type === 'ssh-ed25519' ? 'ED25519' : `ECDSA ${bits}`;
    return { ok: true, type: type as AcceptedType, bits, label, comment, line, blob };
  } catch {
    return bad('The key data is truncated.');
  }
}

/** 'SHA256:…' as ssh-keygen prints it, when the browser offers WebCrypto (secure contexts only). */
export async function sha256Fingerprint(blob: Uint8Array): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', blob as Uint8Array<ArrayBuffer>));
  let bin = '';
  for (const b of digest) bin += String.fromCharCode(b);
  return `SHA256:${btoa(bin).replace(/=+$/, '')}`;
}

function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]!));
}

class Reader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}
  bytes(): Uint8Array {
    if (this.buf.length - this.off < 4) throw new Error('truncated');
    const len = ((this.buf[this.off]! << 24) >>> 0) + (this.buf[this.off + 1]! << 16) + (this.buf[this.off + 2]! << 8) + this.buf[this.off + 3]!;
    const start = this.off + 4;
    if (len > this.buf.length - start) throw new Error('truncated');
    this.off = start + len;
    return this.buf.subarray(start, this.off);
  }
  text(): string {
    let s = '';
    for (const b of this.bytes()) s += String.fromCharCode(b);
    return s;
  }
  mpint(): Uint8Array {
    const b = this.bytes();
    return b[0] === 0 ? b.subarray(1) : b;
  }
  done(): boolean {
    return this.off === this.buf.length;
  }
}
