/**
 * The protocol pieces of the ECS face on their own: Alibaba's key pair name rules, the parameter shapes
 * (JSON-array lists, Tag.N, booleans, integers) and what `/` answers before any signature is read.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildHttpServer } from '../../src/api/http/server.js';
import { EcsError } from '../../src/api/ecs/errors.js';
import { checkCreateKeyPairName, checkImportKeyPairName } from '../../src/api/ecs/key-pair-names.js';
import { Params } from '../../src/api/ecs/params.js';
import { ecsApiPlugin } from '../../src/api/ecs/plugin.js';
import type { Core } from '../../src/core/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof EcsError ? e.code : `not an EcsError: ${String(e)}`;
  }
}

const params = (values: Record<string, string>) =>
  new Params(Object.assign(Object.create(null) as Record<string, string>, values));

describe('Alibaba key pair names (API.md §2)', () => {
  test('CreateKeyPair: 2-128, a letter first, then letters, digits, : _ -', () => {
    for (const ok of ['ab', 'web-key_1:prod', '密钥a', 'a'.repeat(128)])
      assert.equal(
        codeOf(() => checkCreateKeyPairName(ok)),
        undefined,
        ok,
      );
    for (const bad of ['a', '1abc', '_abc', 'a.b', 'a b', 'a/b', 'https://x', 'a'.repeat(129)])
      assert.equal(
        codeOf(() => checkCreateKeyPairName(bad)),
        'InvalidKeyPairName.Malformed',
        bad,
      );
  });
  test("ImportKeyPair also allows '.'", () => {
    assert.equal(
      codeOf(() => checkImportKeyPairName('laptop.ed25519')),
      undefined,
    );
    for (const bad of ['.a', '1a', 'a/b', 'http://x'])
      assert.equal(
        codeOf(() => checkImportKeyPairName(bad)),
        'InvalidKeyPairName.Malformed',
        bad,
      );
  });
});

describe('RPC parameters', () => {
  test('required, optional: an empty value counts as absent; inherited names are not parameters', () => {
    const p = params({ RegionId: 'cn-hangzhou', KeyPairName: '' });
    assert.equal(p.required('RegionId'), 'cn-hangzhou');
    assert.equal(p.optional('KeyPairName'), undefined);
    assert.equal(
      codeOf(() => p.required('KeyPairName')),
      'MissingParameter',
    );
    assert.equal(p.optional('toString'), undefined);
  });
  test('integers and booleans in wire form', () => {
    const p = params({ PageSize: '50', PageNumber: '-1', Big: '1e3', DryRun: 'TRUE', Force: 'yes' });
    assert.equal(p.integer('PageSize', { min: 1, max: 50 }, 10), 50);
    assert.equal(p.integer('Missing', { min: 1, max: 50 }, 10), 10);
    assert.equal(
      codeOf(() => p.integer('PageNumber', { min: 1, max: 9 })),
      'InvalidParameter',
    );
    assert.equal(
      codeOf(() => p.integer('Big', { min: 1, max: 9999 })),
      'InvalidParameter',
    );
    assert.equal(p.boolean('DryRun', false), true);
    assert.equal(
      codeOf(() => p.boolean('Force', false)),
      'InvalidParameter',
    );
  });
  test('JSON-array lists are parsed, not judged', () => {
    const notArray = () => new EcsError(400, 'X.NotArray', 'x');
    assert.deepEqual(params({ InstanceIds: '["i-a","i-a",1]' }).jsonArray('InstanceIds', notArray), ['i-a', 'i-a', 1]);
    for (const raw of ['i-a,i-b', '"i-a"', '{"a":1}'])
      assert.equal(
        codeOf(() => params({ InstanceIds: raw }).jsonArray('InstanceIds', notArray)),
        'X.NotArray',
        raw,
      );
  });
  test('Tag.N in N order; filters need a key per value and at most 20', () => {
    const p = params({ 'Tag.2.Key': 'b', 'Tag.2.Value': '', 'Tag.1.Key': 'a', 'Tag.1.Value': '1', 'Tag.10.Key': 'c' });
    assert.deepEqual(p.tagsToSet(), [
      { key: 'a', value: '1' },
      { key: 'b', value: '' },
      { key: 'c', value: '' },
    ]);
    assert.deepEqual(p.tagFilters(), [
      { key: 'a', value: '1' },
      { key: 'b', value: '' },
      { key: 'c', value: '' },
    ]);
    assert.equal(
      codeOf(() => params({ 'Tag.1.Value': 'x' }).tagFilters()),
      'InvalidTag.Mismatch',
    );
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`Tag.${i + 1}.Key`, `k${i}`]));
    assert.equal(
      codeOf(() => params(many).tagFilters()),
      'InvalidTagCount',
    );
    assert.deepEqual(
      params({ 'Tag.1.Value': 'x' }).tagsToSet(),
      [{ key: '', value: 'x' }],
      'left to the core, which answers InvalidTagKey.Malformed',
    );
  });
});

describe('what / answers before any signature', () => {
  async function face() {
    const app = buildHttpServer({ bodyLimitBytes: 1024, logLevel: 'silent' });
    // Nothing below reaches the core: a browser visit, a wrong method, a body that is too large.
    await app.register(ecsApiPlugin, { core: {} as Core });
    await app.ready();
    return app;
  }

  test('a browser visiting / is sent to the console', async () => {
    const app = await face();
    const res = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.deepEqual([res.statusCode, res.headers.location], [302, '/console']);
    const api = await app.inject({ method: 'GET', url: '/?Action=DescribeRegions', headers: { accept: 'text/html' } });
    assert.equal(api.statusCode, 400, 'with an Action it is an API call');
    assert.equal(api.json().Code, 'MissingParameter');
    await app.close();
  });

  test('other methods are UnsupportedHTTPMethod; an oversized body gets the ECS envelope', async () => {
    const app = await face();
    const patch = await app.inject({ method: 'PATCH', url: '/' });
    assert.deepEqual([patch.statusCode, patch.json().Code], [403, 'UnsupportedHTTPMethod']);
    const big = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `Action=DescribeRegions&Pad=${'x'.repeat(2048)}`,
    });
    assert.equal(big.statusCode, 400);
    assert.deepEqual(Object.keys(big.json()), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    assert.equal(big.headers['content-type'], 'application/json;charset=utf-8');
    await app.close();
  });
});
