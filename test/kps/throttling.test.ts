/**
 * Throttling on the KPS face: with KEYFLEET_RATE_LIMIT=2 (requests per second per access key, bursts of twice
 * that), a burst of calls from the Huawei SDK past the limit is answered 429 with the gateway's APIGW.0308 and an
 * X-Request-Id the SDK reports; the calls within the burst succeed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { startInProcess } from '../support/keyfleet.js';
import { kpsWithAkSk, projectIdOf } from './support/huawei.js';

describe('KPS throttling (KEYFLEET_RATE_LIMIT=2)', () => {
  let kf: Keyfleet;
  let projectId: string;

  before(async () => {
    ({ kf } = await startInProcess({ extra: { KEYFLEET_RATE_LIMIT: '2' } }));
    projectId = await projectIdOf(kf.url);
  });
  after(async () => kf?.close());

  test('past the limit the SDK gets 429 APIGW.0308 with a request id', async () => {
    const kps = kpsWithAkSk(kf.url, { projectId });
    const list = () => kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs' });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () =>
        list().then(
          () => ({ ok: true as const }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
      ),
    );
    const ok = outcomes.filter((o) => o.ok).length;
    const refused = outcomes.filter((o) => !o.ok).map((o) => (o as { err: any }).err);
    // The bucket holds at most 2 x 2 tokens (one may have gone to the project lookup): some calls pass, the rest are throttled.
    assert.ok(ok >= 1 && ok <= 5, `calls within the burst: ${ok}`);
    assert.ok(refused.length >= 7, `throttled calls: ${refused.length}`);
    for (const e of refused) {
      assert.equal(
        e.httpStatusCode,
        429,
        JSON.stringify({ status: e.httpStatusCode, code: e.errorCode, msg: e.errorMsg }),
      );
      assert.equal(e.errorCode, 'APIGW.0308');
      assert.match(String(e.requestId ?? ''), /\S{8,}/, 'the SDK reports the X-Request-Id');
    }
    assert.equal(new Set(refused.map((e) => e.requestId)).size, refused.length, 'each refusal has its own request id');
  });
});
