/**
 * Mutations of valid requests: dropped, duplicated and retyped fields, huge strings, unicode, hostile numbers,
 * arrays where scalars are expected, deep JSON, broken JSON text and wrong content types. Every choice comes from
 * the run's Rng, so a seed replays the same requests.
 */
import type { Rng } from './rng.js';

const HUGE = 'A'.repeat(20_000);
const DEEP_ARRAY = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
const DEEP_OBJECT = `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`;

/** Strings that broke or might break something somewhere: sizes, encodings, syntax of other layers, numbers as text. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  HUGE,
  'é'.repeat(5_000),
  '💥'.repeat(1_000),
  '\ud800',
  '\u202eevil',
  'Ünïcödé-名前-имя',
  '../../../etc/passwd',
  '%00',
  '%',
  '%zz',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '*',
  '?',
  '_%',
  '\\',
  '\n\r\t',
  'null',
  'true',
  '[]',
  '{}',
  '[1,"a",{}]',
  '["a","a","a"]',
  '-1',
  '0',
  '1.5',
  '-0',
  'Infinity',
  '-Infinity',
  'NaN',
  '1e309',
  '1e30',
  '9007199254740993',
  '0x10',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  DEEP_ARRAY,
  DEEP_OBJECT,
];

/** A string repeated, but never past 20,000 characters (past every field's limit; the body limit is tested apart). */
function stretch(s: string, times: number): string {
  return s.repeat(Math.max(1, Math.min(times, Math.floor(20_000 / Math.max(1, s.length)))));
}

/** JSON values that are not what a field expects. */
function nastyJsonValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(14)) {
    case 0:
      return rng.pick(NASTY_STRINGS);
    case 1:
      return rng.pick([-1, 0, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, 2 ** 63, 1e30, 65536, 4294967296]);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return depth < 2 ? [nastyJsonValue(rng, depth + 1), nastyJsonValue(rng, depth + 1)] : ['x'];
    case 7:
      return depth < 2 ? { x: nastyJsonValue(rng, depth + 1) } : { x: 1 };
    case 8:
      return Array.from({ length: rng.pick([11, 101, 1001, 20_001]) }, (_, n) => `i-${n}`);
    case 9:
      return deepJson(rng.pick([50, 500, 1_000]));
    case 10:
      return 'x'.repeat(rng.pick([256, 257, 1025, 16_385, 20_000]));
    case 11:
      return rng.pick(['__proto__', 'constructor', 'Infinity', 'NaN']);
    case 12:
      return { __proto__: { polluted: true } };
    default:
      return rng.pick(['ssh-ed25519 AAAA', 'ssh-rsa not-base64!!', '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n']);
  }
}

function deepJson(depth: number): unknown {
  let v: unknown = 1;
  for (let n = 0; n < depth; n++) v = n % 2 === 0 ? [v] : { d: v };
  return v;
}

/** Paths to every node of a JSON value (objects' keys and arrays' indexes). */
function nodes(value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at);
  // Not into the deep values mutations make: one more level there each time would end past what JSON can print.
  if (at.length >= 8) return out;
  if (Array.isArray(value)) value.slice(0, 20).forEach((v, n) => nodes(v, [...at, n], out));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) nodes(v, [...at, k], out);
  return out;
}

function parentOf(root: any, at: Array<string | number>): any {
  let cur = root;
  for (const step of at.slice(0, -1)) cur = cur[step];
  return cur;
}

/** One structural mutation of a JSON value; returns the new value (the input is not changed). */
export function mutateJson(rng: Rng, value: unknown): unknown {
  const root = { v: structuredClone(value) };
  const paths = nodes(root.v).map((p) => ['v', ...p] as Array<string | number>);
  const at = rng.pick(paths);
  const parent = parentOf(root, at);
  const key = at.at(-1)!;
  const current = parent[key];
  switch (rng.int(9)) {
    case 0: // drop the field
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1: // retype it
    case 2:
    case 3:
      parent[key] = nastyJsonValue(rng);
      break;
    case 4: // an array where a scalar is expected, or the other way round
      parent[key] = Array.isArray(current) ? (current[0] ?? 'x') : [current, current];
      break;
    case 5: // an unknown field next to it
      if (current !== null && typeof current === 'object' && !Array.isArray(current))
        current[rng.pick(['bogus', '__proto__', 'constructor', 'x'.repeat(300), ''])] = nastyJsonValue(rng);
      else parent[key] = nastyJsonValue(rng);
      break;
    case 6: // duplicate an array's elements
      if (Array.isArray(current)) current.push(...current, ...current);
      else parent[key] = nastyJsonValue(rng);
      break;
    case 7: // a string stretched, or given unicode
      parent[key] =
        typeof current === 'string'
          ? rng.pick([stretch(current, 300), `${current}\u0000`, `${current}💥`, current.toUpperCase(), ` ${current} `])
          : nastyJsonValue(rng);
      break;
    default: // a number at the edges
      parent[key] =
        typeof current === 'number'
          ? rng.pick([-1, 0, current + 0.5, current * 1e6, 2 ** 53 + 1, -current, 1e308])
          : nastyJsonValue(rng);
  }
  return root.v;
}

/** Mutations of the JSON text itself: what JSON.stringify never writes. */
export function mutateJsonText(rng: Rng, text: string): string {
  switch (rng.int(8)) {
    case 0:
      return text.slice(0, rng.int(text.length + 1));
    case 1: // numbers JSON cannot carry, as literals
      return text.replace(
        /:(\s*)"?[^",{}[\]]*"?(?=[,}])/,
        `:${rng.pick(['1e309', '-1e309', 'Infinity', 'NaN', '-0', '1e-400', '01', '.5'])}`,
      );
    case 2: // a duplicate key: JSON.parse keeps the last
      return text.replace(
        /^\{/,
        `{"${rng.pick(['name', 'keypair', 'instanceIds', 'auth', 'action'])}":${rng.pick(['1', '"x"', 'null', '[]'])},`,
      );
    case 3:
      return rng.pick([DEEP_ARRAY, DEEP_OBJECT, '['.repeat(200_000), '{"a":'.repeat(50_000)]);
    case 4:
      return rng.pick(['', 'null', 'true', '0', '""', '[]', '{}', '[null]', '"\\ud800"', '{"__proto__":{"x":1}}']);
    case 5:
      return `${text}${rng.pick(['}', ',', ' garbage', '\u0000'])}`;
    case 6:
      return `\ufeff${text}`;
    default:
      return text.replace(/"[^"]*"/, `"${rng.pick(['\\u0000', '\\ud800', '\\\\', 'x'.repeat(20_000)])}"`);
  }
}

/** Content types a client may get wrong. */
export function wrongContentType(rng: Rng): string | undefined {
  return rng.pick([
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/octet-stream',
    '',
    '*/*',
    'application/jsonx',
  ]);
}

export type Pairs = Array<[string, string]>;

/** The string with each lone surrogate replaced by U+FFFD (what String.prototype.toWellFormed does, ES2024). */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** One mutation of a list of string parameters (a query string or a form). */
export function mutatePairs(rng: Rng, pairs: Pairs): Pairs {
  const out: Pairs = pairs.map(([k, v]) => [k, v]);
  const n = out.length === 0 ? -1 : rng.int(out.length);
  switch (rng.int(8)) {
    case 0:
      if (n >= 0) out.splice(n, 1);
      break;
    case 1:
      if (n >= 0) out.push([out[n]![0], rng.chance(0.5) ? out[n]![1] : rng.pick(NASTY_STRINGS)]);
      break;
    case 2:
    case 3:
    case 4:
      if (n >= 0) out[n] = [out[n]![0], rng.pick(NASTY_STRINGS)];
      else out.push(['x', rng.pick(NASTY_STRINGS)]);
      break;
    case 5: // the repeated-list forms of an array where a scalar is expected
      if (n >= 0) {
        const [k, v] = out[n]!;
        out.splice(n, 1, [`${k}.1`, v], [`${k}.${rng.pick(['2', '0', '-1', '99999999999', 'x'])}`, v], [`${k}[]`, v]);
      }
      break;
    case 6:
      out.push([
        rng.pick(['Bogus', '__proto__', 'constructor', 'Tag.999999999.Key', 'Tag.1.Key', 'x'.repeat(500)]),
        rng.pick(NASTY_STRINGS),
      ]);
      break;
    default:
      if (n >= 0) out[n] = [out[n]![0], stretch(out[n]![1], rng.pick([2, 100, 5_000]))];
  }
  // A lone surrogate cannot be percent-encoded; what reaches the wire is its replacement character.
  return out.map(([k, v]) => [wellFormed(k), wellFormed(v)]);
}

/**
 * A path segment a client should never send. No dot segments (`.`, `..`, even percent-encoded): URL parsing
 * resolves them before routing and the request lands on another face (`/` is the ECS face), which is not what
 * this tests.
 */
export function nastySegment(rng: Rng): string {
  return encodeURIComponent(
    wellFormed(
      rng.pick([
        '...',
        '.x',
        ' ',
        '\u0000',
        '💥',
        'x'.repeat(2_000),
        '%',
        '__proto__',
        'constructor',
        '-1',
        '1e309',
        'a/b',
        '*',
      ]),
    ),
  );
}
