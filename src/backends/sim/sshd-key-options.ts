/**
 * The options field of an authorized_keys line, parsed and applied as OpenSSH's auth-options.c does:
 * - names are case-insensitive; a value is double-quoted and only `\"` is an escape inside it;
 * - an unknown option, a second `command=`/`from=`/`principals=`, or a malformed `expiry-time` makes the whole line
 *   invalid (sshd skips it);
 * - `restrict` turns every permission off, later flags (`pty`, …) turn single ones back on;
 * - `expiry-time` and `from` are checked when the key is looked up, so a listing that refuses this client is
 *   skipped and a later listing of the same key may still match.
 *
 * The simulated sshd has no forwarding, agent, X11, tunnels or ~/.ssh/rc, so the options that only restrict those
 * need no code; it serves no FIDO (sk-*) keys, for which alone `verify-required` and `touch-required` mean anything.
 * What it does not simulate it refuses (fail closed): `environment=` when PermitUserEnvironment is not `no`.
 */
import { fromAllows } from './sshd-from-match.js';

export interface KeyOptions {
  /** `command="…"`, unquoted. */
  forcedCommand: string | null;
  /** `cert-authority` lines trust a CA, not the key itself: they never match a plain key. */
  certAuthority: boolean;
  /** `principals="…"`: only meaningful for a CA, and sshd refuses a plain key listed with it. */
  principals: boolean;
  /** `expiry-time`, as epoch milliseconds: the key is refused after it. */
  expiresAtMs: number | null;
  /** `from="pattern-list"`, as written. */
  from: string | null;
  ptyAllowed: boolean;
  environment: string[];
}

export interface KeyUse {
  clientIp: string;
  nowMs: number;
  permitUserEnvironment: string;
}

const NO_OPTIONS: KeyOptions = {
  forcedCommand: null,
  certAuthority: false,
  principals: false,
  expiresAtMs: null,
  from: null,
  ptyAllowed: true,
  environment: [],
};

/** sshauthopt_parse's flags, in its order; each matched as a case-insensitive PREFIX of what follows, as it does. */
const FLAGS: { name: string; negatable: boolean }[] = [
  { name: 'restrict', negatable: false },
  { name: 'cert-authority', negatable: false },
  ...[
    'port-forwarding',
    'agent-forwarding',
    'x11-forwarding',
    'touch-required',
    'verify-required',
    'pty',
    'user-rc',
  ].map((name) => ({ name, negatable: true })),
];
const VALUED = ['command', 'principals', 'from', 'expiry-time', 'environment', 'permitopen', 'permitlisten', 'tunnel'];

export function noKeyOptions(): KeyOptions {
  return { ...NO_OPTIONS, environment: [] };
}

/**
 * sshauthopt_parse, step for step: at each position try the flags, then the valued options; whatever (if anything)
 * matched, the next character must end the field or be a comma. So `,no-pty` and `no-pty,` are valid (an empty
 * option matches nothing and is skipped) while `no-ptyx` or `frobnicate` are not.
 */
export function parseKeyOptions(text: string): KeyOptions | null {
  const options = noKeyOptions();
  const lower = text.toLowerCase();
  let principals = 0;
  let pos = 0;
  while (pos < text.length) {
    const flag = matchFlag(lower, pos);
    const valued = flag ? undefined : VALUED.find((name) => lower.startsWith(`${name}=`, pos));
    if (flag) {
      applyFlag(options, flag.name, flag.on);
      pos = flag.end;
    } else if (valued) {
      const dequoted = dequote(text, pos + valued.length + 1);
      if (!dequoted) return null;
      if (valued === 'principals' && ++principals > 1) return null;
      if (!applyValue(options, valued, dequoted.value)) return null;
      pos = dequoted.end;
    }
    if (pos === text.length) break;
    if (text[pos] !== ',') return null;
    pos++;
  }
  return options;
}

function matchFlag(lower: string, pos: number): { name: string; on: boolean; end: number } | null {
  for (const { name, negatable } of FLAGS) {
    const negated = negatable && lower.startsWith('no-', pos);
    const at = negated ? pos + 3 : pos;
    if (lower.startsWith(name, at)) return { name, on: !negated, end: at + name.length };
  }
  return null;
}

/** Flags the simulated sshd has nothing to show for (no forwarding, ~/.ssh/rc or FIDO keys) change nothing here. */
function applyFlag(o: KeyOptions, name: string, on: boolean): void {
  if (name === 'restrict') o.ptyAllowed = false;
  else if (name === 'cert-authority') o.certAuthority = true;
  else if (name === 'pty') o.ptyAllowed = on;
}

function applyValue(o: KeyOptions, name: string, value: string): boolean {
  switch (name) {
    case 'command':
      if (o.forcedCommand !== null) return false;
      o.forcedCommand = value;
      return true;
    case 'from':
      if (o.from !== null) return false;
      o.from = value;
      return true;
    case 'expiry-time': {
      const at = parseExpiryTime(value);
      if (at === null) return false;
      // Several expiry-times: the earliest applies.
      o.expiresAtMs = o.expiresAtMs === null ? at : Math.min(o.expiresAtMs, at);
      return true;
    }
    case 'environment':
      if (!/^[A-Za-z0-9_]+=/.test(value)) return false;
      o.environment.push(value);
      return true;
    case 'principals':
      // Principals belong to certificate authorities: sshd refuses a plain key listed with them.
      o.principals = true;
      return true;
    default:
      // permitopen, permitlisten, tunnel: they restrict forwarding and tunnels, which the simulated sshd has none of.
      return true;
  }
}

/** OpenSSH's opt_dequote: the value runs from an opening `"` to the next unescaped `"`; `\"` is the only escape. */
function dequote(text: string, start: number): { value: string; end: number } | null {
  if (text[start] !== '"') return null;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\' && text[i + 1] === '"') i++;
    value += text[i];
  }
  return null;
}

/**
 * OpenSSH's parse_absolute_time (misc.c, as in Debian 12's 9.2p1), step for step: a final `Z` or `UTC` (any case)
 * means UTC, else the machine's time zone (a simulated instance has no /etc/localtime, so UTC, as glibc's is
 * without one); the rest must be 8, 12 or 14 characters, cut into fixed slices joined with `-`, `T` and `:` and read
 * by glibc's strptime (below); timegm/mktime then roll out-of-range days over (Feb 30 is Mar 2). A time before
 * 1970 is invalid, and so is exactly the epoch (auth-options.c refuses a valid_before of 0).
 */
export function parseExpiryTime(raw: string): number | null {
  let l = raw.length;
  if (l > 1 && raw.slice(l - 1).toLowerCase() === 'z') l -= 1;
  else if (l > 3 && raw.slice(l - 3).toLowerCase() === 'utc') l -= 3;
  const s = (from: number, n: number) => raw.slice(from, from + n);
  let buf: string;
  let fmt: string;
  if (l === 8) {
    fmt = '%Y-%m-%d';
    buf = `${s(0, 4)}-${s(4, 2)}-${s(6, 2)}`;
  } else if (l === 12) {
    fmt = '%Y-%m-%dT%H:%M';
    buf = `${s(0, 4)}-${s(4, 2)}-${s(6, 2)}T${s(8, 2)}:${s(10, 2)}`;
  } else if (l === 14) {
    fmt = '%Y-%m-%dT%H:%M:%S';
    buf = `${s(0, 4)}-${s(4, 2)}-${s(6, 2)}T${s(8, 2)}:${s(10, 2)}:${s(12, 2)}`;
  } else return null;
  const tm = strptime(buf, fmt);
  if (!tm) return null;
  const date = new Date(0);
  date.setUTCFullYear(tm.Y, tm.m - 1, tm.d);
  date.setUTCHours(tm.H, tm.M, tm.S, 0);
  const ms = date.getTime();
  return ms <= 0 ? null : ms;
}

/** The conversions parse_absolute_time uses, with glibc's ranges and widths (get_number in strptime_l.c). */
const CONVERSIONS: Record<string, { from: number; to: number; width: number }> = {
  Y: { from: 0, to: 9999, width: 4 },
  m: { from: 1, to: 12, width: 2 },
  d: { from: 1, to: 31, width: 2 },
  H: { from: 0, to: 23, width: 2 },
  M: { from: 0, to: 59, width: 2 },
  S: { from: 0, to: 61, width: 2 },
};

/**
 * glibc's strptime for formats of plain conversions and literals: a number may be preceded by white space, reads
 * at most its width and stops early once another digit would pass its maximum; a literal must match exactly; the
 * whole input must be used.
 */
function strptime(input: string, fmt: string): Record<'Y' | 'm' | 'd' | 'H' | 'M' | 'S', number> | null {
  const tm = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  let rp = 0;
  for (let f = 0; f < fmt.length; f++) {
    if (fmt[f] !== '%') {
      if (input[rp] !== fmt[f]) return null;
      rp++;
      continue;
    }
    const letter = fmt[++f]! as keyof typeof tm;
    const conv = CONVERSIONS[letter]!;
    while (/^[ \t\n\v\f\r]$/.test(input[rp] ?? '')) rp++;
    if (!/^[0-9]$/.test(input[rp] ?? '')) return null;
    let val = 0;
    let n = conv.width;
    do {
      val = val * 10 + Number(input[rp++]);
    } while (--n > 0 && val * 10 <= conv.to && /^[0-9]$/.test(input[rp] ?? ''));
    if (val < conv.from || val > conv.to) return null;
    tm[letter] = val;
  }
  return rp === input.length ? tm : null;
}

/** sshd's auth_authorise_keyopts for one listing: does this listing let this client in now? */
export function keyOptionsAllow(o: KeyOptions, use: KeyUse): boolean {
  if (o.certAuthority || o.principals) return false;
  if (o.expiresAtMs !== null && o.expiresAtMs < Math.floor(use.nowMs / 1000) * 1000) return false;
  if (o.from !== null && !fromAllows(o.from, use.clientIp)) return false;
  if (o.environment.length > 0 && use.permitUserEnvironment !== 'no') return false;
  return true;
}
