/**
 * Benchmark: how long `keyfleet` takes to start, since scripts call it thousands of times. Median of RUNS runs
 * (default 7) each, taken in turns so a busy machine weighs on every variant alike, of:
 *   node -e 0 · the compiled CLI's --help · a client call (`key-pairs ls --json`) against a keyfleet started here
 *   · both again from source through tsx (the fallback when dist/cli is missing or stale, and the old path).
 * Wall time, and CPU time (user + system) where /proc says what waited-for children used.
 *
 *   npm run build:cli && node --import tsx bench/cli-startup.ts
 *
 * The server is a child process (`keyfleet serve`) on 127.0.0.1 with a temporary data directory, stopped at the end.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startChild, testEnv } from '../test/support/keyfleet.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/keyfleet.js');
const SOURCE = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
// Clock ticks per second of /proc/<pid>/stat times: 100 on Linux for every architecture that runs Node.
const TICKS_PER_SECOND = 100;

/** CPU seconds used by this process's children that have been waited for, or null off Linux. */
function childrenCpuSeconds(): number | null {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

interface Variant {
  name: string;
  args: string[];
  wall: number[];
  cpu: number[];
}

async function runOnce(v: Variant, env: NodeJS.ProcessEnv): Promise<void> {
  const cpuBefore = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, v.args, { env }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${v.name}: ${err.message}`)) : resolve(stderr),
    );
  });
  v.wall.push(Number(process.hrtime.bigint() - start) / 1e9);
  const cpuAfter = childrenCpuSeconds();
  if (cpuBefore !== null && cpuAfter !== null) v.cpu.push(cpuAfter - cpuBefore);
  if (stderr) throw new Error(`${v.name} wrote to stderr (a stale or missing build? npm run build:cli): ${stderr}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const seconds = (xs: number[]) => (xs.length ? `${median(xs).toFixed(3)} s` : '-');

async function main(): Promise<void> {
  const { child, url } = await startChild(await testEnv());
  try {
    const env = {
      ...process.env,
      KEYFLEET_ENDPOINT: url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    const client = ['key-pairs', 'ls', '--json'];
    const variants: Variant[] = [
      { name: 'node -e 0', args: ['-e', '0'], wall: [], cpu: [] },
      { name: 'keyfleet --help (compiled)', args: [BIN, '--help'], wall: [], cpu: [] },
      { name: 'keyfleet key-pairs ls --json (compiled)', args: [BIN, ...client], wall: [], cpu: [] },
      { name: 'keyfleet --help (source via tsx)', args: [...SOURCE, '--help'], wall: [], cpu: [] },
      { name: 'keyfleet key-pairs ls --json (source via tsx)', args: [...SOURCE, ...client], wall: [], cpu: [] },
    ];
    for (let i = 0; i < RUNS; i++) for (const v of variants) await runOnce(v, env);
    const width = Math.max(...variants.map((v) => v.name.length));
    console.log(
      `${'command'.padEnd(width)}  ${'wall (median)'.padStart(13)}  ${'CPU (median)'.padStart(12)}   (${RUNS} runs each)`,
    );
    for (const v of variants)
      console.log(`${v.name.padEnd(width)}  ${seconds(v.wall).padStart(13)}  ${seconds(v.cpu).padStart(12)}`);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

await main();
