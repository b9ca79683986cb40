/**
 * `keyfleet webhooks` (issue 21): the CLI creates an endpoint and prints its secret once, lists it without the
 * secret, rotates the secret and deletes the endpoint, against a keyfleet in this process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { cliEnvFor } from '../cli/support/run-cli.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('keyfleet webhooks (CLI)', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;
  before(async () => {
    ({ kf, api } = await startInProcess());
    env = cliEnvFor(kf.url);
  });
  after(async () => kf?.close());

  it('create prints the secret once; ls does not; rotate-secret prints a new one; delete removes it', async () => {
    const created = await cli(
      [
        'webhooks',
        'create',
        'http://127.0.0.1:9/hook',
        '--events',
        'task.finished,drift.found',
        '--description',
        'cli',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const secret = /whsec_[a-z0-9]{40}/.exec(created.stdout)?.[0];
    assert.ok(secret, created.stdout);
    const id = /Created webhook (wh-[a-z0-9]+)/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    const listed = await cli(['--json', 'webhooks', 'ls'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const body = JSON.parse(listed.stdout);
    assert.deepEqual(
      body.webhooks.map((w: any) => [w.id, w.events]),
      [[id, ['drift.found', 'task.finished']]],
    );
    assert.equal(listed.stdout.includes(secret), false);

    const rotated = await cli(['webhooks', 'rotate-secret', id], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = /whsec_[a-z0-9]{40}/.exec(rotated.stdout)?.[0];
    assert.ok(fresh && fresh !== secret, rotated.stdout);

    const deleted = await cli(['webhooks', 'delete', id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual((await api.call('GET', '/api/v1/webhooks')).webhooks, []);
  });
});
