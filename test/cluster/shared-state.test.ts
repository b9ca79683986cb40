/**
 * Issue 17, "shared state in the store": three keyfleet processes on one PostgreSQL, as behind a load balancer.
 * What one process learns, every process knows, also after a restart:
 * - a signed ECS request (its SignatureNonce) is accepted once across A, B and C, and refused after A restarts;
 * - a mutating KPS AK/SK request (its signature) likewise; a GET is not a replay;
 * - KEYFLEET_RATE_LIMIT holds for the sum of the requests to all three processes (a count bound derived from the
 *   configured rate and the window this test measured);
 * - an access key disabled, a policy detached and a session ended through B are refused by A (polled until
 *   visible; the time it took goes to the report, not to an assertion).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.js';
import { signRpcV1, type SignedRawRequest } from '../support/ecs-signer.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, sleep, tempDir } from '../support/keyfleet.js';
import { signRequest } from '../support/kps-signer.js';
import { projectIdOf } from '../kps/support/huawei.js';
import { type Member, SharedStoreCluster } from './support/shared-store-cluster.js';

const RATE = 5;
/** keyfleet's burst is twice the rate (src/core/index.ts). */
const BURST = 2 * RATE;
const REGION = 'cn-hangzhou';
/** Safety net only: what is polled is normally visible in the first answer. */
const VISIBLE_WITHIN_MS = 20_000;

interface Answer {
  status: number;
  body: any;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** Sends a signed ECS request, byte for byte, to one process (the Host header is not signed in RPC V1). */
async function sendEcs(m: Member, s: SignedRawRequest): Promise<Answer> {
  const { host: _host, ...headers } = s.headers;
  const res = await fetch(m.url + s.url, {
    method: s.method,
    headers,
    body: s.rawBody.length > 0 ? new Uint8Array(s.rawBody) : undefined,
  });
  return answerOf(res);
}

function describeKeyPairs(accessKeyId: string, secret: string): SignedRawRequest {
  return signRpcV1({ accessKeyId, secret, action: 'DescribeKeyPairs', params: { RegionId: REGION } });
}

/** A KPS request signed as the Go SDK signs it (Host not signed), so the same bytes can go to any process. */
function kpsSigned(
  method: string,
  path: string,
  project: string,
  key: { id: string; secret: string },
  body?: string,
): { headers: Record<string, string>; body?: string; method: string; path: string } {
  const headers = { 'content-type': 'application/json', 'x-project-id': project };
  const s = signRequest({
    method,
    rawPath: path,
    headers,
    body,
    accessKeyId: key.id,
    secretKey: key.secret,
    signedHeaders: ['content-type', 'x-project-id', 'x-sdk-date'],
  });
  const { host: _host, ...sent } = s.request.headers;
  return { headers: sent, body, method, path };
}

async function sendKps(m: Member, r: ReturnType<typeof kpsSigned>): Promise<Answer> {
  return answerOf(await fetch(m.url + r.path, { method: r.method, headers: r.headers, body: r.body }));
}

/** The administrator's native-API calls; a throttled one (429, nothing done) is sent again, as the SDKs do. */
class Admin {
  token: string | null = null;
  constructor(readonly m: Member) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const deadline = Date.now() + VISIBLE_WITHIN_MS;
    for (;;) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (this.token) headers.authorization = `Bearer ${this.token}`;
      const a = await answerOf(
        await fetch(this.m.url + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      if (a.status === 429 && Date.now() < deadline) {
        await sleep(250);
        continue;
      }
      if (a.status >= 400) throw new Error(`${method} ${path} → ${a.status} ${JSON.stringify(a.body)}`);
      return a.body;
    }
  }

  static async signIn(m: Member, creds: Record<string, string>): Promise<Admin> {
    const admin = new Admin(m);
    admin.token = (await admin.call('POST', '/api/v1/sessions', creds)).token;
    return admin;
  }
}

/** Polls `probe` until `done` says so; returns how long that took. */
async function pollUntil<T>(what: string, probe: () => Promise<T>, done: (t: T) => boolean): Promise<number> {
  const started = performance.now();
  let last: T | undefined;
  while (performance.now() - started < VISIBLE_WITHIN_MS) {
    last = await probe();
    if (done(last)) return performance.now() - started;
    // Four probes a second stay under the rate limit of the prober's own bucket.
    await sleep(250);
  }
  assert.fail(`${what}: not visible within ${VISIBLE_WITHIN_MS} ms; last answer ${JSON.stringify(last)}`);
}

describe('three processes on one PostgreSQL share replay protection, rate limits and revocations', () => {
  let cluster: SharedStoreCluster;
  let adminOnB: Admin;

  /** A fresh access key of the administrator: its own rate-limit bucket. */
  async function newAdminKey(): Promise<{ id: string; secret: string }> {
    const k = await adminOnB.call('POST', '/api/v1/users/admin/access-keys', {});
    return { id: k.accessKeyId, secret: k.accessKeySecret };
  }

  before(async () => {
    cluster = await SharedStoreCluster.start({ KEYFLEET_RATE_LIMIT: String(RATE) });
    adminOnB = await Admin.signIn(cluster.b, { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET });
  });
  after(async () => {
    await cluster?.close();
  });

  test('a signed request is accepted once across A, B and C, and refused after A restarts (ECS nonce; KPS mutating signature)', async () => {
    const { a, b, c } = cluster;
    const ecsKey = await newAdminKey();
    const kpsKey = await newAdminKey();
    const project = await projectIdOf(a.url);
    const kpsPath = `/v3/${project}/keypairs`;

    // ECS: the same bytes to the three processes at once: one is accepted, whichever it is.
    const ecs = describeKeyPairs(ecsKey.id, ecsKey.secret);
    const ecsFirst = await Promise.all([a, b, c].map((m) => sendEcs(m, ecs)));
    assert.equal(ecsFirst.filter((r) => r.status === 200).length, 1, JSON.stringify(ecsFirst));
    for (const r of ecsFirst.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.Code, 'SignatureNonceUsed');
    }
    for (const m of [a, b, c]) assert.equal((await sendEcs(m, ecs)).body.Code, 'SignatureNonceUsed', m.name);

    // KPS: a key pair created by a signed POST; its replays are refused by the gateway check, not by the name
    // already being taken (which would be KPS.xxxx with another status).
    const create = kpsSigned('POST', kpsPath, project, kpsKey, JSON.stringify({ keypair: { name: 'replayed-once' } }));
    const kpsFirst = await Promise.all([a, b, c].map((m) => sendKps(m, create)));
    assert.equal(kpsFirst.filter((r) => r.status === 200).length, 1, JSON.stringify(kpsFirst));
    for (const r of kpsFirst.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.error_code, 'APIGW.0301');
      assert.match(r.body.error_msg, /signature of this request was already used/);
    }
    // A read is not a replay: the same signed GET is answered by every process.
    const list = kpsSigned('GET', kpsPath, project, kpsKey);
    for (const m of [a, b, c]) assert.equal((await sendKps(m, list)).status, 200, m.name);

    // After a restart, A still refuses both (the records are in the store, not in A's memory).
    await cluster.restart(a);
    assert.equal((await sendEcs(a, ecs)).body.Code, 'SignatureNonceUsed');
    const replayed = await sendKps(a, create);
    assert.equal(replayed.status, 401, JSON.stringify(replayed.body));
    assert.match(replayed.body.error_msg, /already used/);
    // …and answers new requests of the same keys.
    assert.equal((await sendEcs(a, describeKeyPairs(ecsKey.id, ecsKey.secret))).status, 200);
    assert.equal((await sendKps(a, kpsSigned('GET', kpsPath, project, kpsKey))).status, 200);
  });

  test(`KEYFLEET_RATE_LIMIT=${RATE} holds for the requests of all three processes together`, async (t) => {
    const key = await newAdminKey();
    const members = cluster.members;
    // Three times the rate, round robin over A, B, C, for about 3 s; then requests until one is throttled, so the
    // bucket ends empty (what was refilled was taken).
    const paced = 45;
    const interval = 1000 / (3 * RATE);
    const sent: Array<{ at: number; back: number; ok: boolean }> = [];
    const start = performance.now();
    const one = async (i: number) => {
      const at = performance.now();
      const r = await sendEcs(members[i % 3]!, describeKeyPairs(key.id, key.secret));
      const back = performance.now();
      const throttled = r.status === 400 && r.body?.Code === 'Throttling.User';
      assert.ok(r.status === 200 || throttled, `request ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      sent.push({ at, back, ok: r.status === 200 });
    };
    for (let i = 0; i < paced; i++) {
      const wait = start + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      await one(i);
    }
    for (let i = paced; i < paced + 3 * BURST && sent.at(-1)!.ok; i++) await one(i);
    assert.equal(sent.at(-1)!.ok, false, 'the run ends with a throttled request');

    const accepted = sent.filter((s) => s.ok).length;
    const first = sent[0]!;
    const last = sent.at(-1)!;
    // The server handled the first and the last request somewhere inside their round trips.
    const spanMax = (last.back - first.at) / 1000;
    const spanMin = (last.at - first.back) / 1000;
    // The bucket starts full (a new key) and refills continuously, except while full: after any request it is at
    // most BURST - 1, so within a gap between two requests it can stay full for at most (gap - 1/RATE).
    let fullFor = 0;
    for (let i = 1; i < sent.length; i++) fullFor += Math.max(0, (sent[i]!.back - sent[i - 1]!.at) / 1000 - 1 / RATE);
    const upper = BURST + RATE * spanMax;
    // It ends empty: less than one token was left unused.
    const lower = BURST + RATE * spanMin - RATE * fullFor - 1;
    const expected = BURST + RATE * ((last.at + last.back - first.at - first.back) / 2 / 1000);
    t.diagnostic(
      `${sent.length} requests over ${spanMax.toFixed(2)} s: ${accepted} accepted; allowed ${expected.toFixed(1)} ` +
        `(${((100 * (accepted - expected)) / expected).toFixed(1)}%), bounds [${lower.toFixed(1)}, ${upper.toFixed(1)}]`,
    );
    // Per-process buckets would allow up to three times as many (3 × BURST + 3 × RATE × span).
    assert.ok(accepted <= upper, `accepted ${accepted} > ${upper.toFixed(2)}: the limit is not global`);
    assert.ok(accepted >= lower, `accepted ${accepted} < ${lower.toFixed(2)}: requests refused beyond the limit`);
  });

  test('an access key disabled, a policy detached and a session ended through B are refused by A', async (t) => {
    const { a } = cluster;
    const password = 'Viewer-Pass-0001!';
    await adminOnB.call('POST', '/api/v1/users', { name: 'viewer', password });
    await adminOnB.call('POST', '/api/v1/policies', {
      name: 'viewer-all',
      document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    });
    await adminOnB.call('PUT', '/api/v1/users/viewer/policies/viewer-all');
    const k = await adminOnB.call('POST', '/api/v1/users/viewer/access-keys', {});
    const viewerOnA = await Admin.signIn(a, { userName: 'viewer', password });
    const listOnA = async (): Promise<number> => {
      const r = await fetch(`${a.url}/api/v1/regions/${REGION}/key-pairs`, {
        headers: { authorization: `Bearer ${viewerOnA.token}` },
      });
      await r.arrayBuffer();
      return r.status;
    };
    assert.equal(await listOnA(), 200);
    assert.equal((await sendEcs(a, describeKeyPairs(k.accessKeyId, k.accessKeySecret))).status, 200);

    await adminOnB.call('PATCH', `/api/v1/access-keys/${k.accessKeyId}`, { status: 'Inactive' });
    const keyMs = await pollUntil(
      'access key disabled through B, refused by A',
      () => sendEcs(a, describeKeyPairs(k.accessKeyId, k.accessKeySecret)),
      (r) => r.body?.Code === 'InvalidAccessKeyId.Inactive',
    );

    await adminOnB.call('DELETE', '/api/v1/users/viewer/policies/viewer-all');
    const policyMs = await pollUntil('policy detached through B, applied by A', listOnA, (s) => s === 403);

    await adminOnB.call('PUT', '/api/v1/users/viewer/password', { password: 'Viewer-Pass-0002!' });
    const sessionMs = await pollUntil('session ended through B, refused by A', listOnA, (s) => s === 401);
    t.diagnostic(
      `visible on A after: key ${keyMs.toFixed(0)} ms, policy ${policyMs.toFixed(0)} ms, session ${sessionMs.toFixed(0)} ms`,
    );
  });
});

describe('the request guards of both stores', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    test(`${dialect}: one of many concurrent first uses wins; an expired record is used anew; a bucket refills`, async () => {
      const dataDir = tempDir();
      const pgdb = dialect === 'postgres' ? await freshPostgres() : null;
      const store = await openStore({ dataDir, ...(pgdb ? { databaseUrl: pgdb.url } : {}) });
      try {
        const g = store.guards;
        const t0 = new Date(1_800_000_000_000);
        const at = (ms: number) => new Date(t0.getTime() + ms);
        // Eight callers at once with one digest, beside others with their own (one batch on SQLite).
        const same = await Promise.all(Array.from({ length: 8 }, () => g.firstUse('d-same', t0, at(10_000))));
        const own = await Promise.all(Array.from({ length: 8 }, (_, i) => g.firstUse(`d-${i}`, t0, at(10_000))));
        assert.equal(same.filter(Boolean).length, 1);
        assert.deepEqual(own, Array(8).fill(true));
        assert.equal(await g.firstUse('d-same', at(9_999), at(20_000)), false, 'still recorded');
        assert.equal(await g.firstUse('d-same', at(10_000), at(20_000)), true, 'expired: recorded anew');
        assert.equal(await g.firstUse('d-same', at(10_001), at(30_000)), false);
        assert.equal(await g.sweepUses(at(15_000)), 8, 'the expired records go; the renewed one stays');
        assert.equal(await g.firstUse('d-same', at(15_000), at(30_000)), false);

        // 2 per second, burst 3: three at once, then one per 500 ms.
        const take = (ms: number) => g.takeToken('ak:test', at(ms), 2, 3);
        for (let i = 0; i < 3; i++) assert.equal((await take(0)).ok, true);
        assert.equal((await take(0)).ok, false);
        assert.equal((await take(250)).ok, false);
        assert.equal((await take(500)).ok, true);
        assert.equal((await take(500)).ok, false);
        // An earlier clock reading (another process's) refills nothing and does not move the bucket back.
        assert.equal((await take(400)).ok, false);
        assert.equal((await take(1000)).ok, true);
        // Idle: full again, never more than the burst.
        for (let i = 0; i < 3; i++) assert.equal((await take(60_000)).ok, true);
        assert.equal((await take(60_000)).ok, false);
        assert.equal(await g.sweepBuckets(at(60_001)), 1);
      } finally {
        await store.close();
        await pgdb?.drop();
        await fs.rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
