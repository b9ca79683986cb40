/**
 * What a new user needs before the first bind, through the real CLI: instances created with a root password
 * (`--password-env`), bare ids for files and pipes (`--ids`), the images and instance types with the reason one
 * cannot take a key pair, and one default key type (Ed25519) in the CLI and the native API while ECS CreateKeyPair
 * keeps Alibaba's RSA. The live bind with that password is proven by an OpenSSH login with the new key.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  type Api,
  LINUX_IMAGE,
  startInProcess,
  tempDir,
  WINDOWS_IMAGE,
} from '../support/keyfleet.js';
import { sshRun } from '../support/openssh.js';
import { ecsSdkDriver } from '../ecs/support/ecs-clients.js';
import { cli } from './support/run-cli.js';

const ROOT_PW = 'Tour-Root-Pass-01';
let kf: Keyfleet;
let api: Api;
let env: Record<string, string>;
let sshPort: number;

before(async () => {
  const started = await startInProcess();
  ({ kf, api } = started);
  sshPort = Number(started.env.KEYFLEET_SIM_SSH_PORT);
  env = {
    KEYFLEET_ENDPOINT: kf.url,
    KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
    KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    ROOT_PW,
  };
});
after(async () => kf?.close());

describe('instances with a root password, bare ids', () => {
  test('run --password-env --wait --ids: ids one per line; root logs in with the password; a live bind with it works', async () => {
    const run = await cli(
      [
        'instances',
        'run',
        '--image',
        LINUX_IMAGE,
        '--amount',
        '2',
        '--name',
        'pw',
        '--password-env',
        'ROOT_PW',
        '--wait',
        '--ids',
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const ids = run.stdout.split('\n').filter(Boolean);
    assert.equal(ids.length, 2);
    assert.equal(run.stdout, `${ids.join('\n')}\n`, 'nothing but the ids');
    for (const id of ids) assert.match(id, /^i-[a-z0-9]+$/);
    const first = await api.instance(ids[0]!);
    assert.equal(first.status, 'Running', '--wait returned once it was Running');

    const login = await sshRun({ host: first.address, port: sshPort, password: ROOT_PW, command: 'whoami' });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'root\n');

    const pem = path.join(tempDir(), 'laptop.pem');
    assert.equal((await cli(['key-pairs', 'create', 'laptop', '--out', pem], env)).code, 0);
    const bind = await cli(['bind', ids[0]!, '--key-pair', 'laptop', '--live', '--password-env', 'ROOT_PW'], env);
    assert.equal(bind.code, 0, bind.stdout + bind.stderr);
    const ssh = (await cli(['instances', 'show', ids[0]!, '--ssh'], env)).stdout.trim();
    assert.equal(ssh, `-p ${sshPort} root@${first.address}`);
    const withKey = await sshRun({ host: first.address, port: sshPort, identityFile: pem, command: 'echo hello' });
    assert.equal(withKey.code, 0, withKey.stderr);
    assert.equal(withKey.stdout, 'hello\n');
    const passwordAfter = await sshRun({ host: first.address, port: sshPort, password: ROOT_PW, command: 'true' });
    assert.notEqual(passwordAfter.code, 0, 'password login is off while a key pair is bound');
  });

  test('instances ls --ids prints every matching id, nothing else; the table is for people', async () => {
    await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'listed' });
    const ids = await cli(['instances', 'ls', '--ids', '--search', 'listed'], env);
    assert.equal(ids.code, 0, ids.stderr);
    const all = (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?search=listed&limit=1000')).instances;
    assert.deepEqual(
      ids.stdout.split('\n').filter(Boolean),
      all.map((i: { id: string }) => i.id),
    );
    assert.equal(ids.stdout.split('\n').filter(Boolean).length, 3);
    const table = await cli(['instances', 'ls', '--search', 'listed'], env);
    assert.match(table.stdout, /3 instance\(s\)/);
  });
});

describe('images and instance types', () => {
  test('images ls lists every image, saying why a Windows image cannot take a key pair', async () => {
    const json = JSON.parse((await cli(['images', 'ls', '--json'], env)).stdout);
    const byId = new Map(json.images.map((i: any) => [i.id, i]));
    assert.equal((byId.get(LINUX_IMAGE) as any).keyPairRefusal, null);
    assert.match((byId.get(WINDOWS_IMAGE) as any).keyPairRefusal, /Windows/);
    const table = await cli(['images', 'ls'], env);
    assert.equal(table.code, 0, table.stderr);
    for (const image of json.images) assert.ok(table.stdout.includes(image.id), image.id);
    assert.match(table.stdout, new RegExp(`${WINDOWS_IMAGE.slice(0, 20)}.*no: Windows`));
    // The listing's rule is the one that refuses a bind.
    const [win] = await api.run({ imageId: WINDOWS_IMAGE });
    await api.createKeyPair('catalog');
    const refused = await api.raw('POST', '/api/v1/regions/cn-hangzhou/bindings', {
      action: 'bind',
      keyPairName: 'catalog',
      instanceIds: [win],
      wait: true,
    });
    assert.match(JSON.stringify(refused.body), /Instance\.WindowsNotSupported|WindowsNotSupported/);
  });

  test('instance-types ls lists every type, saying why a non-I/O-optimized one cannot take a key pair', async () => {
    const json = JSON.parse((await cli(['instance-types', 'ls', '--json'], env)).stdout);
    const refused = json.instanceTypes.filter((t: any) => t.keyPairRefusal !== null);
    assert.ok(refused.length >= 1);
    for (const t of json.instanceTypes) assert.equal(t.keyPairRefusal !== null, t.ioOptimized === false, t.id);
    const table = await cli(['instance-types', 'ls'], env);
    assert.equal(table.code, 0, table.stderr);
    for (const t of refused)
      assert.match(table.stdout, new RegExp(`${t.id.replace(/\./g, '\\.')}.*no: non-I/O-optimized`));
  });
});

describe('one default key type', () => {
  test('CLI and native API generate Ed25519 when no type is asked; ECS CreateKeyPair generates RSA', async () => {
    const pem = path.join(tempDir(), 'default.pem');
    assert.equal((await cli(['key-pairs', 'create', 'by-cli', '--out', pem], env)).code, 0);
    const native = await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', { name: 'by-native' });
    await ecsSdkDriver(kf.url, 'default').createKeyPair('cn-hangzhou', 'by-ecs');
    const algorithm = async (name: string) =>
      (await api.call('GET', `/api/v1/regions/cn-hangzhou/key-pairs/${name}`)).keyPair.algorithm;
    assert.equal(await algorithm('by-cli'), 'ssh-ed25519');
    assert.equal(native.keyPair.algorithm, 'ssh-ed25519');
    assert.equal(await algorithm('by-ecs'), 'ssh-rsa');
  });
});
