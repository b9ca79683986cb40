/**
 * Planning keyfleet's block in a login user's `~/.ssh/authorized_keys`. Pure: no I/O, so the same plan is applied
 * by a simulated instance at boot, over SSH to a real host, and shown in dry runs and drift reports.
 *
 * keyfleet owns exactly one marked block and nothing else:
 *
 *     # >>> keyfleet managed keys: do not edit inside this block >>>
 *     ssh-ed25519 AAAA... keyfleet:my-key
 *     # <<< keyfleet managed keys <<<
 *
 * A binding that expires (issue 19) is written with OpenSSH's own option, so sshd refuses the key after that time
 * even when keyfleet is down or cannot reach the machine:
 *
 *     expiry-time="20261207120000Z" ssh-ed25519 AAAA... keyfleet:my-key
 *
 * OpenSSH (auth-options.c, misc.c parse_absolute_time) reads YYYYMMDD[HHMM[SS]] with an optional `Z` (UTC, else
 * the machine's own time zone) and refuses the key when the time is BEFORE now, in whole seconds: the key still
 * logs in during the second named and is refused from the next one. keyfleet always writes all 14 digits and `Z`,
 * so the line means the same on a machine in any time zone; the expiry is that instant rounded up to a second.
 *
 * Policies, in one place:
 * - Lines outside the block are kept byte for byte and in order. The only exception: when the file is rewritten
 *   and its last line had no newline, a '\n' is added (appending a block needs it, and sshd does not care).
 * - A file that needs no change is returned verbatim (changed=false), even without a final newline.
 * - Lines are split on '\n'. A CRLF line keeps its '\r' when preserved; markers and keyfleet lines are recognised
 *   with or without it. keyfleet writes its own block with '\n' only, so a CRLF file gets a mixed file (sshd reads
 *   both) and the result is stable on the next plan.
 * - Everything between the markers of a well-formed block is keyfleet's: it holds the keys keyfleet wrote and
 *   nothing else, so a line keyfleet did not write there (a key added inside the block by hand or by an intruder,
 *   a comment, anything) is removed when the block is rewritten, never kept or moved out (issue 16). An operator
 *   reading "keyfleet manages these keys" must be able to trust that the block holds exactly those; a key meant to
 *   stay belongs outside the markers. Such keys are listed in `removed` (and `foreignRemoved`), so the lock-out
 *   guard of the live path sees a management key about to go.
 * - A keyfleet line is `<type> <base64> keyfleet:<name>`, optionally preceded by exactly
 *   `expiry-time="YYYYMMDDHHMMSSZ" ` (the form keyfleet writes; any other option makes it a line keyfleet did not
 *   write). A line whose expiry differs from the wanted one is rewritten like any other edited line, so drift
 *   detection sees it (an expiry option is never drift by itself; an expiry other than the record's is).
 * - Outside the block keyfleet deletes nothing. A corrupt block (markers not exactly one BEGIN then one END) has no
 *   inside to trust, so everything from the first marker to the end of the file is a cautious region: markers and
 *   lines exactly of the form `<type> <base64> keyfleet:<name>` go, all else stays, and the new block (if any)
 *   takes the place of the first marker.
 */
import { CoreError } from '../errors.js';

export const MANAGED_BEGIN = '# >>> keyfleet managed keys: do not edit inside this block >>>';
export const MANAGED_END = '# <<< keyfleet managed keys <<<';

/** The comment prefix that names the key pair on each managed line. */
const KEYFLEET_COMMENT_PREFIX = 'keyfleet:';

export interface ManagedKey {
  keyPairName: string;
  /** An OpenSSH public key, `type base64` (a trailing comment is tolerated and dropped); no options. */
  publicKey: string;
  /** When the binding ends: written as `expiry-time`, so sshd itself refuses the key after it (null/absent: never). */
  expiresAt?: Date | null;
}

export interface AuthorizedKeysEntry {
  /** 1-based line number in the parsed content. */
  lineNo: number;
  /** The line without its terminator ('\n', and the '\r' of a CRLF line). */
  raw: string;
  options: string | null;
  type: string;
  base64: string;
  comment: string;
  /** True when keyfleet owns this line (a keyfleet line in the block or in a corrupt block's region). */
  managed: boolean;
  /** True when the line lies between the markers of a well-formed block (keyfleet's or not). */
  inBlock: boolean;
}

export type ManagedBlockState = 'absent' | 'present' | 'corrupt';

export interface AuthorizedKeysPlan {
  content: string;
  changed: boolean;
  /** Base64 bodies that enter keyfleet's block. */
  added: string[];
  /** Base64 bodies that leave keyfleet's block: keyfleet's own lines and lines it did not write inside the block. */
  removed: string[];
  /** Of `removed`, the bodies still authorised by a line keyfleet does not own (a hand-added copy): they keep working. */
  retainedOutside: string[];
  /**
   * Of `removed`, the bodies of key lines inside the well-formed block that are not in the form keyfleet writes
   * (a key pasted or planted there). A forged `keyfleet:` line is one of keyfleet's lines here, like any stale one;
   * drift.ts tells it apart by its key.
   */
  foreignRemoved: string[];
}

// Key types start with one of these families (plain, security-key and certificate variants); no option does.
const KEY_TYPE = /^(?:ssh-|ecdsa-|sk-)[A-Za-z0-9@._-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEYFLEET_LINE = /^(?:expiry-time="(\d{14})Z" )?(\S+) (\S+) keyfleet:(\S+)$/;

export function parseAuthorizedKeys(content: string): {
  entries: AuthorizedKeysEntry[];
  managedBlock: ManagedBlockState;
} {
  const lines = splitLines(content);
  const layout = analyseLayout(lines);
  const entries: AuthorizedKeysEntry[] = [];
  lines.forEach((line, index) => {
    const key = parseKeyLine(stripCr(line));
    if (key)
      entries.push({
        lineNo: index + 1,
        raw: stripCr(line),
        ...key,
        managed: layout.managed.has(index),
        inBlock: layout.inside(index),
      });
  });
  return { entries, managedBlock: layout.state };
}

export function managedKeysIn(content: string): string[] {
  const lines = splitLines(content);
  return managedBodies(lines, analyseLayout(lines));
}

export function planAuthorizedKeys(current: string | null, desired: ManagedKey[]): AuthorizedKeysPlan {
  const original = current ?? '';
  const lines = splitLines(original);
  const layout = analyseLayout(lines);
  const wanted = normaliseDesired(desired);
  const block = wanted.length > 0 ? renderBlock(wanted) : [];

  const next = [
    ...lines.slice(0, layout.insertAt),
    ...block,
    ...lines.filter((_, i) => i >= layout.insertAt && layout.kept(i)),
  ];

  const before = managedBodies(lines, layout);
  const after = wanted.map((k) => k.base64);
  const foreignInside = unique(keyBodiesWhere(lines, (i) => layout.inside(i) && !layout.managed.has(i)));
  const removed = unique([...before, ...foreignInside]).filter((b) => !after.includes(b));
  const kept = new Set(keyBodiesWhere(lines, (i) => !layout.managed.has(i) && !layout.inside(i)));
  const result = {
    added: after.filter((b) => !before.includes(b)),
    removed,
    retainedOutside: removed.filter((b) => kept.has(b)),
    foreignRemoved: foreignInside.filter((b) => !after.includes(b)),
  };

  if (sameLines(lines, next)) return { content: original, changed: false, ...result };
  return { content: next.length > 0 ? next.join('\n') + '\n' : '', changed: true, ...result };
}

interface NormalisedKey {
  keyPairName: string;
  type: string;
  base64: string;
  expiresAt: Date | null;
}

/** Validates and deduplicates the desired keys (first occurrence wins), keeping their order. */
function normaliseDesired(desired: ManagedKey[]): NormalisedKey[] {
  const seen = new Set<string>();
  const out: NormalisedKey[] = [];
  for (const key of desired) {
    if (!/^\S+$/.test(key.keyPairName)) {
      throw new CoreError(
        'KeyPair.NameMalformed',
        `The key pair name '${key.keyPairName}' cannot be written to authorized_keys.`,
        { keyPairName: key.keyPairName },
      );
    }
    const [type, base64] = key.publicKey.trim().split(/[ \t]+/);
    if (!type || !base64 || !KEY_TYPE.test(type) || !BASE64.test(base64) || /[\r\n]/.test(key.publicKey.trim())) {
      throw new CoreError(
        'PublicKey.Malformed',
        `The public key of key pair '${key.keyPairName}' is not an OpenSSH 'type base64' line.`,
        { keyPairName: key.keyPairName },
      );
    }
    if (seen.has(base64)) continue;
    seen.add(base64);
    out.push({ keyPairName: key.keyPairName, type, base64, expiresAt: key.expiresAt ?? null });
  }
  return out;
}

function renderBlock(keys: NormalisedKey[]): string[] {
  return [
    MANAGED_BEGIN,
    ...keys.map(
      (k) =>
        `${k.expiresAt ? `expiry-time="${expiryTimeOption(k.expiresAt)}" ` : ''}${k.type} ${k.base64} ${KEYFLEET_COMMENT_PREFIX}${k.keyPairName}`,
    ),
    MANAGED_END,
  ];
}

interface Layout {
  state: ManagedBlockState;
  /** Indexes of the lines keyfleet owns as keys. */
  managed: Set<number>;
  /** Where the new block goes: the first marker, or the end of the file. */
  insertAt: number;
  /** Whether a line lies between the markers of a well-formed block. */
  inside: (index: number) => boolean;
  /** Whether a line at or after insertAt survives planning. */
  kept: (index: number) => boolean;
}

function analyseLayout(lines: string[]): Layout {
  const begins = indexesWhere(lines, (l) => isMarker(l, MANAGED_BEGIN));
  const ends = indexesWhere(lines, (l) => isMarker(l, MANAGED_END));
  if (begins.length === 0 && ends.length === 0) {
    return { state: 'absent', managed: new Set(), insertAt: lines.length, inside: () => false, kept: () => true };
  }
  const [begin] = begins;
  const [end] = ends;
  if (begins.length === 1 && ends.length === 1 && begin! < end!) {
    return wellFormedLayout(lines, begin!, end!);
  }
  return corruptLayout(lines, Math.min(...begins, ...ends));
}

/** The block is keyfleet's, all of it: markers and every line between them go, and the new block takes their place. */
function wellFormedLayout(lines: string[], begin: number, end: number): Layout {
  const inside = (i: number) => i > begin && i < end;
  const managed = new Set(indexesWhere(lines, (l, i) => inside(i) && keyfleetLineBody(l) !== null));
  const kept = (i: number) => i < begin || i > end;
  return { state: 'present', managed, insertAt: begin, inside, kept };
}

/** From the first marker on, only markers and exact keyfleet lines go; everything else, blank lines too, stays. */
function corruptLayout(lines: string[], firstMarker: number): Layout {
  const isMarkerLine = (l: string) => isMarker(l, MANAGED_BEGIN) || isMarker(l, MANAGED_END);
  const managed = new Set(indexesWhere(lines, (l, i) => i >= firstMarker && keyfleetLineBody(l) !== null));
  const kept = (i: number) => !(isMarkerLine(lines[i]!) || managed.has(i));
  return { state: 'corrupt', managed, insertAt: firstMarker, inside: () => false, kept };
}

/** Base64 bodies keyfleet owns, in file order, each once. */
function managedBodies(lines: string[], layout: Layout): string[] {
  return unique([...layout.managed].sort((a, b) => a - b).map((i) => keyfleetLineBody(lines[i]!)!));
}

/** Base64 bodies of the key lines (as sshd parses them) at the indexes chosen, in file order. */
function keyBodiesWhere(lines: string[], at: (index: number) => boolean): string[] {
  return lines.flatMap((line, i) => {
    if (!at(i)) return [];
    const key = parseKeyLine(stripCr(line));
    return key ? [key.base64] : [];
  });
}

/** The base64 body when the line is exactly a line keyfleet writes, else null. */
function keyfleetLineBody(line: string): string | null {
  const match = KEYFLEET_LINE.exec(stripCr(line));
  if (!match) return null;
  const [, , type, base64] = match;
  return KEY_TYPE.test(type!) && BASE64.test(base64!) ? base64! : null;
}

/**
 * The value keyfleet writes in `expiry-time`: UTC, to the second, `YYYYMMDDHHMMSSZ`. sshd refuses the key once the
 * time is before now in whole seconds, so a fractional instant is rounded UP: the key is never refused before the
 * expiry recorded, and keyfleet's own unbind (at the recorded instant) follows within the second.
 */
export function expiryTimeOption(at: Date): string {
  const d = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  if (d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999)
    throw new CoreError('Input.Invalid', 'An expiry must lie between 1970 and 9999.', { parameter: 'expiresAt' });
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

/** The expiry of a keyfleet line as keyfleet wrote it (null: none, or not a keyfleet line). */
export function keyfleetLineExpiry(line: string): Date | null {
  const digits = KEYFLEET_LINE.exec(stripCr(line))?.[1];
  if (!digits) return null;
  const at = (from: number, to: number) => digits.slice(from, to);
  const date = new Date(`${at(0, 4)}-${at(4, 6)}-${at(6, 8)}T${at(8, 10)}:${at(10, 12)}:${at(12, 14)}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

function isMarker(line: string, marker: string): boolean {
  return stripCr(line).trim() === marker;
}

/**
 * Parses one authorized_keys line as sshd does: either it starts with a key type, or with options that end at the
 * first unquoted space or tab (a quoted value may hold spaces and commas; `\"` does not close a quote).
 */
function parseKeyLine(line: string): Omit<AuthorizedKeysEntry, 'lineNo' | 'raw' | 'managed' | 'inBlock'> | null {
  const text = line.replace(/^[ \t]+/, '');
  if (text === '' || text.startsWith('#')) return null;
  const firstToken = text.split(/[ \t]/, 1)[0]!;
  if (KEY_TYPE.test(firstToken)) return parseKeyFields(null, text);
  const optionsEnd = endOfOptions(text);
  if (optionsEnd === null) return null;
  return parseKeyFields(text.slice(0, optionsEnd), text.slice(optionsEnd).replace(/^[ \t]+/, ''));
}

function parseKeyFields(
  options: string | null,
  rest: string,
): Omit<AuthorizedKeysEntry, 'lineNo' | 'raw' | 'managed' | 'inBlock'> | null {
  const match = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(rest);
  if (!match) return null;
  const [, type, base64, comment] = match;
  if (!KEY_TYPE.test(type!) || !BASE64.test(base64!)) return null;
  return { options, type: type!, base64: base64!, comment: (comment ?? '').trimEnd() };
}

/** Index just past the options, or null when a quote is never closed or nothing follows them. */
function endOfOptions(text: string): number | null {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quoted && (c === ' ' || c === '\t')) return i;
    if (c === '\\' && text[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
  }
  return null;
}

/** Lines without their '\n'; a final newline does not start another line. */
function splitLines(content: string): string[] {
  if (content === '') return [];
  const lines = content.split('\n');
  if (content.endsWith('\n')) lines.pop();
  return lines;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function indexesWhere(lines: string[], test: (line: string, index: number) => boolean): number[] {
  return lines.flatMap((line, i) => (test(line, i) ? [i] : []));
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
