/**
 * What the router refuses before any face sees the request (a malformed percent-escape in the path, a path segment
 * over 100 characters) is answered in the envelope of the face that owns the path, as a 400 with a coded error,
 * never in Fastify's own format (found by the fuzz suite: no SDK parses that).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { startInProcess } from '../support/keyfleet.js';

const LONG = 'x'.repeat(101);

describe('router refusals in each face envelope', () => {
  let kf: Keyfleet;
  before(async () => {
    ({ kf } = await startInProcess());
  });
  after(() => kf?.close());

  const cases = [
    { face: 'native', url: `/api/v1/regions/${LONG}/key-pairs` },
    { face: 'native', url: '/api/v1/regions/%E0%A4%A/key-pairs' },
    { face: 'kps', url: `/v3/${LONG}/keypairs` },
    { face: 'kps', url: '/v3/%E0%A4%A/keypairs' },
    { face: 'nova', url: `/v2.1/${LONG}/os-keypairs` },
    { face: 'ecs', url: '/%E0%A4%A' },
  ] as const;

  for (const c of cases) {
    test(`${c.face}: GET ${c.url.slice(0, 40)}…`, async () => {
      const res = await kf.app.inject({ method: 'GET', url: c.url });
      assert.equal(res.statusCode, 400, res.body);
      const body = res.json();
      assert.equal(body.code === 'FST_ERR_BAD_URL' || body.code === 'FST_ERR_MAX_PARAM_LENGTH', false, res.body);
      if (c.face === 'native') {
        assert.equal(body.code, 'Input.Invalid');
        assert.match(body.requestId, /^[0-9A-F-]{36}$/);
      } else if (c.face === 'ecs') {
        assert.equal(typeof body.Code, 'string');
        assert.equal(body.RequestId, res.headers['x-acs-request-id']);
      } else {
        // KPS v3 and Nova: Huawei's envelope (error_code/error_msg), with the request id header.
        assert.equal(body.error_code, 'KPS.0002', res.body);
        assert.ok(res.headers['x-request-id'], 'X-Request-Id is set');
      }
    });
  }
});
