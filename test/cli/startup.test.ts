/**
 * `keyfleet` starts fast because it runs compiled (dist/cli/, built by `prepare` and `pretest`) and loads only the
 * command being run. These tests check the causes, not the clock (timings are in bench/cli-startup.ts): which
 * modules a run loads, that bin/keyfleet.js runs a current build, and that the build behaves as the sources do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startChild, testEnv } from '../support/keyfleet.js';
import { tempDir } from '../support/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/keyfleet.js');
const SOURCE = path.join(ROOT, 'src/cli/main.ts');
const TRACE_HOOK = path.join(import.meta.dirname, 'support/trace-imports.mjs');
// Nothing listens on port 9 of the loopback: a client command gets as far as connecting, then exits 4.
const NOBODY = 'http://127.0.0.1:9';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs bin/keyfleet.js and returns, with its output, every module URL it resolved. */
async function traced(args: string[], env: Record<string, string> = {}): Promise<Run & { modules: string[] }> {
  const trace = path.join(tempDir(), 'imports.txt');
  const run = await node(['--import', TRACE_HOOK, BIN, ...args], { ...env, KEYFLEET_TRACE_IMPORTS: trace });
  return { ...run, modules: fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

const SERVER_MODULES = [
  /\/src\//,
  /\/dist\/console\//,
  /\/node_modules\/(fastify|@fastify|better-sqlite3|ssh2|pg|kysely|typebox|tsx)\//,
];
const COMMAND_MODULES = [
  'key-pairs',
  'instances',
  'bind',
  'tasks',
  'hosts',
  'drift',
  'identity',
  'groups',
  'serve-through-tsx',
];
const commandModule = (name: string) => new RegExp(`/dist/cli/${name}-[A-Z0-9]+\\.js$`);

function assertNone(modules: string[], patterns: RegExp[], what: string): void {
  for (const p of patterns)
    assert.deepEqual(
      modules.filter((m) => p.test(m)),
      [],
      `${what} loaded ${p}`,
    );
}

describe('CLI startup', () => {
  test('bin/keyfleet.js runs the compiled CLI, and the build is current (else: npm run build:cli)', async () => {
    const info = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/cli/build-info.json'), 'utf8'));
    const stale = info.inputs.filter((input: string) => fs.statSync(path.join(ROOT, input)).mtimeMs > info.builtAt);
    assert.deepEqual(stale, [], 'sources changed since dist/cli was built');
    const run = await traced(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'no notice about running from source');
    assert.ok(
      run.modules.some((m) => m.endsWith('/dist/cli/main.js')),
      run.modules.join('\n'),
    );
  });

  test('--help loads neither the server nor any command module', async () => {
    const run = await traced(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ {2}key-pairs\|kp {2,}SSH key pairs$/m);
    assertNone(run.modules, [...SERVER_MODULES, ...COMMAND_MODULES.map(commandModule)], '--help');
  });

  test('a client command loads its own command module only, and not the server', async () => {
    const run = await traced(['key-pairs', 'ls', '--json'], {
      KEYFLEET_ENDPOINT: NOBODY,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    });
    assert.equal(run.code, 4, `unreachable server: ${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /"code": ?"Unreachable"/);
    assert.ok(
      run.modules.some((m) => commandModule('key-pairs').test(m)),
      run.modules.join('\n'),
    );
    assertNone(
      run.modules,
      [...SERVER_MODULES, ...COMMAND_MODULES.filter((n) => n !== 'key-pairs').map(commandModule)],
      'key-pairs ls',
    );
  });

  test('the compiled CLI says what the sources say: help, a command loaded for its help, usage errors', async () => {
    for (const args of [
      ['--help'],
      ['key-pairs', '--help'],
      ['help', 'bind'],
      ['--json', 'help', 'drift'],
      ['audit', '--help'],
      ['frobnicate'],
      ['kp', 'frobnicate'],
    ]) {
      const [compiled, source] = await Promise.all([node([BIN, ...args]), node(['--import', 'tsx', SOURCE, ...args])]);
      assert.deepEqual(compiled, source, `keyfleet ${args.join(' ')}`);
    }
  });

  test('keyfleet serve starts the server from the compiled CLI, and a client call works against it', async () => {
    const env = await testEnv();
    const { child } = await startChild(env);
    try {
      const run = await node([BIN, 'key-pairs', 'ls', '--json'], {
        KEYFLEET_ENDPOINT: `http://127.0.0.1:${env.KEYFLEET_PORT}`,
        KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
        KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).total, 0);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
