/**
 * The `from="pattern-list"` check of an authorized_keys line, as OpenSSH's match_host_and_ip (match.c, addrmatch.c)
 * does it with UseDNS no (the client's "host name" is then its address):
 * - entries are comma-separated, `!` negates one; a negated entry that matches refuses at once;
 * - an entry that parses as an address or CIDR block is compared as one; a malformed block (mask too long, host bits
 *   set: `127.0.0.1/8`) makes the whole list an error, which refuses;
 * - otherwise the entry is a wildcard pattern (`*`, `?`) matched against the address text.
 */
import net from 'node:net';
import { globMatches } from '../../common/glob.js';

export function fromAllows(patterns: string, clientIp: string): boolean {
  const byAddress = addrMatchList(clientIp, patterns);
  if (byAddress === 'error' || byAddress === 'refused') return false;
  const byName = patternListMatch(clientIp.toLowerCase(), patterns);
  if (byName === 'refused') return false;
  return byName === 'matched' || byAddress === 'matched';
}

type Outcome = 'matched' | 'unmatched' | 'refused' | 'error';

function addrMatchList(ip: string, list: string): Outcome {
  let outcome: Outcome = 'unmatched';
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const entry = negated ? raw.slice(1) : raw;
    if (entry === '') return 'error';
    const block = parseCidr(entry);
    if (block === 'error') return 'error';
    const matched = block === null ? wildcardMatch(ip, entry) : inBlock(ip, block);
    if (matched && negated) return 'refused';
    if (matched) outcome = 'matched';
  }
  return outcome;
}

/** match_pattern_list: entries lower-cased, a negated match refuses, else any positive match counts. */
function patternListMatch(name: string, list: string): Outcome {
  let outcome: Outcome = 'unmatched';
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const entry = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!wildcardMatch(name, entry)) continue;
    if (negated) return 'refused';
    outcome = 'matched';
  }
  return outcome;
}

interface Block {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

/** addr_pton_cidr: null when the entry is no address at all, 'error' when it is one with an unusable mask. */
function parseCidr(entry: string): Block | null | 'error' {
  const [address, mask, extra] = entry.split('/');
  if (extra !== undefined || address === undefined) return null;
  if (mask !== undefined && (!/^\d+$/.test(mask) || Number(mask) > 128)) return null;
  const version = net.isIP(address);
  if (version === 0) return null;
  const bits = version === 4 ? 32 : 128;
  const prefix = mask === undefined ? bits : Number(mask);
  if (prefix > bits) return 'error';
  const block: Block = { family: version === 4 ? 'ipv4' : 'ipv6', address, prefix };
  if (prefix < bits && !hostBitsZero(block)) return 'error';
  return block;
}

/** A block's address must be its network address (addr_host_is_all0s): `127.0.0.1/8` is an error, not 127/8. */
function hostBitsZero(block: Block): boolean {
  const groups = block.family === 'ipv4' ? ipv4Groups(block.address) : expandIpv6(block.address);
  let remaining = block.prefix;
  return groups.every((group) => {
    const keep = Math.max(0, Math.min(16, remaining));
    remaining -= 16;
    return (group & (0xffff >> keep)) === 0;
  });
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad converted). */
function expandIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ipv4Groups(g) : [parseInt(g, 16)]));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv4Groups(dotted: string): number[] {
  const o = dotted.split('.').map(Number) as [number, number, number, number];
  return [o[0] * 256 + o[1], o[2] * 256 + o[3]];
}

function inBlock(ip: string, block: Block): boolean {
  const family = net.isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  if (family !== block.family) return false;
  const list = new net.BlockList();
  list.addSubnet(block.address, block.prefix, block.family);
  return list.check(ip, family);
}

/** match_pattern: `*` any run of characters, `?` any one; everything else literal. */
export function wildcardMatch(text: string, pattern: string): boolean {
  // OpenSSH's match_pattern: `*` any run, `?` one character, matched without backtracking.
  return globMatches(pattern, text);
}
