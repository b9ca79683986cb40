/**
 * Bad input gets a clear 4xx with a stable code and changes nothing. Each case snapshots the visible state
 * (key pairs, instances, tasks) before and after.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess, tempDir } from '../support/keyfleet.js';

const pexec = promisify(execFile);

describe('bad input is refused with a stable code and changes nothing', () => {
  let kf: Keyfleet;
  let api: Api;
  let instanceIds: string[];

  before(async () => {
    ({ kf, api } = await startInProcess({
      extra: { KEYFLEET_NATIVE_MAX_BATCH: '50', KEYFLEET_BODY_LIMIT_BYTES: '65536' },
    }));
    await api.createKeyPair('good-key', 'ed25519');
    instanceIds = await api.run({ imageId: LINUX_IMAGE, amount: 3 });
    await api.waitStatus(instanceIds, 'Running');
  });
  after(async () => kf?.close());

  async function snapshot() {
    const kps = await api.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs?limit=1000');
    const insts = await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?limit=1000');
    const tasks = await api.call('GET', '/api/v1/tasks?limit=1000');
    return JSON.stringify({
      kps,
      insts: insts.instances.map((i: any) => [i.id, i.status, i.keyPairName, i.pendingRestart]),
      tasks: tasks.total,
    });
  }

  async function refused(
    method: string,
    p: string,
    body: unknown,
    status: number,
    code: string,
    headers: Record<string, string> = {},
  ) {
    const before = await snapshot();
    const r = await api.raw(method, p, body, headers);
    assert.equal(r.status, status, `${method} ${p}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, code, JSON.stringify(r.body));
    assert.ok(typeof r.body.message === 'string' && r.body.message.length > 10, 'a message a person can act on');
    assert.ok(r.body.requestId, 'a request id');
    assert.equal(await snapshot(), before, 'nothing changed');
    return r.body;
  }

  const KP = '/api/v1/regions/cn-hangzhou/key-pairs';
  const BIND = '/api/v1/regions/cn-hangzhou/bindings';

  test('malformed and unsupported public keys', async () => {
    const dir = tempDir();
    await pexec('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', path.join(dir, 'weak')]);
    const weak = fs.readFileSync(path.join(dir, 'weak.pub'), 'utf8');
    assert.match(
      (await refused('POST', KP, { name: 'weak', publicKey: weak }, 400, 'PublicKey.TooWeak')).message,
      /2048/,
    );
    await refused('POST', KP, { name: 'junk', publicKey: 'ssh-rsa not-base64!!' }, 400, 'PublicKey.Malformed');
    await refused(
      'POST',
      KP,
      { name: 'dss', publicKey: 'ssh-dss AAAAB3NzaC1kc3MAAACBAP' },
      400,
      'PublicKey.UnsupportedType',
    );
    await refused(
      'POST',
      KP,
      { name: 'two', publicKey: 'ssh-ed25519 AAAA\nssh-ed25519 AAAA' },
      400,
      'PublicKey.Malformed',
    );
  });

  test('names: malformed, taken, unknown', async () => {
    await refused('POST', KP, { name: '-starts-with-dash', type: 'ed25519' }, 400, 'KeyPair.NameMalformed');
    await refused('POST', KP, { name: 'has space', type: 'ed25519' }, 400, 'KeyPair.NameMalformed');
    await refused('POST', KP, { name: 'good-key', type: 'ed25519' }, 409, 'KeyPair.AlreadyExists');
    await refused('GET', `${KP}/no-such-key`, undefined, 404, 'KeyPair.NotFound');
    await refused('DELETE', `${KP}/no-such-key`, undefined, 404, 'KeyPair.NotFound');
    await refused('POST', BIND, { action: 'bind', keyPairName: 'no-such-key', instanceIds }, 404, 'KeyPair.NotFound');
    await refused('POST', '/api/v1/regions/mars-1/key-pairs', { name: 'x1', type: 'ed25519' }, 404, 'Region.NotFound');
    await refused('POST', '/api/v1/instances/i-doesnotexist000000000/start', undefined, 404, 'Instance.NotFound');
  });

  test('batches: empty, over the limit, duplicates, malformed ids', async () => {
    await refused('POST', BIND, { action: 'bind', keyPairName: 'good-key', instanceIds: [] }, 400, 'Batch.Empty');
    const many = Array.from({ length: 51 }, (_, n) => `i-${String(n).padStart(20, '0')}`);
    assert.match(
      (
        await refused(
          'POST',
          BIND,
          { action: 'bind', keyPairName: 'good-key', instanceIds: many },
          400,
          'Batch.TooLarge',
        )
      ).message,
      /50/,
    );
    await refused(
      'POST',
      BIND,
      { action: 'bind', keyPairName: 'good-key', instanceIds: [instanceIds[0], instanceIds[0]] },
      400,
      'Batch.DuplicateIds',
    );
    await refused(
      'POST',
      BIND,
      { action: 'bind', keyPairName: 'good-key', instanceIds: [instanceIds[0], 42] },
      400,
      'Batch.Malformed',
    );
    await refused(
      'POST',
      BIND,
      { action: 'bind', keyPairName: 'good-key', instanceIds: ['has space'] },
      400,
      'Batch.Malformed',
    );
  });

  test('wrong types, unknown fields, bad JSON, oversized bodies, no session', async () => {
    await refused('POST', BIND, { action: 'bind', keyPairName: 'good-key', instanceIds: 'i-1' }, 400, 'Input.Invalid');
    await refused('POST', BIND, { action: 'explode', keyPairName: 'good-key', instanceIds }, 400, 'Input.Invalid');
    await refused('POST', KP, { name: 'x2', type: 'dsa' }, 400, 'Input.Invalid');
    await refused('POST', KP, { name: 'x3', bogus: true }, 400, 'Input.Invalid');
    await refused('POST', KP, '{"name": ', 400, 'Input.Invalid');
    await refused(
      'POST',
      '/api/v1/regions/cn-hangzhou/instances',
      { imageId: LINUX_IMAGE, amount: 'two' },
      400,
      'Input.Invalid',
    );
    await refused('POST', '/api/v1/regions/cn-hangzhou/instances', { imageId: 'no-such-image' }, 404, 'Image.NotFound');
    await refused(
      'POST',
      '/api/v1/regions/cn-hangzhou/instances',
      { imageId: LINUX_IMAGE, password: 'short' },
      400,
      'Instance.PasswordMalformed',
    );
    await refused('POST', KP, { name: 'big', publicKey: 'ssh-ed25519 ' + 'A'.repeat(70_000) }, 413, 'Input.TooLarge');
    const token = api.token;
    api.token = 'not-a-real-token-000000000000';
    try {
      const r = await api.raw('GET', KP);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'Auth.Unauthenticated');
    } finally {
      api.token = token;
    }
  });

  test('deleting a bound key pair is refused and says where it is bound', async () => {
    await api.bind({ action: 'bind', keyPairName: 'good-key', instanceIds: [instanceIds[0]] });
    const body = await refused('DELETE', `${KP}/good-key`, undefined, 409, 'KeyPair.InUse');
    assert.match(body.message, new RegExp(instanceIds[0]!));
    assert.deepEqual(body.details.instanceIds, [instanceIds[0]]);
  });

  test('instance state rules: starting a running instance, deleting a running one', async () => {
    await refused('POST', `/api/v1/instances/${instanceIds[1]}/start`, undefined, 409, 'Instance.IncorrectStatus');
    await refused('DELETE', `/api/v1/instances/${instanceIds[1]}`, undefined, 409, 'Instance.IncorrectStatus');
  });

  test('the OpenAPI document describes the routes', async () => {
    const doc = await api.call('GET', '/api/v1/openapi.json');
    assert.equal(doc.openapi, '3.0.3');
    assert.ok(doc.paths['/api/v1/regions/{regionId}/bindings'].post);
    assert.ok(doc.paths['/api/v1/regions/{regionId}/key-pairs'].post.requestBody);
  });
});
