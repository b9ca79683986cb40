/**
 * Benchmark: what a policy wildcard costs, with the glob matcher (src/common/glob.ts) and with what policies did
 * before issue 18: a regular expression built from the pattern (`*` → `.*`, `?` → `.`), which backtracks through
 * every way of splitting the name. Cases: the patterns of the issue, the worst case the limits allow (20
 * wildcards against a 255-character key pair name), the longest pattern allowed, and a whole evaluation of a
 * policy whose Deny carries the worst pattern.
 *
 *   node --import tsx bench/policy-glob.ts
 *   BENCH_REGEXP_BUDGET_MS=500 node --import tsx bench/policy-glob.ts
 *
 * Bounded: each old-style regular expression runs in a worker thread that is terminated after the budget
 * (default 2,000 ms; it is then reported as "> budget"); each new measurement repeats for ~200 ms.
 */
import { Worker } from 'node:worker_threads';
import { compileGlob, wildcardCount } from '../src/common/glob.js';
import {
  compilePermissions,
  evaluate,
  MAX_PATTERN_LENGTH,
  MAX_WILDCARDS_PER_PATTERN,
  parsePolicyDocument,
  MAX_POLICY_BYTES,
} from '../src/core/authz/policy.js';
import { KEY_PAIR_NAME_MAX } from '../src/common/names.js';

const BUDGET_MS = Number(process.env.BENCH_REGEXP_BUDGET_MS ?? 2000);
const REPEAT_MS = 200;

/** The construction policies used before (policy.ts `wildcard`). */
function oldSource(pattern: string): string {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return `^${body}$`;
}

/** Microseconds per call of `fn`, repeated for about REPEAT_MS after a warm-up. */
function perCall(fn: () => boolean): { us: number; answer: boolean } {
  let answer = fn();
  for (let i = 0; i < 1000; i++) answer = fn() && answer;
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < REPEAT_MS * 1e6) {
    for (let i = 0; i < 100; i++) answer = fn() === answer ? answer : answer;
    calls += 100;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return { us: elapsed / calls / 1000, answer };
}

/** One test of the old regular expression, in a worker terminated after the budget: milliseconds, or null. */
function oldRegExpMs(pattern: string, text: string): Promise<{ ms: number; answer: boolean } | null> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const re = new RegExp(workerData.source);
     re.test('warm-up');
     const start = process.hrtime.bigint();
     const answer = re.test(workerData.text);
     parentPort.postMessage({ ms: Number(process.hrtime.bigint() - start) / 1e6, answer });`,
    { eval: true, workerData: { source: oldSource(pattern), text } },
  );
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), BUDGET_MS);
    worker.once('message', (m: { ms: number; answer: boolean }) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
    worker.once('error', () => resolve(null));
  });
}

const fmtUs = (us: number) => (us < 1 ? `${(us * 1000).toFixed(0)} ns` : `${us.toFixed(2)} µs`);
const fmtOld = (r: { ms: number } | null) =>
  r === null ? `> ${BUDGET_MS} ms (stopped)` : r.ms < 1 ? `${(r.ms * 1000).toFixed(1)} µs` : `${r.ms.toFixed(1)} ms`;

interface Case {
  name: string;
  pattern: string;
  text: string;
}

async function compare(c: Case): Promise<void> {
  const glob = compileGlob(c.pattern);
  const fresh = perCall(() => glob.test(c.text));
  const old = await oldRegExpMs(c.pattern, c.text);
  if (old !== null && old.answer !== fresh.answer) throw new Error(`answers differ on ${c.name}`);
  console.log(
    `  ${c.name.padEnd(58)} ${String(wildcardCount(c.pattern)).padStart(3)} ${String(c.pattern.length).padStart(4)} ${String(c.text.length).padStart(4)}  ${fmtUs(fresh.us).padStart(10)} ${`(${Math.round(1e6 / fresh.us).toLocaleString('en')}/s)`.padStart(16)}   ${fmtOld(old)}`,
  );
}

async function main(): Promise<void> {
  const NAME = 'a'.repeat(KEY_PAIR_NAME_MAX);
  const RESOURCE = `acs:ecs:cn-hangzhou:acc-1:keypair/${NAME}`;
  const worst = `${'*a'.repeat(MAX_WILDCARDS_PER_PATTERN - 1)}*!`;
  // One piece with a `?` scanned across the whole name, failing at its last character each time: compared at
  // every place, as a naive matcher would, this costs half the name × half the name.
  const halfPiece = `*${'a'.repeat(Math.floor(KEY_PAIR_NAME_MAX / 2))}?!${'*'.repeat(MAX_WILDCARDS_PER_PATTERN - 2)}`;
  const cases: Case[] = [
    {
      name: 'issue 18: keypair/*a*a*a*a*a*a! vs 60 a',
      pattern: 'acs:ecs:*:*:keypair/*a*a*a*a*a*a!',
      text: `acs:ecs:cn-hangzhou:acc-1:keypair/${'a'.repeat(60)}`,
    },
    {
      name: 'issue 18: Action *?*?*?*?*?*?*?*?*?# vs an action name',
      pattern: '*?*?*?*?*?*?*?*?*?#',
      text: 'kps:SSHKeyPair:exportPrivateKey',
    },
    ...[2, 4, 6, 8].map((k) => ({
      name: `${k} wildcards (*a…*!) vs ${KEY_PAIR_NAME_MAX} a`,
      pattern: `${'*a'.repeat(k - 1)}*!`,
      text: NAME,
    })),
    {
      name: `worst case: ${MAX_WILDCARDS_PER_PATTERN} wildcards (*a…*!) vs ${KEY_PAIR_NAME_MAX} a`,
      pattern: worst,
      text: NAME,
    },
    { name: `same, matching (*a…*a) vs ${KEY_PAIR_NAME_MAX} a`, pattern: worst.slice(0, -2), text: NAME },
    {
      name: `${MAX_WILDCARDS_PER_PATTERN} wildcards, no tail (*?a…*!*) vs ${KEY_PAIR_NAME_MAX} a`,
      pattern: `${'*?a'.repeat(MAX_WILDCARDS_PER_PATTERN / 2 - 1)}*!*`,
      text: NAME,
    },
    {
      name: `a ${halfPiece.length - 19}-character piece with ? vs ${KEY_PAIR_NAME_MAX} a`,
      pattern: halfPiece,
      text: NAME,
    },
    {
      name: `longest allowed pattern (${MAX_PATTERN_LENGTH} chars) vs its resource name`,
      pattern: `acs:ecs:*:*:keypair/${'a?'.repeat(9)}${'a'.repeat(MAX_PATTERN_LENGTH - 38)}`,
      text: `acs:ecs:cn-hangzhou:acc-1:keypair/${'a'.repeat(MAX_PATTERN_LENGTH - 20)}`,
    },
  ];

  console.log(
    `\nkeyfleet policy wildcard benchmark, ${new Date().toISOString()}, node ${process.version}; old = RegExp built from the pattern (before issue 18), budget ${BUDGET_MS} ms`,
  );
  console.log(
    `  ${'case'.padEnd(58)} ${'wc'.padStart(3)} ${'plen'.padStart(4)} ${'tlen'.padStart(4)}  ${'new (glob)'.padStart(10)} ${''.padStart(16)}   old (RegExp)`,
  );
  for (const c of cases) await compare(c);

  // A whole check: a user allowed everything but denied key pairs matching the worst pattern.
  const doc = parsePolicyDocument({
    Statement: [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'keypair:*', Resource: `acs:ecs:*:*:keypair/${'*a'.repeat(16)}*!` },
    ],
  });
  const set = compilePermissions([doc]);
  const ref = [{ type: 'keypair' as const, regionId: 'cn-hangzhou', id: NAME }];
  const check = perCall(() => evaluate(set, 'acc-1', 'keypair:Delete', ref) === 'allow');
  if (!check.answer) throw new Error('the check should allow');
  const compile = perCall(() => compilePermissions([doc]).byAction.size > 0);
  console.log(
    `  evaluate(): Deny with ${MAX_WILDCARDS_PER_PATTERN} wildcards, ${RESOURCE.length}-char resource name: ${fmtUs(check.us)} per check (${Math.round(1e6 / check.us).toLocaleString('en')}/s); compiling the policy ${fmtUs(compile.us)}`,
  );

  // The costliest single policy the limits allow: as many long `?` pieces as MAX_POLICY_BYTES holds, none of
  // which matches, all tested for every key pair (no literal start narrows them down).
  const hostile: string[] = [];
  const statement = (Resource: string[]) => ({ Effect: 'Deny', Action: 'keypair:Delete', Resource });
  for (let k = 0; ; k++) {
    const next = [...hostile, `*${'a'.repeat(k % 200)}?${'a'.repeat(240 - (k % 200))}!*`];
    if (JSON.stringify({ Statement: [statement(next)] }).length > MAX_POLICY_BYTES) break;
    hostile.push(next[next.length - 1]!);
  }
  const worstSet = compilePermissions([parsePolicyDocument({ Statement: [statement(hostile)] })]);
  const worstCheck = perCall(() => evaluate(worstSet, 'acc-1', 'keypair:Delete', ref) === 'implicit-deny');
  if (!worstCheck.answer) throw new Error('the hostile policy should not match');
  console.log(
    `  evaluate(): the costliest ${MAX_POLICY_BYTES}-byte policy (${hostile.length} patterns of ${hostile[0]!.length} chars with ?, none matching): ${fmtUs(worstCheck.us)} per key pair`,
  );
}

await main();
