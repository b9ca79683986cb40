/**
 * Reading the SSH wire format of a public key blob (RFC 4251 §5: uint32-length-prefixed strings, mpints), on plain
 * Uint8Arrays so it runs in the core and the browser. Malformed input throws a WireError whose reason is a phrase
 * for a message; it never quotes the bytes.
 */

export class WireError extends Error {}

export class WireReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  string(): Uint8Array {
    if (this.bytes.length - this.offset < 4) throw new WireError('the key data is truncated');
    const b = this.bytes;
    const o = this.offset;
    const length = ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
    const start = o + 4;
    if (length > b.length - start) throw new WireError('the key data is truncated');
    this.offset = start + length;
    return b.subarray(start, this.offset);
  }

  /** A string read as Latin-1 text (type and curve names). */
  text(): string {
    return String.fromCharCode(...this.string());
  }

  /** An RFC 4251 mpint, which must be non-negative and minimally encoded; returns the magnitude. */
  mpint(): Uint8Array {
    const bytes = this.string();
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) throw new WireError('the key data has a negative number');
    if (bytes.length > 0 && bytes[0] === 0 && (bytes.length === 1 || (bytes[1]! & 0x80) === 0)) {
      throw new WireError('the key data has a number that is not minimally encoded');
    }
    return bytes[0] === 0 ? bytes.subarray(1) : bytes;
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new WireError('the key data has trailing bytes');
  }
}

export function isOdd(bigEndian: Uint8Array): boolean {
  return (bigEndian[bigEndian.length - 1]! & 1) === 1;
}

/** Bit length of a big-endian magnitude without leading zero bytes. */
export function bitLength(bigEndian: Uint8Array): number {
  if (bigEndian.length === 0) return 0;
  return (bigEndian.length - 1) * 8 + (32 - Math.clz32(bigEndian[0]!));
}

const ED25519_P = 2n ** 255n - 19n;
const ED25519_D = mod(-121665n * modPow(121666n, ED25519_P - 2n, ED25519_P), ED25519_P);

/** RFC 8032 §5.1.3 decoding: y below p, and x² = (y²-1)/(dy²+1) a square; x = 0 only with the sign bit clear. */
export function isEd25519Point(encoded: Uint8Array): boolean {
  const littleEndian = Uint8Array.from(encoded).reverse();
  const sign = littleEndian[0]! >> 7;
  littleEndian[0] = littleEndian[0]! & 0x7f;
  const y = BigInt('0x' + Array.from(littleEndian, (b) => b.toString(16).padStart(2, '0')).join(''));
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
