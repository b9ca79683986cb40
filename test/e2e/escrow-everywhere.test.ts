/**
 * Private-key escrow through the native API and the CLI (issue 20): opt in at create or import (an import escrows
 * only a private key that matches its public key), export under its own permission, clear; sealed at rest. A live
 * unbind or replace sent without a credential logs in with the escrowed private key of the key pair bound now (as
 * Huawei's KPS does), proven with the real OpenSSH client against simulated instances, and the audit trail says the
 * escrowed key was used.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, Api, LINUX_IMAGE, startInProcess, tempDir } from '../support/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';

const REGION = 'cn-hangzhou';
const KP = `/api/v1/regions/${REGION}/key-pairs`;
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

describe('escrow everywhere: native API, CLI, and live changes that use the escrowed key', () => {
  let kf: Keyfleet;
  let api: Api;
  let dataDir: string;
  /** Private keys that went through the API in this suite (none may be stored in the clear). */
  const secrets: string[] = [];

  before(async () => {
    let env: Record<string, string>;
    ({ kf, api, env } = await startInProcess());
    dataDir = env.KEYFLEET_DATA_DIR!;
  });
  after(async () => kf?.close());

  async function runningLinux(password: string): Promise<any> {
    const [id] = await api.run({ imageId: LINUX_IMAGE, password });
    await api.waitStatus([id!], 'Running');
    return api.instance(id!);
  }
  const ssh = (inst: any, auth: { identityFile?: string; password?: string }) =>
    sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo logged-in', ...auth });

  test('create with escrow: the private key is kept sealed and exported exactly, with no-store; clear forgets it', async () => {
    const made = await api.call('POST', KP, { name: 'esc-gen', type: 'ed25519', escrow: true });
    secrets.push(made.privateKey);
    assert.equal(made.keyPair.privateKeyEscrowed, true);
    const plain = await api.call('POST', KP, { name: 'esc-plain', type: 'ed25519' });
    assert.equal(plain.keyPair.privateKeyEscrowed, false, 'escrow is opt-in');

    const exported = await fetch(`${kf.url}${KP}/esc-gen/escrow/export`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}` },
    });
    assert.equal(exported.status, 200);
    assert.equal(exported.headers.get('cache-control'), 'no-store');
    assert.equal(((await exported.json()) as any).privateKey, made.privateKey);

    const none = await api.raw('POST', `${KP}/esc-plain/escrow/export`);
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'PrivateKey.NotEscrowed');

    assert.equal((await api.raw('DELETE', `${KP}/esc-gen/escrow`)).status, 204);
    assert.equal((await api.call('GET', `${KP}/esc-gen`)).keyPair.privateKeyEscrowed, false);
    assert.equal((await api.raw('POST', `${KP}/esc-gen/escrow/export`)).body.code, 'PrivateKey.NotEscrowed');
  });

  test('import escrows only a private key that matches the public key; a mismatch creates nothing', async () => {
    const pair = await sshKeygen('ed25519', 'esc-import');
    const other = await sshKeygen('ed25519', 'esc-other');
    const privateKey = fs.readFileSync(pair.privateKeyPath, 'utf8');
    const otherKey = fs.readFileSync(other.privateKeyPath, 'utf8');
    secrets.push(privateKey, otherKey);

    const wrong = await api.raw('POST', KP, { name: 'esc-import', publicKey: pair.publicKey, privateKey: otherKey });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, 'PrivateKey.Mismatch');
    assert.equal((await api.raw('GET', `${KP}/esc-import`)).status, 404, 'nothing was created');

    const noKey = await api.raw('POST', KP, { name: 'esc-import', publicKey: pair.publicKey, escrow: true });
    assert.equal(noKey.status, 400, 'escrow of an import needs the private key');
    assert.equal((await api.raw('GET', `${KP}/esc-import`)).status, 404);

    const ok = await api.call('POST', KP, { name: 'esc-import', publicKey: pair.publicKey, privateKey });
    assert.equal(ok.keyPair.privateKeyEscrowed, true);
    assert.equal((await api.call('POST', `${KP}/esc-import/escrow/export`)).privateKey, privateKey);

    // Escrow later (PUT): refused for a key that does not match, kept for one that does.
    await api.call('POST', KP, { name: 'esc-later', publicKey: other.publicKey });
    const mismatch = await api.raw('PUT', `${KP}/esc-later/escrow`, { privateKey });
    assert.equal(mismatch.body.code, 'PrivateKey.Mismatch');
    assert.equal((await api.call('GET', `${KP}/esc-later`)).keyPair.privateKeyEscrowed, false);
    const put = await api.call('PUT', `${KP}/esc-later/escrow`, { privateKey: otherKey });
    assert.equal(put.keyPair.privateKeyEscrowed, true);

    const huge = await api.raw('PUT', `${KP}/esc-later/escrow`, { privateKey: 'x'.repeat(20_000) });
    assert.equal(huge.status, 400, 'the private key is bounded');
  });

  test('export is its own permission: a user who may read key pairs cannot export, and the refusal is audited', async () => {
    await api.call('POST', KP, { name: 'esc-perm', type: 'ed25519', escrow: true });
    await api.call('POST', '/api/v1/users', { name: 'reader', password: 'Reader-Pass-01' });
    const key = await api.call('POST', '/api/v1/users/reader/access-keys');
    await api.call('POST', '/api/v1/policies', {
      name: 'read-key-pairs',
      document: { Statement: [{ Effect: 'Allow', Action: ['keypair:Describe'], Resource: '*' }] },
    });
    await api.call('PUT', '/api/v1/users/reader/policies/read-key-pairs');
    const reader = new Api(kf.url);
    await reader.signIn({ accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret });

    const shown = await reader.call('GET', `${KP}/esc-perm`);
    assert.equal(shown.keyPair.privateKeyEscrowed, true, 'the reader sees that a key is kept');
    const refused = await reader.raw('POST', `${KP}/esc-perm/escrow/export`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'Auth.Forbidden');
    assert.equal(refused.body.privateKey, undefined);
    assert.equal((await reader.raw('DELETE', `${KP}/esc-perm/escrow`)).status, 403, 'nor clear it');

    await api.call('POST', '/api/v1/policies', {
      name: 'export-one',
      document: {
        Statement: [
          { Effect: 'Allow', Action: ['keypair:ExportPrivateKey'], Resource: 'acs:ecs:*:*:keypair/esc-perm' },
        ],
      },
    });
    await api.call('PUT', '/api/v1/users/reader/policies/export-one');
    assert.match((await reader.call('POST', `${KP}/esc-perm/escrow/export`)).privateKey, /PRIVATE KEY/);

    const { entries } = await api.call(
      'GET',
      `/api/v1/audit?${new URLSearchParams({ action: 'keypair:ExportPrivateKey', userName: 'reader' })}`,
    );
    assert.deepEqual(entries.map((e: any) => e.result).sort(), ['denied', 'success']);
  });

  test('live unbind without a credential logs in with the escrowed key: the key stops working, the password works, the audit says so', async () => {
    const made = await api.call('POST', KP, { name: 'esc-live', type: 'ed25519', escrow: true });
    secrets.push(made.privateKey);
    const keyFile = await writePrivateKey(made.privateKey);
    let inst = await runningLinux('Escrow-Pass-01');
    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'esc-live',
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'Escrow-Pass-01' },
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 0, 'bound: the key logs in');
    assert.equal((await ssh(inst, { password: 'Escrow-Pass-01' })).code, 255, 'and the password does not');

    const unbound = await api.bind({ action: 'unbind', instanceIds: [inst.id], mode: 'live' });
    assert.equal(unbound.task.status, 'succeeded', JSON.stringify(unbound.items));
    assert.match(unbound.items[0].note, /escrowed private key of key pair 'esc-live'/);
    inst = await api.instance(inst.id);
    assert.equal(inst.keyPairName, null);
    assert.equal((await ssh(inst, { identityFile: keyFile })).code, 255, 'the key is refused now');
    const pw = await ssh(inst, { password: 'Escrow-Pass-01' });
    assert.equal(pw.stdout.trim(), 'logged-in', 'and password login is back');

    const { entries } = await api.call('GET', `/api/v1/audit?taskId=${unbound.task.id}`);
    const used = entries.filter((e: any) => e.action === 'keypair:UseEscrowedPrivateKey');
    assert.equal(used.length, 1, JSON.stringify(entries));
    assert.ok(used[0].resources.some((r: string) => r.endsWith('keypair/esc-live')));
    assert.ok(used[0].resources.some((r: string) => r.endsWith(`instance/${inst.id}`)));
    assert.match(used[0].detail, /escrowed private key of key pair 'esc-live'/);
    assert.equal(used[0].userName, entries.find((e: any) => e.stage === 'request').userName);
  });

  test('live replace without a credential uses the escrowed key of the key pair bound now; without escrow: Live.CredentialRequired, nothing changes', async () => {
    const a = await api.call('POST', KP, { name: 'esc-old', type: 'ed25519', escrow: true });
    const b = await api.call('POST', KP, { name: 'esc-new', type: 'ed25519' });
    secrets.push(a.privateKey, b.privateKey);
    const [fileA, fileB] = [await writePrivateKey(a.privateKey), await writePrivateKey(b.privateKey)];
    const inst = await runningLinux('Escrow-Pass-02');
    await api.bind({
      action: 'bind',
      keyPairName: 'esc-old',
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: 'Escrow-Pass-02' },
    });
    const replaced = await api.bind({ action: 'bind', keyPairName: 'esc-new', instanceIds: [inst.id], mode: 'live' });
    assert.equal(replaced.task.status, 'succeeded', JSON.stringify(replaced.items));
    assert.equal((await ssh(inst, { identityFile: fileB })).code, 0, 'the new key logs in');
    assert.equal((await ssh(inst, { identityFile: fileA })).code, 255, 'the old key no longer does');

    // esc-new has no escrow: an unbind without a credential fails, and the machine keeps its key.
    const refused = await api.bind({ action: 'unbind', instanceIds: [inst.id], mode: 'live' });
    assert.equal(refused.task.status, 'failed');
    assert.equal(refused.items[0].errorCode, 'Live.CredentialRequired');
    assert.equal((await ssh(inst, { identityFile: fileB })).code, 0);
    assert.equal((await api.instance(inst.id)).keyPairName, 'esc-new');
  });

  test('the CLI: kp create --escrow, kp show, kp escrow export|clear, kp import --private-key', async () => {
    const env = {
      KEYFLEET_ENDPOINT: kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    const dir = tempDir();
    const out = path.join(dir, 'cli.pem');
    const created = await cli(['kp', 'create', 'esc-cli', '--type', 'ed25519', '--escrow', '--out', out], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /also kept by keyfleet, sealed/);
    secrets.push(fs.readFileSync(out, 'utf8'));
    assert.match((await cli(['kp', 'show', 'esc-cli'], env)).stdout, /Escrow\s+private key kept \(sealed\)/);

    const exported = path.join(dir, 'exported.pem');
    const ex = await cli(['kp', 'escrow', 'export', 'esc-cli', '--out', exported], env);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(fs.readFileSync(exported, 'utf8'), fs.readFileSync(out, 'utf8'));
    assert.equal(fs.statSync(exported).mode & 0o777, 0o600);
    assert.equal((await cli(['kp', 'escrow', 'export', 'esc-cli', '--out', exported], env)).code, 1, 'no overwrite');

    assert.equal((await cli(['kp', 'escrow', 'clear', 'esc-cli'], env)).code, 0);
    const gone = await cli(['kp', 'escrow', 'export', 'esc-cli', '--out', path.join(dir, 'again.pem')], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /PrivateKey\.NotEscrowed|No private key is kept/);
    assert.equal(fs.existsSync(path.join(dir, 'again.pem')), false);

    const pair = await sshKeygen('ed25519', 'esc-cli-import');
    const pubFile = path.join(dir, 'imp.pub');
    fs.writeFileSync(pubFile, pair.publicKey);
    secrets.push(fs.readFileSync(pair.privateKeyPath, 'utf8'));
    const imp = await cli(
      ['kp', 'import', 'esc-cli-import', '--public-key', pubFile, '--private-key', pair.privateKeyPath, '--json'],
      env,
    );
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(JSON.parse(imp.stdout).keyPair.privateKeyEscrowed, true);
  });

  test('sealed at rest: no escrowed private key in the clear in any file of the data directory', async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dataDir);
    const text = files.map((f) => fs.readFileSync(f).toString('latin1')).join('\n');
    assert.ok(text.includes('kf1.'), 'sanity: sealed values are there');
    assert.ok(secrets.length >= 8);
    for (const key of secrets) {
      // The base64 body lines of the key past the first two (an OpenSSH key begins with a header common to every
      // key of its type, as the simulated fleet's own host keys do, then the public key): any in the clear is a leak.
      const lines = key
        .split('\n')
        .filter((l) => l.length >= 40 && !l.startsWith('-----'))
        .slice(2);
      assert.ok(lines.length > 0);
      for (const line of lines) assert.equal(text.includes(line), false, 'a private key line is stored in the clear');
    }
  });
});
