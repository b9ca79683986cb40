/**
 * `keyfleet tags` and `keyfleet resource-groups` (issue 20), as a user runs them against a keyfleet in this process:
 * tags added, filtered by (`kp ls --tag`, `instances ls --tag`), listed and removed; a group created, a key pair
 * moved in, its deletion refused with the server's code (exit 1) while it holds it; an unknown resource type is a
 * usage error (exit 2).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { cliEnvFor } from './support/run-cli.js';

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

describe('keyfleet tags and resource-groups (CLI)', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;
  before(async () => {
    ({ kf, api } = await startInProcess());
    env = cliEnvFor(kf.url);
  });
  after(async () => kf?.close());

  it('adds, filters by, lists and removes tags', async () => {
    for (const name of ['cli-web', 'cli-db'])
      await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', { name, type: 'ed25519' });
    const run = await api.call('POST', '/api/v1/regions/cn-hangzhou/instances', { imageId: LINUX_IMAGE, amount: 2 });
    const [a, b] = run.instanceIds as [string, string];

    assert.equal(
      (await cli(['tags', 'add', 'keypair', 'cli-web', '--tag', 'env=prod', '--tag', 'team=web'], env)).code,
      0,
    );
    assert.equal((await cli(['tags', 'add', 'instance', a, '--tag', 'role=edge'], env)).code, 0);
    const kps = JSON.parse((await cli(['--json', 'kp', 'ls', '--tag', 'env=prod'], env)).stdout);
    assert.deepEqual(
      kps.keyPairs.map((k: { name: string }) => k.name),
      ['cli-web'],
    );
    const inst = JSON.parse((await cli(['--json', 'instances', 'ls', '--tag', 'role'], env)).stdout);
    assert.deepEqual(
      inst.instances.map((i: { id: string }) => i.id),
      [a],
    );
    assert.ok(!inst.instances.some((i: { id: string }) => i.id === b));
    const listed = JSON.parse((await cli(['--json', 'tags', 'ls', 'keypair'], env)).stdout);
    assert.deepEqual(
      listed.tags.map((t: { resourceId: string; key: string; value: string }) => `${t.resourceId}:${t.key}=${t.value}`),
      ['cli-web:env=prod', 'cli-web:team=web'],
    );
    assert.equal((await cli(['tags', 'rm', 'keypair', 'cli-web', '--key', 'team'], env)).code, 0);
    const after1 = JSON.parse((await cli(['--json', 'tags', 'ls', 'keypair', 'cli-web'], env)).stdout);
    assert.deepEqual(
      after1.tags.map((t: { key: string }) => t.key),
      ['env'],
    );

    const bad = await cli(['tags', 'add', 'disk', 'd-1', '--tag', 'a=b'], env);
    assert.equal(bad.code, 2, bad.stderr);
    const missing = await cli(['tags', 'add', 'keypair', 'no-such', '--tag', 'a=b'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Resource\.NotFound/);
  });

  it('creates a group, moves a key pair in, refuses to delete it while not empty', async () => {
    const created = await cli(['rg', 'create', 'cli-team'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = /Created resource group (rg-[a-z0-9]+)/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    assert.equal((await cli(['rg', 'move', id, 'keypair', 'cli-db'], env)).code, 0);
    const refused = await cli(['rg', 'rm', id], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ResourceGroup\.NotEmpty/);
    const groups = JSON.parse((await cli(['--json', 'rg', 'ls'], env)).stdout);
    assert.ok(groups.resourceGroups.some((g: { id: string; name: string }) => g.id === id && g.name === 'cli-team'));
    const def = groups.resourceGroups.find((g: { name: string }) => g.name === 'default');
    assert.equal((await cli(['rg', 'move', def.id, 'keypair', 'cli-db'], env)).code, 0);
    assert.equal((await cli(['rg', 'rm', id], env)).code, 0);
  });
});
