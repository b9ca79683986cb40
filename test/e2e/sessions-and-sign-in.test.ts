/**
 * Sessions and sign-in over HTTP (issue 18):
 * - a session opened with an access key stops working at once when the key is disabled or deleted;
 * - failed sign-ins are throttled: past five for one user the native face answers 429 with Retry-After (the right
 *   password included) and the KPS IAM token call 429 APIGW.0308; another user is not held up;
 * - a user that does not exist gets the same 401 as a wrong password;
 * - every answer carrying a token or a secret is Cache-Control: no-store.
 * The throttle's timing (waits, doubling, forgetting) is tested on a fake clock in test/core/sign-in-throttle.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, type Api, startInProcess } from '../support/keyfleet.js';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe('sessions and sign-in over HTTP', () => {
  let kf: Keyfleet;
  let api: Api;

  before(async () => {
    ({ kf, api } = await startInProcess());
    for (const name of ['carol', 'dave', 'erin', 'frank'])
      await api.call('POST', '/api/v1/users', { name, password: `${name}-Pass-0001A` });
  });
  after(async () => kf?.close());

  async function send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(kf.url + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  }
  const signIn = (body: Record<string, string>) => send('POST', '/api/v1/sessions', body);
  const whoami = (token: string) => send('GET', '/api/v1/whoami', undefined, { authorization: `Bearer ${token}` });

  function kpsToken(name: string, password: string) {
    return send('POST', '/v3/auth/tokens', {
      auth: {
        identity: { methods: ['password'], password: { user: { name, password, domain: { name: 'keyfleet' } } } },
        scope: { project: { name: 'cn-hangzhou' } },
      },
    });
  }

  test('a session opened with an access key ends when the key is disabled, and when it is deleted', async () => {
    for (const end of ['disable', 'delete'] as const) {
      const key = await api.call('POST', '/api/v1/users/erin/access-keys');
      const signed = await signIn({ accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret });
      assert.equal(signed.status, 201);
      assert.equal((await whoami(signed.body.token)).status, 200);
      if (end === 'disable') {
        await api.call('PATCH', `/api/v1/access-keys/${key.accessKeyId}`, { status: 'Inactive' });
        assert.equal((await whoami(signed.body.token)).status, 401, 'disabled: the session ends at once');
        await api.call('PATCH', `/api/v1/access-keys/${key.accessKeyId}`, { status: 'Active' });
        assert.equal((await whoami(signed.body.token)).status, 401, 'enabled again: the session stays ended');
      }
      await api.call('DELETE', `/api/v1/access-keys/${key.accessKeyId}`);
      assert.equal((await whoami(signed.body.token)).status, 401, `${end}: the session is gone`);
    }
  });

  test("a deleted user's sessions end at once", async () => {
    const signed = await signIn({ userName: 'frank', password: 'frank-Pass-0001A' });
    assert.equal((await whoami(signed.body.token)).status, 200);
    await api.call('DELETE', '/api/v1/users/frank');
    assert.equal((await whoami(signed.body.token)).status, 401);
  });

  test('native: past five wrong passwords the right one is refused 429 with Retry-After; another user signs in', async () => {
    for (let i = 0; i < 5; i++) {
      const wrong = await signIn({ userName: 'carol', password: `Wrong-Pass-${i}x` });
      assert.equal(wrong.status, 401, `wrong password ${i + 1}`);
    }
    const right = await signIn({ userName: 'carol', password: 'carol-Pass-0001A' });
    assert.equal(right.status, 429, JSON.stringify(right.body));
    assert.match(right.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.equal(right.body.token, undefined);
    const other = await signIn({ userName: 'erin', password: 'erin-Pass-0001A' });
    assert.equal(other.status, 201, 'the throttle is per user: erin is not held up by carol');
  });

  test('KPS: an IAM token past five wrong passwords is 429 APIGW.0308', async () => {
    for (let i = 0; i < 5; i++) {
      const wrong = await kpsToken('dave', `Wrong-Pass-${i}x`);
      assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    }
    const right = await kpsToken('dave', 'dave-Pass-0001A');
    assert.equal(right.status, 429, JSON.stringify(right.body));
    assert.equal(right.body.error_code, 'APIGW.0308');
    assert.equal(right.headers.get('x-subject-token'), null);
  });

  test('a user that does not exist gets the answer a wrong password gets', async () => {
    const missing = await signIn({ userName: 'nobody-at-all', password: 'Some-Pass-0001' });
    const wrong = await signIn({ userName: 'erin', password: 'Some-Pass-0001' });
    assert.equal(missing.status, 401);
    assert.deepEqual({ ...missing.body, requestId: null }, { ...wrong.body, requestId: null });
  });

  test('answers carrying a token or a secret are Cache-Control: no-store', async () => {
    const checks: Array<[string, Answer]> = [
      ['native sign-in', await signIn({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET })],
      ['native sign-in with a password', await signIn({ userName: 'erin', password: 'erin-Pass-0001A' })],
      ['KPS IAM token', await kpsToken('erin', 'erin-Pass-0001A')],
    ];
    const auth = { authorization: `Bearer ${api.token}` };
    const key = await send('POST', '/api/v1/users/erin/access-keys', undefined, auth);
    checks.push(['access key creation', key]);
    checks.push([
      'key pair creation',
      await send('POST', '/api/v1/regions/cn-hangzhou/key-pairs', { name: 'no-store-kp', type: 'ed25519' }, auth),
    ]);
    checks.push(['account creation', await send('POST', '/api/v1/accounts', { name: 'nostore' }, auth)]);
    for (const [what, answer] of checks) {
      assert.ok(answer.status < 300, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.headers.get('cache-control'), 'no-store', what);
    }
    await api.call('DELETE', `/api/v1/access-keys/${key.body.accessKeyId}`);
  });
});
