/**
 * Seeded fuzz of the native API (issue 18): 10,000 mutated requests over every operation of /api/v1/openapi.json,
 * with a valid bearer session so that they reach the handlers. No answer is a 5xx, every refusal is the native
 * envelope ({code, message, requestId}), and no refused request changes the store. Replay a run with
 * KEYFLEET_FUZZ_SEED=<the printed seed>.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, LINUX_IMAGE } from '../support/keyfleet.js';
import { type FuzzFixture, REGION, startFuzzFixture } from './support/fixture.js';
import { type FuzzFace, type FuzzRequest, runFuzz } from './support/fuzz-runner.js';
import {
  mutateJson,
  mutateJsonText,
  mutatePairs,
  nastySegment,
  type Pairs,
  wrongContentType,
} from './support/mutate.js';
import { fuzzRequests, fuzzSeed, Rng } from './support/rng.js';
import { installStateProbe } from './support/state-probe.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr2e0UOxzZB3tLcM9fPQmT8Wd3vIJ3y1o5Yk0a9oQ+A fz';
/**
 * Hosts may only be registered at 127.255.255.254 (fixture.ts): this address, and every fuzzed one, is refused before
 * any contact, so no fuzzed request reaches the network.
 */
const NOWHERE = '127.255.255.253';

interface Operation {
  method: string;
  path: string;
  query: string[];
}

let fx: FuzzFixture;
const operations: Operation[] = [];
let token = '';
let taskIds: string[] = [];
let accessKeyIds: string[] = [];

async function signIn(): Promise<void> {
  const res = await fx.kf.app.inject({
    method: 'POST',
    url: '/api/v1/sessions',
    payload: { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET },
  });
  assert.equal(res.statusCode, 201, res.body);
  token = JSON.parse(res.body).token;
}

async function refreshIds(): Promise<void> {
  await fx.refresh();
  const db = fx.kf.store.db;
  taskIds = (await db.selectFrom('tasks').select('id').orderBy('id').execute()).map((r) => r.id);
  accessKeyIds = (
    await db
      .selectFrom('access_keys')
      .innerJoin('users', 'users.id', 'access_keys.user_id')
      .where('users.name', '=', 'fz-user')
      .select('access_keys.id')
      .execute()
  ).map((r) => r.id);
}

before(async () => {
  fx = await startFuzzFixture();
  const doc = JSON.parse((await fx.kf.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).body);
  for (const [path, ops] of Object.entries<any>(doc.paths))
    for (const [method, op] of Object.entries<any>(ops))
      operations.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
      });
  // A user of its own for the user, access key, group and policy operations (ours is never deleted or disabled).
  await fx.api.call('POST', '/api/v1/users', { name: 'fz-user', password: 'Fuzz-Pass-0001' });
  await fx.api.call('POST', '/api/v1/users/fz-user/access-keys');
  await fx.api.call('POST', '/api/v1/groups', { name: 'fz-group' });
  await fx.api.call('POST', '/api/v1/policies', {
    name: 'fz-policy',
    document: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['keypair:Describe*'], Resource: ['*'] }] },
  });
  await signIn();
  await refreshIds();
});
after(async () => fx?.kf.close());

function pathParam(op: Operation, name: string, rng: Rng): string {
  const kp = () => (fx.keyPairNames.length > 0 ? rng.pick(fx.keyPairNames) : 'fz-kp-0');
  const pick = (ids: string[], none: string) => (ids.length > 0 ? rng.pick(ids) : none);
  if (name === 'regionId') return REGION;
  if (name === 'policy') return 'fz-policy';
  if (name === 'user') return 'fz-user';
  if (name === 'name') {
    if (op.path.includes('/key-pairs/')) return rng.chance(0.5) ? kp() : `fz-nat-${rng.int(6)}`;
    if (op.path.includes('/groups/')) return 'fz-group';
    return 'fz-user';
  }
  if (op.path.startsWith('/api/v1/instances/')) return pick(fx.instanceIds, 'i-none');
  if (op.path.startsWith('/api/v1/tasks/')) return pick(taskIds, 't-none');
  if (op.path.startsWith('/api/v1/access-keys/')) return pick(accessKeyIds, 'ak-none');
  return 'x';
}

const QUERY_VALUES: Record<string, string> = {
  offset: '0',
  limit: '10',
  force: 'true',
  status: 'Running',
  regionId: REGION,
  name: 'fz-*',
  search: 'fz',
  pendingRestart: 'false',
  from: '2020-01-01T00:00:00Z',
  to: '2030-01-01T00:00:00Z',
  result: 'Denied',
  userName: 'admin',
};

function bodyFor(op: Operation, rng: Rng): unknown {
  const inst = () => (fx.instanceIds.length > 0 ? rng.pick(fx.instanceIds) : 'i-none');
  const kp = () => (fx.keyPairNames.length > 0 ? rng.pick(fx.keyPairNames) : 'fz-kp-0');
  const key = `${op.method} ${op.path}`;
  switch (key) {
    case 'POST /api/v1/sessions':
      return { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET };
    case 'POST /api/v1/regions/{regionId}/key-pairs':
      return rng.chance(0.7)
        ? { name: `fz-nat-${rng.int(6)}`, publicKey: ED25519, tags: [{ key: 'team', value: 'fuzz' }] }
        : { name: `fz-nat-${rng.int(6)}`, type: 'ed25519' };
    case 'PATCH /api/v1/regions/{regionId}/key-pairs/{name}':
      return { description: 'fuzzed' };
    case 'POST /api/v1/regions/{regionId}/instances':
      return { imageId: LINUX_IMAGE, amount: 1, name: 'fz-inst' };
    case 'POST /api/v1/regions/{regionId}/hosts':
      return { name: 'fz-host', address: NOWHERE, port: 22, loginUser: 'root' };
    case 'PATCH /api/v1/instances/{id}/host':
      return { passwordLogin: 'managed', sudo: false };
    case 'POST /api/v1/instances/{id}/reset-password':
      return { password: 'Fuzz-Pass-0002' };
    case 'POST /api/v1/hosts/imports':
      return { regionId: REGION, format: 'csv', inventory: `h1,${NOWHERE},22,root\n` };
    case 'POST /api/v1/regions/{regionId}/bindings':
      return { action: rng.pick(['bind', 'unbind']), keyPairName: kp(), instanceIds: [inst()], mode: 'on-restart' };
    case 'POST /api/v1/regions/{regionId}/drift-scans':
      return { instanceIds: [inst()] };
    case 'POST /api/v1/regions/{regionId}/drift-repairs':
      return { instanceIds: [inst()], credential: { kind: 'password', password: 'Fuzz-Pass-0001' } };
    case 'POST /api/v1/users':
      return { name: `fz-u-${rng.int(4)}`, password: 'Fuzz-Pass-0001' };
    case 'PUT /api/v1/users/{name}/password':
      return { password: 'Fuzz-Pass-0003' };
    case 'PATCH /api/v1/access-keys/{id}':
      return { status: rng.pick(['Active', 'Inactive']) };
    case 'POST /api/v1/policies':
      return {
        name: `fz-pol-${rng.int(4)}`,
        description: 'fuzz',
        document: {
          Version: '1',
          Statement: [{ Effect: 'Deny', Action: ['keypair:Delete'], Resource: ['acs:ecs:*:*:keypair/x*'] }],
        },
      };
    case 'POST /api/v1/accounts':
      return { name: `fz-acct-${rng.int(3)}`, adminName: 'admin', adminPassword: 'Fuzz-Pass-0001' };
    case 'POST /api/v1/groups':
      return { name: `fz-g-${rng.int(4)}`, description: 'fuzz' };
    default:
      return undefined;
  }
}

const face: FuzzFace = {
  name: 'native',
  build(rng): FuzzRequest {
    const op = rng.pick(operations);
    let label = `native ${op.method} ${op.path}`;
    let segments = op.path
      .split('/')
      .map((s) => (s.startsWith('{') ? encodeURIComponent(pathParam(op, s.slice(1, -1), rng)) : s));
    let query: Pairs = op.query.filter(() => rng.chance(0.5)).map((q) => [q, QUERY_VALUES[q] ?? 'x']);
    let body = bodyFor(op, rng);
    let text: string | undefined;
    let contentType: string | undefined = body === undefined ? undefined : 'application/json';
    let authorization: string | undefined = `Bearer ${token}`;
    for (let m = 1 + rng.int(3); m > 0; m--) {
      const what = rng.int(20);
      if (what < 9 && body !== undefined) body = mutateJson(rng, body);
      else if (what < 11 && body !== undefined) text = mutateJsonText(rng, JSON.stringify(body));
      else if (what < 15) query = mutatePairs(rng, query.length > 0 ? query : [['offset', '0']]);
      else if (what < 17 && op.path.includes('{')) {
        const params = segments.map((_s, n) => (op.path.split('/')[n]!.startsWith('{') ? n : -1)).filter((n) => n >= 0);
        const n = rng.pick(params);
        segments = segments.map((s, i) => (i === n ? nastySegment(rng) : s));
        label += ' segment';
      } else if (what < 19) {
        contentType = wrongContentType(rng);
        if (body === undefined && text === undefined) text = '{"x":1}';
        label += ` content-type ${contentType}`;
      } else {
        authorization = rng.pick([undefined, 'Bearer ', 'Bearer x', `Basic ${token}`, `Bearer ${token}x`]);
        label += ' bad session';
      }
    }
    const payload = text ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (contentType !== undefined) headers['content-type'] = contentType;
    const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const path = segments.join('/');
    return { label, method: op.method, url: qs === '' ? path : `${path}?${qs}`, headers, payload };
  },
  envelopeProblem(res) {
    let body: any;
    try {
      body = JSON.parse(res.body);
    } catch {
      return 'not JSON';
    }
    for (const k of ['code', 'message', 'requestId'])
      if (typeof body?.[k] !== 'string' || body[k] === '') return `no ${k}`;
    return null;
  },
  async accepted() {
    // An accepted request may have ended our session (DELETE /sessions/current): sign in again before going on.
    const who = await fx.kf.app.inject({
      method: 'GET',
      url: '/api/v1/whoami',
      headers: { authorization: `Bearer ${token}` },
    });
    if (who.statusCode === 401) await signIn();
    await refreshIds();
  },
};

test('native API: 10,000 mutated requests, no 5xx, the native envelope, no change from a refusal', {
  timeout: 600_000,
}, async () => {
  assert.ok(operations.length >= 50, `the OpenAPI document lists the operations (${operations.length})`);
  const seed = fuzzSeed('native');
  const probe = await installStateProbe(fx.kf);
  const report = await runFuzz(fx.kf, probe, new Rng(seed), face, fuzzRequests());
  assert.deepEqual(report.failures, [], `seed ${seed}:\n${report.failures.join('\n')}`);
  assert.equal(report.requests, fuzzRequests());
  assert.ok(report.accepted > 0 && report.accepted < report.requests, 'both accepted and refused requests were made');
});
