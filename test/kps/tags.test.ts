/**
 * Huawei KPS key pair tags through the official Huawei SDK's core client (issue 20), with the operations as the
 * KPS reference defines them: add one tag, add and delete in batches, list a key pair's tags, delete one, list the
 * project's tag keys with their values. The same tags are seen through the native API (one store for every face),
 * an unknown key pair is KPS.6004, and a tag that breaks the rule is refused with nothing changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { type Kps, kpsWithAkSk, REGION, sdkError } from './support/huawei.js';

describe('Huawei KPS key pair tags (official SDK)', () => {
  let kf: Keyfleet;
  let api: Api;
  let kps: Kps;

  before(async () => {
    ({ kf, api } = await startInProcess());
    kps = kpsWithAkSk(kf.url);
    for (const name of ['hw-web', 'hw-db'])
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name } } });
  });
  after(async () => kf?.close());

  const tagsOf = async (name: string) =>
    (
      await kps.call({
        method: 'GET',
        url: '/v3/{project_id}/keypairs/{resource_id}/tags',
        pathParams: { resource_id: name },
      })
    ).tags as Array<{ key: string; value: string }>;

  test('add one, add in a batch, list, delete one, delete in a batch', async () => {
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/{resource_id}/tags',
      pathParams: { resource_id: 'hw-web' },
      data: { tag: { key: 'env', value: 'prod' } },
    });
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
      pathParams: { resource_id: 'hw-web' },
      data: {
        tags: [
          { key: 'team', value: 'web' },
          { key: 'tier', value: 'front' },
        ],
      },
    });
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
      pathParams: { resource_id: 'hw-db' },
      data: { tags: [{ key: 'env', value: 'staging' }] },
    });
    assert.deepEqual(await tagsOf('hw-web'), [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'web' },
      { key: 'tier', value: 'front' },
    ]);
    const native = await api.call('GET', `/api/v1/regions/${REGION}/key-pairs/hw-web`);
    assert.equal(native.keyPair.tags.length, 3, 'the native API sees the tags KPS wrote');

    const project = await kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs/tags' });
    assert.deepEqual(project.tags, [
      { key: 'env', values: ['prod', 'staging'] },
      { key: 'team', values: ['web'] },
      { key: 'tier', values: ['front'] },
    ]);

    await kps.call({
      method: 'DELETE',
      url: '/v3/{project_id}/keypairs/{resource_id}/tags/{key}',
      pathParams: { resource_id: 'hw-web', key: 'tier' },
    });
    await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/{resource_id}/tags/delete',
      pathParams: { resource_id: 'hw-web' },
      data: { tags: [{ key: 'team', value: 'web' }] },
    });
    assert.deepEqual(await tagsOf('hw-web'), [{ key: 'env', value: 'prod' }]);
  });

  test('an unknown key pair is KPS.6004; a tag that breaks the rule is refused with nothing changed', async () => {
    const unknown = await sdkError(tagsOf('no-such-key-pair'));
    assert.equal(unknown.errorCode, 'KPS.6004');
    const before = await tagsOf('hw-db');
    const reserved = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
        pathParams: { resource_id: 'hw-db' },
        data: {
          tags: [
            { key: 'ok', value: 'v' },
            { key: 'aliyun-reserved', value: 'v' },
          ],
        },
      }),
    );
    assert.equal(reserved.httpStatusCode, 400);
    assert.equal(reserved.errorCode, 'KPS.0002');
    const tooMany = await sdkError(
      kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
        pathParams: { resource_id: 'hw-db' },
        data: { tags: Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: 'v' })) },
      }),
    );
    assert.equal(tooMany.errorCode, 'KPS.0002', 'the 21st tag of a key pair');
    assert.deepEqual(await tagsOf('hw-db'), before);
  });
});
