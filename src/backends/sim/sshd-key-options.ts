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
 * `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, with `Z` for UTC, else in the machine's time zone. A simulated
 * instance has no /etc/localtime, so its zone is UTC, as glibc's is without one. Like timegm/mktime, out-of-range
 * fields roll over (Feb 30 is Mar 2); a time before 1970 is invalid.
 */
export function parseExpiryTime(raw: string): number | null {
  const text = /[Zz]$/.test(raw) ? raw.slice(0, -1) : raw;
  if (![8, 12, 14].includes(text.length) || !/^\d+$/.test(text)) return null;
  const field = (from: number, to: number) => (text.length >= to ? Number(text.slice(from, to)) : 0);
  const [month, day, hour, minute, second] = [field(4, 6), field(6, 8), field(8, 10), field(10, 12), field(12, 14)];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 61) return null;
  const ms = Date.UTC(Number(text.slice(0, 4)), month - 1, day, hour, minute, second);
  return ms < 0 ? null : ms;
}

/** sshd's auth_authorise_keyopts for one listing: does this listing let this client in now? */
export function keyOptionsAllow(o: KeyOptions, use: KeyUse): boolean {
  if (o.certAuthority || o.principals) return false;
  if (o.expiresAtMs !== null && o.expiresAtMs < Math.floor(use.nowMs / 1000) * 1000) return false;
  if (o.from !== null && !fromAllows(o.from, use.clientIp)) return false;
  if (o.environment.length > 0 && use.permitUserEnvironment !== 'no') return false;
  return true;
}
