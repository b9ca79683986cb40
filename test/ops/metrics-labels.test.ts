/**
 * The face and action labels of a request (src/api/http/request-labels.ts): the face from the path, an ECS Action
 * from wherever the SDKs put it (x-acs-action, the query string, a form body) and only if the face serves it, the
 * route pattern for the other faces. Labels come from bounded sets whatever the request says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { actionOf, faceOfPath, pathOf } from '../../src/api/http/request-labels.js';

const KNOWN = new Set(['DescribeKeyPairs', 'ModifyInstanceAttribute']);

function req(r: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  route?: string;
  is404?: boolean;
}): FastifyRequest {
  return {
    url: r.url,
    method: r.method ?? 'GET',
    headers: r.headers ?? {},
    body: r.body,
    routeOptions: { url: r.route },
    is404: r.is404 ?? false,
  } as unknown as FastifyRequest;
}

test('the face comes from the path', () => {
  assert.equal(faceOfPath('/'), 'ecs');
  assert.equal(faceOfPath('/api/v1/regions/cn-hangzhou/key-pairs'), 'native');
  assert.equal(faceOfPath('/v3/abc/keypairs'), 'kps');
  assert.equal(faceOfPath('/v2.1/abc/os-keypairs'), 'kps');
  assert.equal(faceOfPath('/v2/abc/os-keypairs'), 'kps');
  assert.equal(faceOfPath('/console/instances'), 'console');
  assert.equal(faceOfPath('/metrics'), 'other');
  assert.equal(faceOfPath('/v30/x'), 'other');
  assert.equal(faceOfPath('/api/v10'), 'other');
  assert.equal(pathOf('/?Action=ModifyInstanceAttribute&Password=x'), '/');
});

test('an ECS action from the header, the query or a form body; unknown names are one label', () => {
  const ecs = (r: Parameters<typeof req>[0]) => actionOf(req(r), 'ecs', KNOWN);
  assert.equal(ecs({ url: '/', headers: { 'x-acs-action': 'DescribeKeyPairs' } }), 'DescribeKeyPairs');
  assert.equal(ecs({ url: '/?Format=JSON&Action=DescribeKeyPairs&RegionId=x' }), 'DescribeKeyPairs');
  assert.equal(ecs({ url: '/?Action=ModifyInstanceAttribute&Password=secret' }), 'ModifyInstanceAttribute');
  assert.equal(
    ecs({ url: '/', method: 'POST', body: Buffer.from('AccessKeyId=a&Action=DescribeKeyPairs&Version=2014-05-26') }),
    'DescribeKeyPairs',
  );
  assert.equal(ecs({ url: '/?Action=RunEverything' }), 'unknown');
  assert.equal(ecs({ url: '/', headers: { 'x-acs-action': 'x'.repeat(5000) } }), 'unknown');
  assert.equal(ecs({ url: '/?RegionId=x' }), 'none');
  assert.equal(ecs({ url: '/' }), 'none');
  // A near miss is not taken: the parameter must be Action exactly.
  assert.equal(ecs({ url: '/?XAction=DescribeKeyPairs' }), 'none');
});

test('the other faces name the route pattern, with {params}; a 404 is unmatched', () => {
  assert.equal(
    actionOf(req({ url: '/v3/p1/keypairs', route: '/v3/:project_id/keypairs' }), 'kps', KNOWN),
    'GET /v3/{project_id}/keypairs',
  );
  assert.equal(
    actionOf(
      req({
        url: '/api/v1/regions/cn-hangzhou/key-pairs/k1',
        method: 'DELETE',
        route: '/api/v1/regions/:regionId/key-pairs/:name',
      }),
      'native',
      KNOWN,
    ),
    'DELETE /api/v1/regions/{regionId}/key-pairs/{name}',
  );
  assert.equal(actionOf(req({ url: '/nope', route: '/*', is404: true }), 'other', KNOWN), 'unmatched');
  assert.equal(actionOf(req({ url: '/nope' }), 'other', KNOWN), 'unmatched');
});
