/**
 * Seeded fuzz of the KPS v3 face and its Nova and IAM routes (issue 18): 10,000 mutated requests, nearly all
 * signed with the account's AK/SK the way the Huawei SDKs sign, so that they reach the routes. No answer is a 5xx,
 * every refusal is the KPS envelope with an X-Request-Id, and no refused request changes the store. Replay a run
 * with KEYFLEET_FUZZ_SEED=<the printed seed>.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { projectIdOf } from '../../src/api/kps/projects.js';
import { signRequest } from '../support/kps-signer.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_PASSWORD } from '../support/keyfleet.js';
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
const PRIVATE =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n';

let fx: FuzzFixture;
let project: string;
let taskIds: string[] = [];
before(async () => {
  fx = await startFuzzFixture();
  project = projectIdOf(fx.accountId, REGION);
});
after(async () => fx?.kf.close());

interface Template {
  method: string;
  /** Path segments; `{kp}`, `{task}` and `{project}` are filled from the account's state. */
  path: string[];
  query?: Pairs;
  body?: unknown;
  /** Sent without a signature (the IAM token call). */
  unsigned?: boolean;
}

function templates(rng: Rng): Template[] {
  const kp = () => (fx.keyPairNames.length > 0 ? rng.pick(fx.keyPairNames) : 'fz-kp-0');
  const inst = () => (fx.instanceIds.length > 0 ? rng.pick(fx.instanceIds) : 'i-none');
  const fresh = () => `fz-kps-${rng.int(6)}`;
  const task = () => (taskIds.length > 0 ? rng.pick(taskIds) : '00000000-0000-4000-8000-000000000000');
  const server = () => ({
    id: inst(),
    auth: { type: 'password', key: 'Fuzz-Pass-01' },
    disable_password: false,
    port: 22,
  });
  return [
    {
      method: 'POST',
      path: ['v3', project, 'keypairs'],
      body: { keypair: { name: fresh(), type: 'ssh', scope: 'user' } },
    },
    { method: 'POST', path: ['v3', project, 'keypairs'], body: { keypair: { name: fresh(), public_key: ED25519 } } },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', 'batch-import'],
      body: [{ keypair: { name: fresh(), public_key: ED25519 } }],
    },
    {
      method: 'GET',
      path: ['v3', project, 'keypairs'],
      query: [
        ['limit', '10'],
        ['marker', kp()],
      ],
    },
    { method: 'GET', path: ['v3', project, 'keypairs', kp()] },
    { method: 'PUT', path: ['v3', project, 'keypairs', kp()], body: { keypair: { description: 'fuzzed' } } },
    { method: 'DELETE', path: ['v3', project, 'keypairs', rng.chance(0.1) ? fresh() : kp()] },
    { method: 'POST', path: ['v3', project, 'keypairs', 'associate'], body: { keypair_name: kp(), server: server() } },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', 'batch-associate'],
      body: { batch_keypairs: [{ keypair_name: kp(), server: server() }] },
    },
    { method: 'POST', path: ['v3', project, 'keypairs', 'disassociate'], body: { server: server() } },
    { method: 'GET', path: ['v3', project, 'tasks', task()] },
    {
      method: 'GET',
      path: ['v3', project, 'running-tasks'],
      query: [
        ['offset', '0'],
        ['limit', '10'],
      ],
    },
    {
      method: 'GET',
      path: ['v3', project, 'failed-tasks'],
      query: [
        ['offset', '0'],
        ['limit', '10'],
      ],
    },
    { method: 'DELETE', path: ['v3', project, 'failed-tasks', task()] },
    { method: 'DELETE', path: ['v3', project, 'failed-tasks'] },
    { method: 'POST', path: ['v3', project, 'keypairs', 'private-key', 'export'], body: { keypair: { name: kp() } } },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', 'private-key', 'import'],
      body: { keypair: { name: kp(), key_protection: { private_key: PRIVATE, encryption: { type: 'default' } } } },
    },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', 'private-key', 'batch-export'],
      body: [{ keypair: { name: kp() } }],
    },
    { method: 'DELETE', path: ['v3', project, 'keypairs', kp(), 'private-key'] },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', 'resource-instances', 'filter'],
      query: [
        ['limit', '10'],
        ['offset', '0'],
      ],
      body: {
        tags: [{ key: 'env', values: ['prod', 'dev'] }],
        without_any_tag: false,
        matches: [{ key: 'resource_name', value: 'fz' }],
      },
    },
    {
      method: 'POST',
      path: ['v3', project, 'keypairs', rng.pick(['resource-instances', 'resource_instances']), 'count'],
      body: { tags: [{ key: 'env', values: [] }], offset: '0', limit: '5' },
    },
    {
      method: 'POST',
      path: ['v2.1', project, 'os-keypairs'],
      body: { keypair: { name: fresh(), public_key: ED25519 } },
    },
    { method: 'GET', path: [rng.pick(['v2.1', 'v2']), project, 'os-keypairs'], query: [['limit', '10']] },
    { method: 'GET', path: ['v2.1', project, 'os-keypairs', kp()] },
    { method: 'DELETE', path: ['v2.1', project, 'os-keypairs', rng.chance(0.1) ? fresh() : kp()] },
    { method: 'GET', path: ['v3', 'projects'], query: [['name', REGION]] },
    { method: 'GET', path: ['v3', 'auth', 'projects'] },
    { method: 'GET', path: ['v3', 'auth', 'domains'] },
    {
      method: 'POST',
      path: ['v3', 'auth', 'tokens'],
      query: [['nocatalog', 'true']],
      unsigned: true,
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', password: ADMIN_PASSWORD, domain: { name: 'keyfleet' } } },
          },
          scope: { project: { name: REGION } },
        },
      },
    },
  ];
}

const encodePairs = (pairs: Pairs) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

const face: FuzzFace = {
  name: 'KPS',
  build(rng): FuzzRequest {
    let t = rng.pick(templates(rng));
    // A token costs a password hash (deliberately slow): the IAM token call comes up a fifth as often as the others.
    if (t.unsigned && rng.chance(0.8)) t = rng.pick(templates(rng));
    let label = `KPS ${t.method} /${t.path.slice(0, 1).join('/')}/…/${t.path.slice(2).join('/')}`;
    const segments = [...t.path];
    let query = t.query ?? [];
    let body: unknown = t.body;
    let text: string | undefined;
    let contentType: string | undefined = 'application/json';
    // One to three mutations, each of the body, the query, a path segment or the media type.
    for (let m = 1 + rng.int(3); m > 0; m--) {
      const what = rng.int(10);
      if (what < 5 && body !== undefined) body = mutateJson(rng, body);
      else if (what < 6 && body !== undefined) text = mutateJsonText(rng, JSON.stringify(body));
      else if (what < 8) query = mutatePairs(rng, query);
      else if (what < 9 && segments.length > 2) {
        const n = 2 + rng.int(segments.length - 2);
        segments[n] = nastySegment(rng);
        label += ` segment ${n}`;
      } else {
        contentType = wrongContentType(rng);
        label += ` content-type ${contentType}`;
        if (body === undefined) body = { keypair: { name: 'x' } };
      }
    }
    const rawPath = `/${segments.map((s) => (s === project ? s : s)).join('/')}`;
    const rawQuery = encodePairs(query);
    const payload = text ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers: Record<string, string> = { host: fx.host, 'x-project-id': project };
    if (contentType !== undefined) headers['content-type'] = contentType;
    let signedHeaders = headers;
    if (!t.unsigned) {
      // Mostly validly signed: the point is to reach the routes. Now and then the signature goes wrong.
      const bend = rng.chance(0.05) ? rng.int(3) : -1;
      const s = signRequest({
        method: t.method,
        rawPath,
        rawQuery,
        headers,
        body: payload,
        accessKeyId: bend === 0 ? 'UNKNOWNaccessKey0001' : ACCESS_KEY_ID,
        secretKey: bend === 1 ? 'not-the-secret' : ACCESS_KEY_SECRET,
        date: bend === 2 ? new Date(Date.now() - 3_600_000) : undefined,
      });
      signedHeaders = s.request.headers;
      if (bend >= 0) label += ` bad signature ${bend}`;
    }
    if (payload !== undefined) label += ` body`;
    return {
      label,
      method: t.method,
      url: rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`,
      headers: signedHeaders,
      payload,
    };
  },
  envelopeProblem(res) {
    if (typeof res.headers['x-request-id'] !== 'string') return 'no X-Request-Id';
    let body: any;
    try {
      body = JSON.parse(res.body);
    } catch {
      return 'not JSON';
    }
    for (const k of ['error_code', 'error_msg']) if (typeof body?.[k] !== 'string' || body[k] === '') return `no ${k}`;
    return null;
  },
  async accepted() {
    await fx.refresh();
    taskIds = (await fx.kf.store.db.selectFrom('tasks').select('id').orderBy('id').execute()).map((r) => r.id);
  },
};

test('KPS face: 10,000 mutated requests, no 5xx, the KPS envelope, no change from a refusal', {
  timeout: 600_000,
}, async () => {
  const seed = fuzzSeed('KPS');
  const probe = await installStateProbe(fx.kf);
  const report = await runFuzz(fx.kf, probe, new Rng(seed), face, fuzzRequests());
  assert.deepEqual(report.failures, [], `seed ${seed}:\n${report.failures.join('\n')}`);
  assert.equal(report.requests, fuzzRequests());
  assert.ok(report.accepted > 0 && report.accepted < report.requests, 'both accepted and refused requests were made');
});
