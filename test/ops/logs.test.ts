/**
 * Structured logs (issue 21): keyfleet runs as a user runs it (a child process, info level); every line its logger
 * writes is JSON, and each answered request has exactly one line carrying the request id the answer carries (ECS
 * RequestId, KPS X-Request-Id, native x-request-id and the error body's requestId), the account and user it acted
 * for (none for a refused request), the face and the action.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { signRpcV1 } from '../support/ecs-signer.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, sleep, startChild, testEnv } from '../support/keyfleet.js';
import { signRequest } from '../support/kps-signer.js';

const REGION = 'cn-hangzhou';
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

type Line = Record<string, unknown>;

function ecsRequest(url: string, action: string, secret: string): Promise<Response> {
  const s = signRpcV1({ accessKeyId: ACCESS_KEY_ID, secret, action, params: { RegionId: REGION } });
  const { host: _host, ...headers } = s.headers;
  return fetch(url + s.url, { method: s.method, headers });
}

function kpsRequest(url: string, path: string, rawQuery = ''): Promise<Response> {
  const s = signRequest({
    method: 'GET',
    rawPath: path,
    rawQuery,
    headers: { 'content-type': 'application/json' },
    accessKeyId: ACCESS_KEY_ID,
    secretKey: ACCESS_KEY_SECRET,
    signedHeaders: ['content-type', 'x-sdk-date'],
  });
  const { host: _host, ...headers } = s.request.headers;
  return fetch(url + path + (rawQuery ? `?${rawQuery}` : ''), { headers });
}

test('one JSON line per request, with the request id of the answer, account, user, face and action', {
  timeout: 120_000,
}, async () => {
  const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'info' } });
  const run = await startChild(env);
  children.push(run.child);
  const { url } = run;

  // Native sign-in: the account comes back in the answer; the id in x-request-id.
  const signIn = await fetch(`${url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET }),
  });
  assert.equal(signIn.status, 201);
  const session = (await signIn.json()) as { token: string; accountId: string };
  const accountId = session.accountId;
  const expected: Array<{ id: string; face: string; action: string; status: number; account: string | null }> = [];
  expected.push({
    id: signIn.headers.get('x-request-id')!,
    face: 'native',
    action: 'POST /api/v1/sessions',
    status: 201,
    account: accountId,
  });

  const listed = await fetch(`${url}/api/v1/regions/${REGION}/key-pairs`, {
    headers: { authorization: `Bearer ${session.token}` },
  });
  assert.equal(listed.status, 200);
  await listed.text();
  expected.push({
    id: listed.headers.get('x-request-id')!,
    face: 'native',
    action: 'GET /api/v1/regions/{regionId}/key-pairs',
    status: 200,
    account: accountId,
  });

  // Refused: no token. The error body names the request id; no account.
  const refused = await fetch(`${url}/api/v1/regions/${REGION}/key-pairs`);
  const refusedBody = (await refused.json()) as { requestId: string };
  assert.equal(refused.status, 401);
  assert.equal(refusedBody.requestId, refused.headers.get('x-request-id'));
  expected.push({
    id: refusedBody.requestId,
    face: 'native',
    action: 'GET /api/v1/regions/{regionId}/key-pairs',
    status: 401,
    account: null,
  });

  // ECS: RequestId in the body.
  const described = await ecsRequest(url, 'DescribeKeyPairs', ACCESS_KEY_SECRET);
  const describedBody = (await described.json()) as { RequestId: string };
  assert.equal(described.status, 200);
  assert.equal(describedBody.RequestId, described.headers.get('x-acs-request-id'));
  expected.push({
    id: describedBody.RequestId,
    face: 'ecs',
    action: 'DescribeKeyPairs',
    status: 200,
    account: accountId,
  });

  // ECS signed with a wrong secret: the key exists, the signature does not match; logged without the account.
  const forged = await ecsRequest(url, 'DescribeKeyPairs', `${ACCESS_KEY_SECRET}x`);
  const forgedBody = (await forged.json()) as { RequestId: string; Code: string };
  assert.equal(forgedBody.Code, 'SignatureDoesNotMatch');
  expected.push({
    id: forgedBody.RequestId,
    face: 'ecs',
    action: 'DescribeKeyPairs',
    status: forged.status,
    account: null,
  });

  // KPS: X-Request-Id header.
  const projects = await kpsRequest(url, '/v3/projects', `name=${REGION}`);
  const projectId = ((await projects.json()) as { projects: Array<{ id: string }> }).projects[0]!.id;
  const kpsList = await kpsRequest(url, `/v3/${projectId}/keypairs`);
  assert.equal(kpsList.status, 200);
  await kpsList.text();
  expected.push({
    id: kpsList.headers.get('x-request-id')!,
    face: 'kps',
    action: 'GET /v3/{project_id}/keypairs',
    status: 200,
    account: accountId,
  });

  for (const e of expected) assert.match(e.id, /^[0-9A-F-]{36}$/, 'every answer carries its request id');
  assert.equal(new Set(expected.map((e) => e.id)).size, expected.length);

  // The lines are written as the answers leave; wait (bounded) until the last one is there.
  const lines = async (): Promise<Line[]> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const parsed = run
        .output()
        .split('\n')
        // The CLI's own notices (the listening address, a stale build) are plain text; the logger's lines are JSON.
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Line;
          } catch {
            throw new Error(`a log line that is not JSON: ${l}`);
          }
        });
      if (parsed.some((l) => l.requestId === expected.at(-1)!.id) || Date.now() > deadline) return parsed;
      await sleep(50);
    }
  };
  const all = await lines();
  for (const e of expected) {
    const mine = all.filter((l) => l.requestId === e.id && l.msg === 'request completed');
    assert.equal(mine.length, 1, `one line for ${e.face} ${e.action} (${e.status})`);
    const line = mine[0]!;
    assert.equal(line.face, e.face);
    assert.equal(line.action, e.action);
    assert.equal(line.status, e.status);
    assert.equal(line.account, e.account, `account of ${e.face} ${e.action} (${e.status})`);
    assert.equal(line.user, e.account ? 'admin' : null);
    assert.equal(typeof line.ms, 'number');
    // Paths only: no query string reaches the line.
    assert.equal(String(line.path).includes('?'), false);
  }
  run.child.kill('SIGTERM');
  await new Promise((r) => run.child.once('exit', r));
});
