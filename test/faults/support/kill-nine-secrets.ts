/**
 * Looks for credentials in every file under a directory (the SQLite database, its WAL and shared memory, the
 * simulated instances' disks, anything else) and in log text: in plaintext and in the encodings a careless
 * implementation would store them in (hex, base64 and base64url at each of the three byte alignments, and base64
 * of those). A sealed credential (encrypted with the key-encryption key) contains none of these.
 *
 * A private key is looked for by its secret part only (the ed25519 seed), never by its public half or the constant
 * header every OpenSSH key shares, which legitimately appear in the data directory (authorized_keys, host keys).
 * Needles are cut into 20-character pieces so a base64 form broken across two PEM lines is found too.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Secret {
  label: string;
  /** A password as typed, or a private key as text (OpenSSH format, ed25519). */
  text: string;
}

export interface Finding {
  where: string;
  secret: string;
  encoding: string;
}

interface Needle {
  secret: string;
  encoding: string;
  bytes: Buffer;
}

const PIECE = 20;

export function needlesOf(secret: Secret): Needle[] {
  const isKey = secret.text.includes('PRIVATE KEY-----');
  const raw = isKey ? ed25519Seed(secret.text) : Buffer.from(secret.text, 'utf8');
  const needles: Needle[] = [];
  const add = (encoding: string, bytes: Buffer) => needles.push({ secret: secret.label, encoding, bytes });
  add(isKey ? 'raw seed bytes' : 'plaintext', raw);
  const texts: Array<[string, string]> = [[`hex`, raw.toString('hex')]];
  if (!isKey) texts.push(['plaintext', secret.text]);
  for (const [name, variant] of base64Variants(raw)) texts.push([name, variant]);
  for (const [name, text] of texts) {
    for (const piece of pieces(text)) add(name, Buffer.from(piece, 'latin1'));
    // The textual form itself base64-encoded (a JSON document or a PEM file stored as base64).
    for (const [outer, variant] of base64Variants(Buffer.from(text, 'latin1')))
      for (const piece of pieces(variant)) add(`${outer} of ${name}`, Buffer.from(piece, 'latin1'));
  }
  return needles;
}

/** Every file under `dir` (recursively) and every log text, searched for every needle of every secret. */
export async function scanForSecrets(
  dir: string,
  secrets: Secret[],
  logs: Array<{ label: string; text: string }> = [],
): Promise<Finding[]> {
  const index = indexNeedles(secrets.flatMap(needlesOf));
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const search = (where: string, content: Buffer) => {
    for (const n of occurring(index, content)) {
      const key = `${where}\0${n.secret}\0${n.encoding}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({ where, secret: n.secret, encoding: n.encoding });
    }
  };
  for (const file of await filesUnder(dir)) {
    const content = await fs.readFile(file).catch(() => null); // a file removed while the directory was listed
    if (content) search(path.relative(dir, file) || file, content);
  }
  for (const log of logs) search(log.label, Buffer.from(log.text, 'utf8'));
  return findings;
}

/**
 * Hundreds of needles over every file at each of ~30 scans: one pass per file with a rolling hash of the first
 * WINDOW bytes (Rabin-Karp) instead of one Buffer.indexOf per needle, which made the scans a sizeable part of the
 * suite's time.
 */
const WINDOW = 12;
const BASE = 257;
/** BASE^(WINDOW-1) mod 2^32, to take the leaving byte out of the hash. */
const BASE_HIGH = Array.from({ length: WINDOW - 1 }).reduce<number>((h) => Math.imul(h, BASE), 1);

type NeedleIndex = Map<number, Needle[]>;

function indexNeedles(needles: Needle[]): NeedleIndex {
  const index: NeedleIndex = new Map();
  for (const n of needles) {
    if (n.bytes.length < WINDOW) throw new Error(`needle shorter than ${WINDOW} bytes (${n.encoding})`);
    const h = windowHash(n.bytes, 0);
    index.set(h, [...(index.get(h) ?? []), n]);
  }
  return index;
}

function windowHash(buf: Buffer, start: number): number {
  let h = 0;
  for (let k = 0; k < WINDOW; k++) h = (Math.imul(h, BASE) + buf[start + k]!) | 0;
  return h;
}

/** The needles found anywhere in `content`. */
function occurring(index: NeedleIndex, content: Buffer): Set<Needle> {
  const found = new Set<Needle>();
  if (content.length < WINDOW) return found;
  let h = windowHash(content, 0);
  for (let i = 0; ; i++) {
    const candidates = index.get(h);
    if (candidates)
      for (const n of candidates)
        if (i + n.bytes.length <= content.length && n.bytes.equals(content.subarray(i, i + n.bytes.length)))
          found.add(n);
    if (i + WINDOW >= content.length) return found;
    h = (Math.imul(h - Math.imul(content[i]!, BASE_HIGH), BASE) + content[i + WINDOW]!) | 0;
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * base64 and base64url of `bytes` as they appear inside a longer encoded text: at each of the three alignments,
 * without the first and last group, which depend on the bytes around.
 */
function base64Variants(bytes: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const inner = encoded.slice(shift === 0 ? 0 : 4, -4);
    if (inner.length < 12) continue;
    out.push([`base64 (alignment ${shift})`, inner]);
    const url = inner.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== inner) out.push([`base64url (alignment ${shift})`, url]);
  }
  return out;
}

/** A text as 20-character pieces (one piece when shorter): at most one line break can fall into any of them. */
function pieces(text: string): string[] {
  if (text.length <= PIECE) return [text];
  const out: string[] = [];
  for (let i = 0; i + PIECE <= text.length; i += PIECE) out.push(text.slice(i, i + PIECE));
  out.push(text.slice(-PIECE));
  return out;
}

/** The 32-byte seed of an unencrypted OpenSSH-format ed25519 private key (openssh-key-v1, PROTOCOL.key). */
export function ed25519Seed(pem: string): Buffer {
  const blob = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!blob.subarray(0, magic.length).equals(magic)) throw new Error('not an OpenSSH private key');
  const reader = (buf: Buffer, start: number) => {
    let off = start;
    return {
      string(): Buffer {
        const n = buf.readUInt32BE(off);
        const s = buf.subarray(off + 4, off + 4 + n);
        off += 4 + n;
        return s;
      },
      skip(n: number) {
        off += n;
      },
    };
  };
  const outer = reader(blob, magic.length);
  const cipher = outer.string().toString();
  if (cipher !== 'none') throw new Error(`an encrypted OpenSSH private key (${cipher})`);
  outer.string(); // kdf name
  outer.string(); // kdf options
  outer.skip(4); // number of keys
  outer.string(); // public key
  const inner = reader(outer.string(), 8); // after check-int ×2
  const type = inner.string().toString();
  if (type !== 'ssh-ed25519') throw new Error(`not an ed25519 key (${type})`);
  inner.string(); // public part
  return Buffer.from(inner.string().subarray(0, 32));
}
