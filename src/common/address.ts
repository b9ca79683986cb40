/**
 * Host addresses in one canonical form, so that two spellings of one machine are one address (issue 18): the
 * uniqueness of a registration and the operator's network allowlist are decided on this form, never on the text a
 * caller typed. Pure: no imports, no name resolution.
 *
 * What is accepted, and what it becomes:
 * - IPv4 in every form the C library's inet_aton (and so getaddrinfo, and so Node's net.connect) accepts: 1 to 4
 *   parts separated by '.', each decimal, octal (leading 0) or hexadecimal (0x); the last part fills the remaining
 *   bytes ('127.1' is 127.0.0.1, '127.16.6' is 127.16.0.6, '2130706433' and '0x7f.1' are 127.0.0.1). It becomes the
 *   dotted quad of four decimal bytes.
 * - IPv6 (RFC 4291 text, at most one '::', an optional dotted quad at the end; no zone index, no brackets). It
 *   becomes RFC 5952 text (lower case, no leading zeros, the longest run of zero groups compressed). An IPv4-mapped
 *   address (::ffff:a.b.c.d, also written in hex) becomes the IPv4 address it maps to: the socket reaches that one.
 * - Host names: labels of letters, digits, '-' and '_' (1-63 characters, not starting or ending with '-'), at most
 *   253 characters, lower-cased. A name is compared as text: keyfleet does not resolve it, so two names of one
 *   machine are two addresses. A name whose last label starts with a digit is refused unless it is one of the IPv4
 *   forms above (no top-level domain is numeric, and the C library would read such a name as a number).
 */

export type AddressKind = 'ipv4' | 'ipv6' | 'hostname';

export interface HostAddress {
  kind: AddressKind;
  /** The canonical text: what is stored, compared and connected to. */
  text: string;
  /** The address's bytes (4 or 16), for IP addresses only. */
  bytes: readonly number[] | null;
}

/** A network of the operator's allowlist: a base address and how many leading bits of it must match. */
export interface Network {
  kind: 'ipv4' | 'ipv6';
  bytes: readonly number[];
  prefix: number;
  /** The canonical text, 'base/prefix', with the base's host bits cleared. */
  text: string;
}

const MAX_NAME = 253;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The canonical form of a host address, or null when it is none of the forms above. */
export function normalizeHostAddress(input: string): HostAddress | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_NAME) return null;
  if (input.includes(':')) {
    const bytes = parseIpv6(input);
    if (!bytes) return null;
    return isIpv4Mapped(bytes) ? ipv4Address(bytes.slice(12)) : { kind: 'ipv6', text: ipv6Text(bytes), bytes };
  }
  const v4 = parseIpv4(input);
  if (v4) return ipv4Address(v4);
  const name = input.toLowerCase();
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  if (/^[0-9]/.test(labels[labels.length - 1]!)) return null; // numeric-looking, yet no IPv4 form: refused
  return { kind: 'hostname', text: name, bytes: null };
}

/** An allowlist entry, 'address/prefix' (a bare address is a network of that one address), or null. */
export function parseNetwork(input: string): Network | null {
  if (typeof input !== 'string') return null;
  const slash = input.indexOf('/');
  const base = slash < 0 ? input : input.slice(0, slash);
  const addr = normalizeHostAddress(base);
  if (!addr?.bytes) return null;
  // A mapped IPv6 base would be read as IPv4 with an IPv6 prefix length: ask for the IPv4 network instead.
  if (addr.kind === 'ipv4' && base.includes(':')) return null;
  const max = addr.bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = input.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) return null;
    prefix = Number(p);
  }
  const bytes = addr.bytes.map((b, i) => b & maskByte(prefix, i));
  const kind = addr.kind as 'ipv4' | 'ipv6';
  const baseText = kind === 'ipv4' ? bytes.join('.') : ipv6Text(bytes);
  return { kind, bytes, prefix, text: `${baseText}/${prefix}` };
}

/** Whether an IP address lies in a network (a host name lies in none). */
export function inNetwork(address: HostAddress, network: Network): boolean {
  if (!address.bytes || address.kind !== network.kind) return false;
  return network.bytes.every((b, i) => (address.bytes![i]! & maskByte(network.prefix, i)) === b);
}

function maskByte(prefix: number, index: number): number {
  const bits = Math.max(0, Math.min(8, prefix - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}

function ipv4Address(bytes: readonly number[]): HostAddress {
  return { kind: 'ipv4', text: bytes.join('.'), bytes: [...bytes] };
}

/** inet_aton's reading: each part decimal, 0-octal or 0x-hex; the last part fills the bytes the others leave. */
function parseIpv4(input: string): number[] | null {
  const parts = input.split('.');
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(part)) v = Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) v = Number.parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) v = Number(part);
    else return null;
    if (!Number.isSafeInteger(v)) return null;
    values.push(v);
  }
  const leading = values.slice(0, -1);
  if (leading.some((v) => v > 0xff)) return null;
  const lastBytes = 4 - leading.length;
  const last = values[values.length - 1]!;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const tail: number[] = [];
  for (let i = lastBytes - 1; i >= 0; i--) tail.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return [...leading, ...tail];
}

/** RFC 4291 section 2.2 text: 8 groups of 1-4 hex digits, at most one '::', an optional dotted quad last. */
function parseIpv6(input: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(input)) return null;
  const halves = input.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        // Only the strict dotted quad here, as inet_pton reads it.
        if (
          !/^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/.test(
            piece,
          )
        )
          return null;
        const q = piece.split('.').map(Number);
        out.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
      else return null;
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted quad may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else groups = head;
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function isIpv4Mapped(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** RFC 5952: lower-case hex without leading zeros; the longest run (2 groups or more, first on a tie) is '::'. */
function ipv6Text(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
