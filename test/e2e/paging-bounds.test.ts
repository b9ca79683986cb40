/**
 * Paging values on every face (issue 18): an offset, limit, marker page, page number or page size that is not a
 * non-negative whole number within the list's maximum gets the face's 4xx, never a 500. 'Infinity' and '1e309'
 * used to slip past the schema bounds (ajv's coercion) and reach the store as Infinity: HTTP 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ADMIN_PASSWORD, type Api, startInProcess } from '../support/keyfleet.js';
import { ecsCall } from '../ecs/support/raw-ecs.js';

const BAD = ['Infinity', '-Infinity', '1e309', '1e30', '9007199254740993', '-1', '1.5', 'NaN', 'abc'];

describe('paging values out of bounds are a 4xx on every face', () => {
  let kf: Keyfleet;
  let api: Api;
  let kpsToken: string;
  let projectId: string;

  before(async () => {
    ({ kf, api } = await startInProcess());
    const res = await fetch(`${kf.url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', password: ADMIN_PASSWORD, domain: { name: 'keyfleet' } } },
          },
          scope: { project: { name: 'cn-hangzhou' } },
        },
      }),
    });
    assert.equal(res.status, 201);
    kpsToken = res.headers.get('x-subject-token')!;
    projectId = (await res.json()).token.project.id;
  });
  after(async () => kf?.close());

  test('native: lists, task items, audit and its export', async () => {
    const lists = [
      '/api/v1/regions/cn-hangzhou/key-pairs',
      '/api/v1/regions/cn-hangzhou/instances',
      '/api/v1/tasks',
      '/api/v1/tasks/t-none/items',
      '/api/v1/audit',
      '/api/v1/audit/export',
    ];
    for (const path of lists) {
      for (const param of ['offset', 'limit']) {
        for (const value of [...BAD, ...(param === 'limit' ? ['0', '10001'] : ['10000001'])]) {
          const r = await api.raw('GET', `${path}?${param}=${encodeURIComponent(value)}`);
          assert.equal(r.status, 400, `${path} ${param}=${value}: ${r.status} ${JSON.stringify(r.body)}`);
          assert.equal(r.body.code, 'Input.Invalid', `${path} ${param}=${value}`);
        }
      }
      assert.equal((await api.raw('GET', `${path}?offset=0&limit=1`)).status === 400, false, `${path}: a sane page`);
    }
  });

  test('KPS: running and failed tasks (offset, limit), key pairs and Nova key pairs (limit)', async () => {
    const paths = [
      [`/v3/${projectId}/running-tasks`, ['offset', 'limit']],
      [`/v3/${projectId}/failed-tasks`, ['offset', 'limit']],
      [`/v3/${projectId}/keypairs`, ['limit']],
      [`/v2.1/${projectId}/os-keypairs`, ['limit']],
    ] as const;
    for (const [path, params] of paths) {
      for (const param of params) {
        for (const value of BAD) {
          const res = await fetch(`${kf.url}${path}?${param}=${encodeURIComponent(value)}`, {
            headers: { 'x-auth-token': kpsToken },
          });
          const text = await res.text();
          assert.equal(res.status, 400, `${path} ${param}=${value}: ${res.status} ${text}`);
        }
      }
      const sane = await fetch(`${kf.url}${path}?limit=1`, { headers: { 'x-auth-token': kpsToken } });
      assert.equal(sane.status, 200, `${path}: a sane page`);
    }
  });

  test('ECS: PageNumber, PageSize, MaxResults and NextToken', async () => {
    const calls: Array<[string, string]> = [
      ['DescribeKeyPairs', 'PageNumber'],
      ['DescribeKeyPairs', 'PageSize'],
      ['DescribeInstances', 'PageNumber'],
      ['DescribeInstances', 'PageSize'],
      ['DescribeInstances', 'MaxResults'],
      ['DescribeInstances', 'NextToken'],
      ['DescribeImages', 'PageNumber'],
      ['DescribeImages', 'PageSize'],
    ];
    for (const [action, param] of calls) {
      for (const value of BAD) {
        const r = await ecsCall(kf.url, { action, params: { RegionId: 'cn-hangzhou', [param]: value } });
        assert.equal(r.status, 400, `${action} ${param}=${value}: ${r.status} ${r.text}`);
        assert.match(String(r.body?.Code), /^Invalid/, `${action} ${param}=${value}: ${r.text}`);
      }
    }
  });
});
