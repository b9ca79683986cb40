/**
 * `keyfleet key-pairs show` lists the bound instances one per row, from the API's exact key pair filter: a key pair
 * named "web" bound to one instance lists that one, not every instance whose name contains "web".
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
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

describe('keyfleet key-pairs show', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;
  let ids: string[];

  before(async () => {
    ({ kf, api } = await startInProcess());
    env = cliEnvFor(kf.url);
    await api.createKeyPair('web', 'ed25519');
    await api.createKeyPair('fleet', 'ed25519');
    ids = await api.run({ imageId: LINUX_IMAGE, amount: 5, name: 'web' });
    await api.bind({ action: 'bind', keyPairName: 'web', instanceIds: [ids[1]] });
    await api.bind({ action: 'bind', keyPairName: 'fleet', instanceIds: [ids[0], ids[2], ids[3], ids[4]] });
  });
  after(async () => kf?.close());

  test('the bound instances one per row, matched on the key pair exactly', async () => {
    const web = await cli(['key-pairs', 'show', 'web'], env);
    assert.equal(web.code, 0, web.stderr);
    assert.match(web.stdout, /^Bound to\s+1 instance$/m);
    const rows = web.stdout.split('\n').filter((l) => /\bi-[0-9a-z]+\b/.test(l));
    assert.equal(rows.length, 1, web.stdout);
    assert.ok(rows[0]!.includes(ids[1]!) && rows[0]!.includes('web-002'), web.stdout);

    const fleet = await cli(['key-pairs', 'show', 'fleet'], env);
    assert.equal(fleet.code, 0, fleet.stderr);
    assert.match(fleet.stdout, /^Bound to\s+4 instances$/m);
    for (const id of [ids[0], ids[2], ids[3], ids[4]]) {
      const lines = fleet.stdout.split('\n').filter((l) => l.includes(id!));
      assert.equal(lines.length, 1, `${id} on a row of its own`);
      assert.equal((lines[0]!.match(/\bi-[0-9a-z]+\b/g) ?? []).length, 1, `one id per row: ${lines[0]}`);
    }
  });
});
