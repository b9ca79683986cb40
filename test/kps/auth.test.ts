/**
 * Authentication and isolation at the HTTP level, with hand-signed requests (test/support/kps-signer.ts) so that
 * each one can be bent: tampered body, expired or skewed date, unknown AK, Go-SDK header choice, unsigned payload,
 * wrong or unscoped token, another account's project, X-Project-Id that disagrees with the path. Every answer,
 * refusals included, carries X-Request-Id; gateway refusals repeat it as `request_id`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { signRequest } from '../support/kps-signer.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_PASSWORD, type Api, startInProcess } from '../support/keyfleet.js';
import { iamToken, projectIdOf } from './support/huawei.js';

const OTHER_AK = 'OTHERtestAccessKey0001';
const OTHER_SK = 'otherSecretForLoopbackOnly0001';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

describe('KPS authentication, project isolation and X-Request-Id', () => {
  let kf: Keyfleet;
  let api: Api;
  let host: string;
  let project: string;
  const requestIds = new Set<string>();
  let answers = 0;

  before(async () => {
    ({ kf, api } = await startInProcess());
    host = new URL(kf.url).host;
    project = await projectIdOf(kf.url);
  });
  after(async () => {
    await kf?.close();
  });

  /** Sends exactly these bytes; checks that the answer has a request id, and that it is new. */
  function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request(kf.url + path, { method, headers, setHost: !('host' in headers) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const id = res.headers['x-request-id'];
          assert.ok(typeof id === 'string' && id.length > 0, `${method} ${path} → ${res.statusCode} has X-Request-Id`);
          assert.ok(!requestIds.has(id), 'request ids are unique');
          requestIds.add(id);
          answers++;
          resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A request signed as the Node SDK signs it (content-type, host, x-project-id, x-sdk-date), then optionally bent. */
  function signed(
    method: string,
    path: string,
    opts: {
      body?: string;
      query?: string;
      date?: Date;
      ak?: string;
      sk?: string;
      projectHeader?: string;
      sendBody?: string;
      signedHeaders?: string[];
      extra?: Record<string, string>;
    } = {},
  ) {
    const headers: Record<string, string> = { 'content-type': 'application/json', host, ...opts.extra };
    if (opts.projectHeader !== undefined) headers['x-project-id'] = opts.projectHeader;
    const s = signRequest({
      method,
      rawPath: path,
      rawQuery: opts.query ?? '',
      headers,
      body: opts.body,
      accessKeyId: opts.ak ?? ACCESS_KEY_ID,
      secretKey: opts.sk ?? ACCESS_KEY_SECRET,
      date: opts.date,
      signedHeaders: opts.signedHeaders,
    });
    return send(method, path + (opts.query ? `?${opts.query}` : ''), s.request.headers, opts.sendBody ?? opts.body);
  }

  const keypairs = () => `/v3/${project}/keypairs`;

  function assertGateway(r: Answer, status: number, code: string, message: RegExp) {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error_code, code);
    assert.match(r.body.error_msg, message);
    assert.equal(r.body.request_id, r.headers['x-request-id'], 'gateway errors repeat the request id in the body');
  }

  test("a correctly signed request passes, with the Node SDK's or the Go SDK's choice of signed headers", async () => {
    const node = await signed('GET', keypairs(), { projectHeader: project, query: 'limit=10' });
    assert.equal(node.status, 200, JSON.stringify(node.body));
    assert.deepEqual(node.body.keypairs, []);
    const go = await signed('GET', keypairs(), {
      projectHeader: project,
      extra: { 'user-agent': 'huaweicloud-usdk-go/3.0' },
      signedHeaders: ['user-agent', 'x-project-id', 'x-sdk-date'],
    });
    assert.equal(go.status, 200, JSON.stringify(go.body));
  });

  test('tampered body, expired date, unknown AK, missing signature, unsigned payload → APIGW.0301', async () => {
    const body = JSON.stringify({ keypair: { name: 'tamper-a' } });
    const tampered = await signed('POST', keypairs(), {
      projectHeader: project,
      body,
      sendBody: JSON.stringify({ keypair: { name: 'tamper-b' } }),
    });
    assertGateway(tampered, 401, 'APIGW.0301', /verify aksk signature fail/);

    const old = await signed('GET', keypairs(), { projectHeader: project, date: new Date(Date.now() - 16 * 60_000) });
    assertGateway(old, 401, 'APIGW.0301', /signature expired/);
    const future = await signed('GET', keypairs(), {
      projectHeader: project,
      date: new Date(Date.now() + 16 * 60_000),
    });
    assertGateway(future, 401, 'APIGW.0301', /signature expired/);
    const skewed = await signed('GET', keypairs(), {
      projectHeader: project,
      date: new Date(Date.now() - 14 * 60_000),
    });
    assert.equal(skewed.status, 200, '14 minutes of skew is accepted');

    const unknown = await signed('GET', keypairs(), { projectHeader: project, ak: 'UNKNOWNaccessKey0001' });
    assertGateway(unknown, 401, 'APIGW.0301', /ak not exist/);
    const wrongSecret = await signed('GET', keypairs(), { projectHeader: project, sk: 'not-the-secret' });
    assertGateway(wrongSecret, 401, 'APIGW.0301', /verify aksk signature fail/);

    assertGateway(
      await send('GET', keypairs(), { 'content-type': 'application/json' }),
      401,
      'APIGW.0301',
      /Authorization header is missing/,
    );

    const unsignedPayload = await signed('POST', keypairs(), {
      projectHeader: project,
      body,
      extra: { 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assertGateway(unsignedPayload, 401, 'APIGW.0301', /must be signed/);
    const names = (await signed('GET', keypairs(), { projectHeader: project })).body.keypairs.map(
      (k: any) => k.keypair.name,
    );
    assert.deepEqual(names, [], 'none of the refused requests created anything');
  });

  test('tokens: a wrong password is refused; an invalid token is refused; an unscoped session token is not a project token', async () => {
    const wrong = await send(
      'POST',
      '/v3/auth/tokens',
      { 'content-type': 'application/json' },
      JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', password: 'not-it', domain: { name: 'keyfleet' } } },
          },
          scope: { project: { name: 'cn-hangzhou' } },
        },
      }),
    );
    assertGateway(wrong, 401, 'APIGW.0301', /user name or password/);
    assert.equal(wrong.headers['x-subject-token'], undefined);

    const byId = await send(
      'POST',
      '/v3/auth/tokens',
      { 'content-type': 'application/json' },
      JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', password: ADMIN_PASSWORD, domain: { name: 'keyfleet' } } },
          },
          scope: { project: { id: project } },
        },
      }),
    );
    assert.equal(byId.status, 201, JSON.stringify(byId.body));
    assert.equal(byId.body.token.project.name, 'cn-hangzhou', 'a scope by project id resolves to its region');
    const token = byId.headers['x-subject-token'] as string;
    assert.equal((await send('GET', keypairs(), { 'x-auth-token': token })).status, 200);

    assertGateway(
      await send('GET', keypairs(), { 'x-auth-token': 'x'.repeat(43) }),
      401,
      'APIGW.0301',
      /token is invalid/,
    );
    const unscoped = await send('GET', keypairs(), { 'x-auth-token': api.token! });
    assert.equal(unscoped.status, 403);
    assert.equal(unscoped.body.error_code, 'KPS.9003');
    assert.match(unscoped.body.error_msg, /not scoped to a project/);
  });

  test("another account's project answers exactly like a project that does not exist; X-Project-Id must match the path", async () => {
    await kf.core.accounts.bootstrap({
      accountName: 'other',
      adminName: 'admin',
      accessKeyId: OTHER_AK,
      accessKeySecret: OTHER_SK,
    });
    const list = await signed('GET', '/v3/projects', { query: 'name=cn-hangzhou', ak: OTHER_AK, sk: OTHER_SK });
    const otherProject = list.body.projects[0].id as string;
    assert.notEqual(otherProject, project);
    const created = await signed('POST', `/v3/${otherProject}/keypairs`, {
      ak: OTHER_AK,
      sk: OTHER_SK,
      projectHeader: otherProject,
      body: JSON.stringify({ keypair: { name: 'others-key' } }),
    });
    assert.equal(created.status, 200);

    const foreign = await signed('GET', `/v3/${otherProject}/keypairs/others-key`, { projectHeader: otherProject });
    const madeUp = 'f'.repeat(32);
    const none = await signed('GET', `/v3/${madeUp}/keypairs/others-key`, { projectHeader: madeUp });
    assert.equal(foreign.status, none.status);
    assert.equal(foreign.body.error_code, none.body.error_code);
    assert.equal(foreign.body.error_msg.replace(otherProject, '<id>'), none.body.error_msg.replace(madeUp, '<id>'));
    assert.deepEqual([foreign.status, foreign.body.error_code], [403, 'KPS.9003']);
    assert.ok(!JSON.stringify(foreign.body).includes("others-key'"), "nothing about the other account's key pair");
    assert.deepEqual(
      (await signed('GET', keypairs(), { projectHeader: project })).body.keypairs,
      [],
      'and its key pair is not in ours',
    );

    const mismatch = await signed('GET', keypairs(), { projectHeader: await projectIdOf(kf.url, 'cn-shanghai') });
    assert.equal(mismatch.status, 403);
    assert.match(mismatch.body.error_msg, /does not match the project/);

    const { token } = await iamToken(kf.url, { region: 'cn-shanghai' });
    const elsewhere = await send('GET', keypairs(), { 'x-auth-token': token });
    assert.equal(elsewhere.status, 403);
    assert.match(elsewhere.body.error_msg, /scoped to project '[0-9a-f]{32}' \(cn-shanghai\)/);
  });

  test('bad input after authentication is KPS.0002; an unknown route is APIGW.0101; both carry X-Request-Id', async () => {
    const notJson = await signed('POST', keypairs(), { projectHeader: project, body: '{"keypair":' });
    assert.deepEqual([notJson.status, notJson.body.error_code], [400, 'KPS.0002']);
    assert.match(notJson.body.error_msg, /not valid JSON/);
    const anonymousNotJson = await send('POST', keypairs(), { 'content-type': 'application/json' }, '{"keypair":');
    assert.equal(anonymousNotJson.status, 401, 'an unauthenticated caller learns nothing about the body');

    const badName = await signed('POST', keypairs(), {
      projectHeader: project,
      body: JSON.stringify({ keypair: { name: 'has.dot' } }),
    });
    assert.deepEqual([badName.status, badName.body.error_code], [400, 'KPS.0002']);
    assert.match(badName.body.error_msg, /keypair\/name/);
    assert.equal(badName.body.request_id, undefined, 'KPS errors are the two-field body');

    const route = await signed('GET', `/v3/${project}/no-such-thing`, { projectHeader: project });
    assertGateway(route, 404, 'APIGW.0101', /does not exist/);
    const badTask = await signed('GET', `/v3/${project}/tasks/not-a-uuid`, { projectHeader: project });
    assert.deepEqual([badTask.status, badTask.body.error_code], [400, 'KPS.0001']);
    assert.ok(answers >= 25, `every one of the ${answers} answers carried a distinct X-Request-Id`);
  });
});
