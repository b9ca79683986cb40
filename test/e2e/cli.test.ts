/**
 * The `keyfleet` CLI against a running server: tables for people, --json for scripts, exit codes scripts can
 * trust (0 ok, 1 error, 2 usage, 3 batch with failures, 4 unreachable).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess, tempDir, WINDOWS_IMAGE } from '../support/keyfleet.js';
import { sshRun } from '../support/openssh.js';
import { cliEnvFor } from '../cli/support/run-cli.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('keyfleet CLI', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;
  let linux: string[];
  let windows: string;

  before(async () => {
    ({ kf, api } = await startInProcess());
    env = cliEnvFor(kf.url);
    linux = await api.run({ imageId: LINUX_IMAGE, amount: 2 });
    [windows] = (await api.run({ imageId: WINDOWS_IMAGE })) as [string];
    await api.waitStatus([...linux, windows], 'Running');
  });
  after(async () => kf?.close());

  test('create a key pair: the private key is written once, 0600, and works after bind + restart', async () => {
    const out = path.join(tempDir(), 'cli-key.pem');
    const r = await cli(['key-pairs', 'create', 'cli-key', '--type', 'ed25519', '--out', out], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SHA256:/);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/, 'the private key goes to the file, not the terminal');
    const again = await cli(['key-pairs', 'create', 'cli-key2', '--out', out], env);
    assert.equal(again.code, 1, 'an existing file is never overwritten');

    const bind = await cli(['bind', linux[0]!, '--key-pair', 'cli-key', '--json'], env);
    assert.equal(bind.code, 0, bind.stderr);
    const result = JSON.parse(bind.stdout);
    assert.equal(result.task.succeeded, 1);
    const restart = await cli(['instances', 'restart', linux[0]!, '--wait'], env);
    assert.equal(restart.code, 0, restart.stderr);
    const inst = await api.instance(linux[0]!);
    const login = await sshRun({
      host: inst.address,
      port: inst.sshPort,
      user: 'root',
      identityFile: out,
      command: 'echo via-cli',
    });
    assert.equal(login.stdout.trim(), 'via-cli', login.stderr + JSON.stringify(inst));
  });

  test('tables for people and JSON for scripts', async () => {
    const table = await cli(['instances', 'ls'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Restart needed/);
    assert.match(table.stdout, new RegExp(linux[1]!));
    const json = await cli(['instances', 'ls', '--json'], env);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.total, 3);
    const kps = JSON.parse((await cli(['key-pairs', 'ls', '--json'], env)).stdout);
    assert.equal(kps.keyPairs[0].name, 'cli-key');
  });

  test('a batch with a failed instance exits 3 and says why per instance', async () => {
    const r = await cli(['bind', linux[1]!, windows, '--key-pair', 'cli-key'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /Instance\.WindowsNotSupported/);
    assert.match(r.stdout, /1 succeeded, 1 failed of 2/);
  });

  test('errors: server errors exit 1 with the code, usage errors 2, unreachable 4, no credentials 1', async () => {
    const notFound = await cli(['key-pairs', 'show', 'nope'], env);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /KeyPair\.NotFound/);
    const jsonErr = await cli(['key-pairs', 'show', 'nope', '--json'], env);
    assert.equal(JSON.parse(jsonErr.stdout).error.code, 'KeyPair.NotFound');
    assert.equal((await cli(['key-pairs', 'frobnicate'], env)).code, 2);
    assert.equal((await cli(['bind'], env)).code, 2, 'no key pair and no instances: a usage error, nothing sent');
    const down = await cli(['instances', 'ls'], { ...env, KEYFLEET_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(down.code, 4);
    assert.match(down.stderr, /Cannot reach keyfleet/);
    const noCreds = await cli(['instances', 'ls'], {
      KEYFLEET_ENDPOINT: kf.url,
      KEYFLEET_ACCESS_KEY_ID: '',
      KEYFLEET_ACCESS_KEY_SECRET: '',
    });
    assert.equal(noCreds.code, 1);
    const badSecret = await cli(['instances', 'ls'], { ...env, KEYFLEET_ACCESS_KEY_SECRET: 'wrong-secret-000' });
    assert.equal(badSecret.code, 1);
    assert.match(badSecret.stderr, /Auth\.Unauthenticated/);
  });
});

describe('keyfleet CLI: users, access keys, policies, audit', () => {
  let kf: Keyfleet;
  let env: Record<string, string>;
  before(async () => {
    ({ kf } = await startInProcess());
    env = cliEnvFor(kf.url);
  });
  after(async () => kf?.close());

  test('create a user, give it an access key and a policy; its calls are limited and audited', async () => {
    assert.equal((await cli(['users', 'create', 'carol'], env)).code, 0);
    const key = JSON.parse((await cli(['access-keys', 'create', 'carol', '--json'], env)).stdout);
    const carol = { ...env, KEYFLEET_ACCESS_KEY_ID: key.accessKeyId, KEYFLEET_ACCESS_KEY_SECRET: key.accessKeySecret };
    const denied = await cli(['key-pairs', 'ls'], carol);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /Auth\.Forbidden/);
    const file = path.join(tempDir(), 'read.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeKeyPairs', Resource: '*' }] }),
    );
    assert.equal((await cli(['policies', 'create', 'read-keys', '--file', file], env)).code, 0);
    assert.equal((await cli(['policies', 'attach', 'read-keys', 'carol'], env)).code, 0);
    assert.equal((await cli(['key-pairs', 'ls'], carol)).code, 0);
    const audit = await cli(['audit', '--by', 'carol', '--jsonl'], env);
    assert.equal(audit.code, 0, audit.stderr);
    const entries = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(entries.some((e) => e.action === 'keypair:Describe' && e.result === 'denied' && e.face === 'cli'));
    assert.equal((await cli(['access-keys', 'disable', key.accessKeyId], env)).code, 0);
    assert.equal((await cli(['key-pairs', 'ls'], carol)).code, 1, 'a disabled key signs in no more');
    // An attached policy is not deleted without --force; the refusal names who has it.
    const refused = await cli(['policies', 'delete', 'read-keys'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Policy\.InUse.*attached to 1 user \(carol\)/s);
    const forced = await cli(['policies', 'delete', 'read-keys', '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Deleted policy read-keys/);
  });
});
