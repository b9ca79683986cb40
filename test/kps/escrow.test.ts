/**
 * Private-key escrow through KPS: export returns exactly the private key that was imported (or generated), batch
 * export is a real zip archive, clear forgets the key. keyfleet runs as a child process with debug logging, so that
 * its whole log can be searched afterwards: neither the store (the SQLite file and its WAL), nor any file of the
 * data directory, nor the log holds a private key or a root password in the clear — including the credentials sent
 * for a live bind and unbind.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import { Api, LINUX_IMAGE, startChild, testEnv, tempDir } from '../support/keyfleet.js';
import { type Kps, kpsWithAkSk, pollTask, sdkError } from './support/huawei.js';

const ROOT_PASSWORD = 'Root-Pass-0004';

describe('KPS private-key escrow', () => {
  let child: ChildProcess;
  let output: () => string;
  let dataDir: string;
  let kps: Kps;
  let api: Api;
  let clearPublicKey = '';
  /** Every private key that went through the API in this suite, with its public key. */
  const secrets: Array<{ privateKey: string; publicKey: string }> = [];

  before(async () => {
    const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'debug' } });
    dataDir = env.KEYFLEET_DATA_DIR!;
    const run = await startChild(env);
    ({ child, output } = run);
    kps = kpsWithAkSk(run.url);
    api = new Api(run.url);
    await api.signIn();
    // A generated key pair without escrow: its public key is stored in the clear, which proves the search below
    // can find stored text; its private key must not be anywhere.
    const r = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'escrow-sanity' } },
    });
    clearPublicKey = r.keypair.public_key;
    secrets.push({ privateKey: r.keypair.private_key, publicKey: r.keypair.public_key });
  });
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  const exportKey = async (name: string) =>
    (
      await kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/private-key/export',
        data: { keypair: { name } },
      })
    ).keypair.private_key as string;

  test('import with key_protection → export returns exactly the imported private key', async () => {
    const pair = await sshKeygen('ed25519', 'escrow-import');
    const privateKey = fs.readFileSync(pair.privateKeyPath, 'utf8');
    secrets.push({ privateKey, publicKey: pair.publicKey });
    const imported = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: {
        keypair: {
          name: 'escrow-import',
          public_key: pair.publicKey,
          key_protection: { private_key: privateKey, encryption: { type: 'default' } },
        },
      },
    });
    assert.equal(imported.keypair.private_key, undefined, 'an import returns no private key');
    const detail = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/keypairs/{keypair_name}',
      pathParams: { keypair_name: 'escrow-import' },
    });
    assert.equal(detail.keypair.is_key_protection, true);
    assert.equal(await exportKey('escrow-import'), privateKey);
  });

  test('generate with key_protection; ImportPrivateKey later (mismatch: KPS.6011); clear → KPS.6005; unknown → 404', async () => {
    const generated = (
      await kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs',
        data: {
          keypair: { name: 'escrow-gen', key_protection: { encryption: { type: 'kms', kms_key_name: 'kps/default' } } },
        },
      })
    ).keypair;
    secrets.push({ privateKey: generated.private_key, publicKey: generated.public_key });
    assert.equal(await exportKey('escrow-gen'), generated.private_key);

    const later = await sshKeygen('rsa', 'escrow-later');
    const laterKey = fs.readFileSync(later.privateKeyPath, 'utf8');
    secrets.push({ privateKey: laterKey, publicKey: later.publicKey });
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'escrow-later', public_key: later.publicKey } },
    });
    const none = await sdkError(exportKey('escrow-later'));
    assert.deepEqual([none.httpStatusCode, none.errorCode], [400, 'KPS.6005']);
    const mismatch = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/private-key/import',
        data: {
          keypair: {
            name: 'escrow-later',
            key_protection: { private_key: generated.private_key, encryption: { type: 'default' } },
          },
        },
      }),
    );
    assert.deepEqual([mismatch.httpStatusCode, mismatch.errorCode], [400, 'KPS.6011']);
    const ok = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/private-key/import',
      data: {
        keypair: {
          name: 'escrow-later',
          key_protection: { private_key: laterKey, encryption: { type: 'kms', kms_key_name: 'kps/default' } },
        },
      },
    });
    assert.deepEqual(ok.keypair, { name: 'escrow-later' });
    assert.equal(await exportKey('escrow-later'), laterKey);

    const cleared = await kps.call({
      method: 'DELETE',
      url: '/v3/{project_id}/keypairs/{keypair_name}/private-key',
      pathParams: { keypair_name: 'escrow-later' },
    });
    assert.equal(cleared.httpStatusCode, 200);
    assert.equal((await sdkError(exportKey('escrow-later'))).errorCode, 'KPS.6005');
    const unknown = await sdkError(
      kps.call({
        method: 'DELETE',
        url: '/v3/{project_id}/keypairs/{keypair_name}/private-key',
        pathParams: { keypair_name: 'no-such-key' },
      }),
    );
    assert.deepEqual([unknown.httpStatusCode, unknown.errorCode], [404, 'KPS.6004']);
  });

  test('batch export is a real zip with one <name>.pem per key pair (fflate and unzip agree)', async () => {
    const res = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/private-key/batch-export',
      data: [{ keypair: { name: 'escrow-import' } }, { keypair: { name: 'escrow-gen' } }],
      axiosRequestConfig: { responseType: 'arraybuffer' },
    });
    assert.equal(res.constructor.name, 'SdkStreamResponse', 'the SDK sees application/zip');
    const zip = Buffer.from(res.body as ArrayBuffer);
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    const files = unzipSync(new Uint8Array(zip));
    assert.deepEqual(Object.keys(files).sort(), ['escrow-gen.pem', 'escrow-import.pem']);
    assert.equal(Buffer.from(files['escrow-import.pem']!).toString('utf8'), await exportKey('escrow-import'));
    assert.equal(Buffer.from(files['escrow-gen.pem']!).toString('utf8').trim(), (await exportKey('escrow-gen')).trim());

    const file = path.join(tempDir('kf-kps-zip-'), 'keypairs.zip');
    fs.writeFileSync(file, zip);
    const listing = (await promisify(execFile)('unzip', ['-l', file])).stdout;
    assert.match(listing, /escrow-import\.pem/);
    assert.match(listing, /2 files/);

    const missing = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/private-key/batch-export',
        data: [{ keypair: { name: 'escrow-import' } }, { keypair: { name: 'escrow-later' } }],
      }),
    );
    assert.equal(missing.errorCode, 'KPS.6005', 'all or nothing: a key pair without escrow fails the archive');
  });

  test('a live bind with the root password and unbind with the escrowed private key succeed', async () => {
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    await api.waitStatus([id!], 'Running');
    const bind = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'escrow-gen', server: { id, auth: { type: 'password', key: ROOT_PASSWORD } } },
    });
    assert.equal((await pollTask(kps, bind.task_id)).task_status, 'SUCCESS_RESET');
    const unbind = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/disassociate',
      data: { server: { id, auth: { type: 'keypair', key: await exportKey('escrow-gen') } } },
    });
    assert.equal((await pollTask(kps, unbind.task_id)).task_status, 'SUCCESS_UNBIND');
  });

  test('DisassociateKeypair without auth logs in with the escrowed private key (as Huawei does): the key stops working, the password works', async () => {
    const created = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'escrow-noauth', key_protection: { encryption: { type: 'default' } } } },
    });
    secrets.push({ privateKey: created.keypair.private_key, publicKey: created.keypair.public_key });
    const keyFile = await writePrivateKey(created.keypair.private_key);
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    await api.waitStatus([id!], 'Running');
    const inst = await api.instance(id!);
    const login = (auth: { identityFile?: string; password?: string }) =>
      sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo in', ...auth });
    const bind = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'escrow-noauth', server: { id, auth: { type: 'password', key: ROOT_PASSWORD } } },
    });
    assert.equal((await pollTask(kps, bind.task_id)).task_status, 'SUCCESS_RESET');
    assert.equal((await login({ identityFile: keyFile })).code, 0, 'bound: the key logs in');

    const unbind = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/disassociate',
      data: { server: { id } },
    });
    assert.equal((await pollTask(kps, unbind.task_id)).task_status, 'SUCCESS_UNBIND');
    assert.equal((await login({ identityFile: keyFile })).code, 255, 'unbound: the key is refused');
    assert.equal((await login({ password: ROOT_PASSWORD })).stdout.trim(), 'in', 'and password login is back');
    const { entries } = await api.call('GET', `/api/v1/audit?taskId=${unbind.task_id}`);
    const used = entries.find((e: any) => e.action === 'keypair:UseEscrowedPrivateKey');
    assert.ok(used, `the audit says the escrowed key was used: ${JSON.stringify(entries)}`);
    assert.equal(used.face, 'kps');
    assert.ok(used.resources.some((r: string) => r.endsWith('keypair/escrow-noauth')));
  });

  test('no private key or root password in the clear: not in keyfleet.db, its WAL, any data file, or the log', async () => {
    const db = path.join(dataDir, 'keyfleet.db');
    const files = listFiles(dataDir);
    assert.ok(files.includes(db), 'the store file exists');
    assert.ok(files.includes(`${db}-wal`), 'and its write-ahead log (read while keyfleet runs)');
    const store = Buffer.concat([fs.readFileSync(db), fs.readFileSync(`${db}-wal`)]).toString('latin1');
    assert.ok(store.includes('kf1.'), 'escrowed keys are stored sealed (envelope format kf1)');
    assert.ok(
      store.includes(clearPublicKey.split(' ')[1]!.slice(0, 60)),
      'sanity: the search does find text stored in the clear (a public key)',
    );

    const needles = [...secrets.flatMap(privateLines), ROOT_PASSWORD];
    assert.ok(needles.length > 20);
    for (const file of files) {
      const content = fs.readFileSync(file).toString('latin1');
      for (const needle of needles) {
        const at = content.indexOf(needle);
        assert.ok(
          at === -1,
          `${path.relative(dataDir, file)} holds a secret in the clear: ${needle === ROOT_PASSWORD ? 'root password' : 'private key line'} in …${JSON.stringify(content.slice(Math.max(0, at - 200), at))}`,
        );
      }
    }

    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const log = output();
    assert.ok(
      log.split('\n').length > 50 && /"msg":"request completed"/.test(log),
      'debug logging captured the requests',
    );
    for (const needle of needles) assert.ok(!log.includes(needle), 'the log holds a secret in the clear');
    for (const file of listFiles(dataDir)) {
      const content = fs.readFileSync(file).toString('latin1');
      for (const needle of needles)
        assert.ok(!content.includes(needle), `${path.relative(dataDir, file)} holds a secret after shutdown`);
    }
  });
});

/**
 * The base64 lines of a private key's body, each a secret on its own — except those that are also part of the
 * public key's base64 (an OpenSSH private key file embeds the public key), which may be stored in the clear.
 */
function privateLines({ privateKey, publicKey }: { privateKey: string; publicKey: string }): string[] {
  return privateKey.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----') && !publicKey.includes(l));
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}
