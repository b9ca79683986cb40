/**
 * /metrics (issue 21): the Prometheus text parses strictly, the counters move exactly as this test's requests and
 * task do (ECS, KPS and native requests; a live bind over SSH with its proof; a drift scan), the task gauges read
 * the store, SSH connections in flight return to zero, and the token is required when configured. With
 * KEYFLEET_METRICS=0 there is no endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { signRpcV1 } from '../support/ecs-signer.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { signRequest } from '../support/kps-signer.js';
import { parseExposition, type Samples, seriesKey } from './metrics-exposition.js';

const TOKEN = 'metrics-token-for-tests-0001';
const REGION = 'cn-hangzhou';
const ROOT_PW = 'Metrics-Root-Pass-01';

async function ecs(url: string, action: string, params: Record<string, string> = {}): Promise<Response> {
  const s = signRpcV1({ accessKeyId: ACCESS_KEY_ID, secret: ACCESS_KEY_SECRET, action, params });
  const { host: _host, ...headers } = s.headers;
  return fetch(url + s.url, {
    method: s.method,
    headers,
    body: s.rawBody.length > 0 ? new Uint8Array(s.rawBody) : undefined,
  });
}

async function kps(url: string, method: string, path: string, rawQuery = ''): Promise<Response> {
  const s = signRequest({
    method,
    rawPath: path,
    rawQuery,
    headers: { 'content-type': 'application/json' },
    accessKeyId: ACCESS_KEY_ID,
    secretKey: ACCESS_KEY_SECRET,
    signedHeaders: ['content-type', 'x-sdk-date'],
  });
  const { host: _host, ...headers } = s.request.headers;
  return fetch(url + path + (rawQuery ? `?${rawQuery}` : ''), { method, headers });
}

/** The KPS project of a region, as IAM names it (GET /v3/projects?name=…). */
async function projectIdOf(url: string): Promise<string> {
  const res = await kps(url, 'GET', '/v3/projects', `name=${REGION}`);
  const body = (await res.json()) as { projects: Array<{ id: string }> };
  assert.equal(body.projects.length, 1);
  return body.projects[0]!.id;
}

describe('/metrics', () => {
  let kf: Keyfleet;
  let api: Api;
  let instanceId: string;
  let projectId: string;

  const scrape = async (): Promise<Samples> => {
    const res = await fetch(`${kf.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  const value = (s: Samples, name: string, labels: Record<string, string> = {}) => s.get(seriesKey(name, labels)) ?? 0;
  const delta = (a: Samples, b: Samples, name: string, labels: Record<string, string> = {}) =>
    value(b, name, labels) - value(a, name, labels);

  before(async () => {
    ({ kf, api } = await startInProcess({
      // The task gauges are compared before and after one bind: counted at every scrape, not from a cache up
      // to a second old (which would hide a bind that finished within that second).
      extra: { KEYFLEET_METRICS_TOKEN: TOKEN, KEYFLEET_METRICS_TASK_COUNTS_MAX_AGE_MS: '0' },
    }));
    [instanceId] = (await api.run({ imageId: LINUX_IMAGE, password: ROOT_PW })) as [string];
    await api.waitStatus([instanceId], 'Running');
    await api.createKeyPair('metrics-kp', 'ed25519');
    projectId = await projectIdOf(kf.url);
  });
  after(async () => kf?.close());

  test('the token is required: none or a wrong one is 401 and counted; the right one scrapes', async () => {
    const before = await scrape();
    const none = await fetch(`${kf.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const wrong = await fetch(`${kf.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    const after = await scrape();
    const labels = { face: 'other', action: 'GET /metrics' };
    assert.equal(delta(before, after, 'keyfleet_http_requests_total', { ...labels, status: '401' }), 2);
    // The scrape that produced `before` was answered after it was rendered: it shows up in `after`.
    assert.equal(delta(before, after, 'keyfleet_http_requests_total', { ...labels, status: '200' }), 1);
  });

  test('HTTP requests by face, action and status, with the latency histogram', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await ecs(kf.url, 'DescribeKeyPairs', { RegionId: REGION })).status, 200);
    const unknown = await ecs(kf.url, 'NoSuchAction', { RegionId: REGION });
    assert.equal((await unknown.json()).Code, 'InvalidAction.NotFound');
    for (let i = 0; i < 2; i++) assert.equal((await kps(kf.url, 'GET', `/v3/${projectId}/keypairs`)).status, 200);
    await api.call('GET', `/api/v1/regions/${REGION}/key-pairs`);
    const after = await scrape();

    const requests = (face: string, action: string, status: string) =>
      delta(before, after, 'keyfleet_http_requests_total', { face, action, status });
    const timed = (face: string, action: string) =>
      delta(before, after, 'keyfleet_http_request_duration_seconds_count', { face, action });
    assert.equal(requests('ecs', 'DescribeKeyPairs', '200'), 3);
    assert.equal(timed('ecs', 'DescribeKeyPairs'), 3);
    // An action the face does not serve is one bounded label, not the name the caller sent.
    assert.equal(requests('ecs', 'unknown', String(unknown.status)), 1);
    assert.equal(
      [...after.keys()].some((k) => k.includes('NoSuchAction')),
      false,
    );
    assert.equal(requests('kps', 'GET /v3/{project_id}/keypairs', '200'), 2);
    assert.equal(timed('kps', 'GET /v3/{project_id}/keypairs'), 2);
    assert.equal(requests('native', 'GET /api/v1/regions/{regionId}/key-pairs', '200'), 1);
    assert.equal(timed('native', 'GET /api/v1/regions/{regionId}/key-pairs'), 1);
  });

  test('a live bind: the task and item gauges, the live change, its proof, the store and SSH connections', async () => {
    const before = await scrape();
    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'metrics-kp',
      instanceIds: [instanceId],
      mode: 'live',
      credential: { kind: 'password', password: ROOT_PW },
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
    const after = await scrape();

    assert.equal(delta(before, after, 'keyfleet_tasks', { kind: 'bind', state: 'succeeded' }), 1);
    assert.equal(delta(before, after, 'keyfleet_task_items', { kind: 'bind', state: 'succeeded' }), 1);
    assert.equal(value(after, 'keyfleet_task_items', { kind: 'bind', state: 'running' }), 0);
    assert.equal(value(after, 'keyfleet_task_items', { kind: 'bind', state: 'pending' }), 0);
    assert.equal(delta(before, after, 'keyfleet_live_changes_total', { kind: 'bind', result: 'applied' }), 1);
    assert.equal(
      delta(before, after, 'keyfleet_live_change_duration_seconds_count', { kind: 'bind', result: 'applied' }),
      1,
    );
    assert.ok(
      delta(before, after, 'keyfleet_live_change_duration_seconds_sum', { kind: 'bind', result: 'applied' }) > 0,
    );
    // One proof (the bind turns password login off and reloads sshd: a proof that waited is still one proof).
    assert.equal(delta(before, after, 'keyfleet_live_proofs_total', { result: 'proven' }), 1);
    assert.equal(delta(before, after, 'keyfleet_live_proof_duration_seconds_count', { result: 'proven' }), 1);
    assert.ok(delta(before, after, 'keyfleet_store_transaction_duration_seconds_count', { result: 'ok' }) >= 1);
    // The change's session and the proof's probes were counted while open and are all given back.
    assert.ok(after.has(seriesKey('keyfleet_ssh_sessions_in_flight', { use: 'session' })));
    assert.ok(after.has(seriesKey('keyfleet_ssh_sessions_in_flight', { use: 'probe' })));
    assert.equal(value(after, 'keyfleet_ssh_sessions_in_flight', { use: 'session' }), 0);
    assert.equal(value(after, 'keyfleet_ssh_sessions_in_flight', { use: 'probe' }), 0);
  });

  test('a boot proof: a restart that applies an on-restart bind is proven once and counted, with its duration', async () => {
    const [id] = (await api.run({ imageId: LINUX_IMAGE, password: ROOT_PW })) as [string];
    await api.waitStatus([id], 'Running');
    await kf.core.instances.settle();
    await api.createKeyPair('metrics-boot-kp', 'ed25519');
    await api.bind({ action: 'bind', keyPairName: 'metrics-boot-kp', instanceIds: [id] });
    const before = await scrape();
    await api.restart(id);
    await kf.core.instances.settle();
    const inst = await api.instance(id);
    assert.equal(typeof inst.verifiedAt, 'string', inst.verification);
    const after = await scrape();
    assert.equal(delta(before, after, 'keyfleet_boot_proofs_total', { result: 'proven' }), 1);
    assert.equal(delta(before, after, 'keyfleet_boot_proof_duration_seconds_count', { result: 'proven' }), 1);
    assert.equal(delta(before, after, 'keyfleet_boot_proofs_total', { result: 'not-proven' }), 0);
  });

  test('a drift scan counts the machines it read by status', async () => {
    const before = await scrape();
    const scan = await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [instanceId] });
    assert.equal(scan.results.length, 1);
    const status = scan.results[0].status as string;
    const after = await scrape();
    assert.equal(delta(before, after, 'keyfleet_drift_scans_total', { status }), 1);
  });

  test('default process metrics are there', async () => {
    const s = await scrape();
    assert.ok(value(s, 'process_cpu_user_seconds_total') > 0);
    assert.ok(value(s, 'process_resident_memory_bytes') > 0);
    assert.ok(s.has('nodejs_eventloop_lag_seconds'));
  });
});

test('KEYFLEET_METRICS=0: no /metrics endpoint', async () => {
  const { kf } = await startInProcess({ extra: { KEYFLEET_METRICS: '0' } });
  try {
    const res = await fetch(`${kf.url}/metrics`);
    assert.equal(res.status, 404);
    await res.text();
  } finally {
    await kf.close();
  }
});
