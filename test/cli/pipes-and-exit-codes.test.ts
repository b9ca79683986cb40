/**
 * The CLI in a pipeline and in a script: output whose reader goes away (`| head -1`) ends quietly with exit 0, and
 * every command answers a command line it can tell is wrong with exit 2 (usage) before it changes anything, beside
 * 1 (the server said no) and 4 (unreachable). The real CLI, spawned, against a fresh keyfleet.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  type Api,
  freePort,
  LINUX_IMAGE,
  startInProcess,
  tempDir,
} from '../support/keyfleet.js';
import { BIN, cli } from './support/run-cli.js';

let kf: Keyfleet;
let api: Api;
let env: Record<string, string>;
let linux: string[];

before(async () => {
  ({ kf, api } = await startInProcess());
  env = {
    KEYFLEET_ENDPOINT: kf.url,
    KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
    KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
  };
  linux = await api.run({ imageId: LINUX_IMAGE, amount: 30 });
  await api.createKeyPair('pipes');
  await api.bind({ action: 'bind', keyPairName: 'pipes', instanceIds: linux.slice(0, 3) });
  await api.bind({ action: 'bind', keyPairName: 'pipes', instanceIds: linux.slice(3, 6) });
});
after(async () => kf?.close());

/** Runs a shell pipeline with pipefail, so the CLI's own exit status is the pipeline's. */
function pipeline(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      ['-o', 'pipefail', '-c', script],
      { env: { ...process.env, ...env, KF: BIN, NODE: process.execPath }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('output into a pipe', () => {
  test('`keyfleet tasks ls | head -1` prints one line and exits 0, no EPIPE', async () => {
    for (const command of ['tasks ls', 'instances ls --limit 1000', 'instances ls --ids']) {
      const r = await pipeline(`"$NODE" "$KF" ${command} | head -1`);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      assert.equal(r.stdout.split('\n').length, 2, command);
      assert.equal(r.stderr, '', command);
    }
  });

  test('a reader gone before the first byte: the command finishes quietly, exit 0, and signs out', async () => {
    const sessionsBefore = await openSessions();
    const child = spawn(process.execPath, [BIN, 'instances', 'ls', '--limit', '1000'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the CLI can have written: it signs in over HTTP first.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', 'no EPIPE message, no stack');
    assert.equal(code, 0);
    assert.equal(await openSessions(), sessionsBefore, 'the session it opened was closed');
  });
});

/** Sessions in the store now (the test's own Api session included, which stays open). */
async function openSessions(): Promise<number> {
  const row = await kf.store.db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('exit codes', () => {
  const pem = () => path.join(tempDir(), 'k.pem');
  const usage: Array<{ args: (id: string) => string[]; stderr: RegExp; env?: Record<string, string> }> = [
    { args: (id) => ['bind', id], stderr: /required option '--key-pair <name>' not specified/ },
    { args: () => ['bind', '--key-pair', 'pipes'], stderr: /name the instances/ },
    { args: (id) => ['bind', id, '--key-pair', 'pipes', '--bogus'], stderr: /unknown option '--bogus'/ },
    {
      args: (id) => ['bind', id, '--key-pair', 'pipes', '--live', '--password-env', 'KF_UNSET_PW'],
      stderr: /KF_UNSET_PW.*not set/,
    },
    { args: () => ['unbind', '--live'], stderr: /name the instances/ },
    { args: () => ['instances', 'ls', '--limit', 'ten'], stderr: /'ten' is invalid/ },
    { args: () => ['instances', 'ls', '--expiring-within', 'soon'], stderr: /'soon' is not a duration/ },
    { args: () => ['instances', 'run'], stderr: /required option '--image <id>'/ },
    {
      args: () => ['instances', 'run', '--image', LINUX_IMAGE, '--password-env', 'KF_UNSET_PW'],
      stderr: /KF_UNSET_PW.*not set/,
    },
    {
      args: () => ['instances', 'run', '--image', LINUX_IMAGE, '--amount', '-3'],
      stderr: /'-3' is invalid|unknown option/,
    },
    { args: (id) => ['instances', 'reset-password', id, '--password-env', 'KF_UNSET_PW'], stderr: /not set/ },
    { args: () => ['instances', 'frobnicate'], stderr: /unknown command 'frobnicate'/ },
    {
      args: () => ['key-pairs', 'create', 'x', '--type', 'dsa', '--out', pem()],
      stderr: /Allowed choices are ed25519, rsa/,
    },
    { args: () => ['key-pairs', 'create', 'x'], stderr: /required option '--out <file>'/ },
    { args: () => ['tasks', 'ls', '--limit', '1e3'], stderr: /'1e3' is invalid/ },
    {
      args: () => ['hosts', 'add', 'h', '--address', '10.0.0.1', '--login-user', 'u', '--port', '22x'],
      stderr: /'22x'/,
    },
    {
      args: () => ['rotations', 'start', '--from', 'a', '--to', 'b', '--canary', 'lots', '--wave-size', '5'],
      stderr: /'lots' is not a canary size/,
    },
    { args: () => ['frobnicate'], stderr: /unknown command 'frobnicate'/ },
    { args: () => ['images', 'ls', 'extra'], stderr: /too many arguments|excess/i },
  ];
  for (const u of usage) {
    test(`usage error, exit 2: keyfleet ${u.args('<id>').join(' ')}`, async () => {
      const tasksBefore = (await api.call('GET', '/api/v1/tasks?limit=1')).total;
      const instancesBefore = (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1')).total;
      const r = await cli(u.args(linux[0]!), { ...env, ...u.env });
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, u.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal((await api.call('GET', '/api/v1/tasks?limit=1')).total, tasksBefore, 'no task started');
      assert.equal(
        (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1')).total,
        instancesBefore,
        'no instance created',
      );
    });
  }

  test('the server saying no is 1, with its code; an unreachable server is 4', async () => {
    const notFound = await cli(['key-pairs', 'show', 'no-such-key'], env);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /KeyPair\.NotFound/);
    const port = await freePort();
    const down = await cli(['tasks', 'ls'], { ...env, KEYFLEET_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(down.code, 4, down.stderr);
  });

  test('--help is 0 and writes no file', async () => {
    const r = await cli(['bind', '--help'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--key-pair <name>/);
    assert.equal(fs.existsSync('k.pem'), false);
  });
});
