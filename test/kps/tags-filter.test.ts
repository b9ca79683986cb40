/**
 * Huawei KPS key pairs filtered by tags (ListResourceInstancesFilter and ListResourceInstancesCount, issue 20)
 * through the official Huawei SDK's core client: one key and value, a key with any value, several keys (all must
 * match), several values (any may match), key pairs without any tag, a name match, pages by limit and offset (the
 * total unaffected), the count equal to the filter's total, another account's key pairs never seen, a user without
 * keypair:Describe refused, and bad input refused with KPS.0002. Both are POSTs that only read: a repeated signature
 * is answered, not refused as a replayed change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { principal } from '../authz/support/principals.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, type Api, startInProcess } from '../support/keyfleet.js';
import { signRequest } from '../support/kps-signer.js';
import { type Kps, kpsWithAkSk, projectIdOf, sdkError } from './support/huawei.js';

const OTHER_AK = 'OTHERfilterAccessKey0001';
const OTHER_SK = 'otherFilterSecretForLoopbackOnly01';

const FILTER = '/v3/{project_id}/keypairs/resource-instances/filter';
const COUNT = '/v3/{project_id}/keypairs/resource-instances/count';

/** The key pairs of the account and their tags: names sort in the order listed. */
const FLEET: Record<string, Array<{ key: string; value: string }>> = {
  'f-bare-1': [],
  'f-bare-2': [],
  'f-db-1': [
    { key: 'env', value: 'prod' },
    { key: 'team', value: 'db' },
  ],
  'f-db-2': [{ key: 'env', value: 'dev' }],
  'f-web-1': [
    { key: 'env', value: 'prod' },
    { key: 'team', value: 'web' },
  ],
  'f-web-2': [
    { key: 'env', value: 'staging' },
    { key: 'team', value: 'web' },
  ],
};
const ALL = Object.keys(FLEET);

interface Resource {
  resource_id: string;
  resource_name: string;
  resource_detail: unknown;
  tags: Array<{ key: string; value: string }>;
}

describe('Huawei KPS key pairs filtered by tags (official SDK)', () => {
  let kf: Keyfleet;
  let api: Api;
  let kps: Kps;

  before(async () => {
    ({ kf, api } = await startInProcess());
    kps = kpsWithAkSk(kf.url);
    for (const [name, tags] of Object.entries(FLEET)) {
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name } } });
      if (tags.length > 0)
        await kps.call({
          method: 'POST',
          url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
          pathParams: { resource_id: name },
          data: { tags },
        });
    }
  });
  after(async () => kf?.close());

  const filter = async (data: unknown, queryParams?: Record<string, string | number>, client = kps) =>
    (await client.call({ method: 'POST', url: FILTER, data, ...(queryParams ? { queryParams } : {}) })) as {
      resources: Resource[];
      total_count: number;
    };
  const names = async (data: unknown) => (await filter(data)).resources.map((r) => r.resource_id);
  const count = async (data: unknown, client = kps) =>
    ((await client.call({ method: 'POST', url: COUNT, data })) as { total_count: number }).total_count;

  test('one key and value; every tag of each key pair is returned, and the name is its id', async () => {
    const answer = await filter({ tags: [{ key: 'env', values: ['prod'] }] });
    assert.equal(answer.total_count, 2);
    assert.deepEqual(answer.resources, [
      { resource_id: 'f-db-1', resource_name: 'f-db-1', resource_detail: {}, tags: FLEET['f-db-1'] },
      { resource_id: 'f-web-1', resource_name: 'f-web-1', resource_detail: {}, tags: FLEET['f-web-1'] },
    ]);
  });

  test('a key with any value: an empty list of values, or none', async () => {
    assert.deepEqual(await names({ tags: [{ key: 'team', values: [] }] }), ['f-db-1', 'f-web-1', 'f-web-2']);
    assert.deepEqual(await names({ tags: [{ key: 'team' }] }), ['f-db-1', 'f-web-1', 'f-web-2']);
    assert.deepEqual(await names({ tags: [{ key: 'no-such-key', values: [] }] }), []);
  });

  test('several keys must all match; several values of one key may any match', async () => {
    assert.deepEqual(
      await names({
        tags: [
          { key: 'env', values: ['prod'] },
          { key: 'team', values: ['web'] },
        ],
      }),
      ['f-web-1'],
    );
    assert.deepEqual(await names({ tags: [{ key: 'env', values: ['prod', 'staging'] }] }), [
      'f-db-1',
      'f-web-1',
      'f-web-2',
    ]);
    assert.deepEqual(
      await names({
        tags: [
          { key: 'env', values: ['prod', 'dev'] },
          { key: 'team', values: [] },
        ],
      }),
      ['f-db-1', 'f-web-1'],
      'f-db-2 has env=dev but no team',
    );
  });

  test('without_any_tag selects the key pairs with no tag, the tag filters then set aside', async () => {
    assert.deepEqual(await names({ without_any_tag: true }), ['f-bare-1', 'f-bare-2']);
    assert.deepEqual(await names({ without_any_tag: true, tags: [{ key: 'env', values: ['prod'] }] }), [
      'f-bare-1',
      'f-bare-2',
    ]);
    assert.deepEqual(await names({ without_any_tag: 'false' }), ALL, 'false (as a string too) selects everything');
  });

  test('matches on resource_name: the name contains the text, case-sensitively, every character literal', async () => {
    assert.deepEqual(await names({ matches: [{ key: 'resource_name', value: 'web' }] }), ['f-web-1', 'f-web-2']);
    assert.deepEqual(
      await names({ matches: [{ key: 'resource_name', value: 'web' }], tags: [{ key: 'env', values: ['prod'] }] }),
      ['f-web-1'],
    );
    assert.deepEqual(await names({ matches: [{ key: 'resource_name', value: '-2' }], without_any_tag: true }), [
      'f-bare-2',
    ]);
    assert.deepEqual(await names({ matches: [{ key: 'resource_name', value: 'WEB' }] }), []);
    // LIKE's wildcards are literal here: no name has a '%' or a '_'.
    assert.deepEqual(await names({ matches: [{ key: 'resource_name', value: '%' }] }), []);
    assert.deepEqual(await names({ matches: [{ key: 'resource_name', value: '_' }] }), []);
  });

  test('pages by limit and offset in name order, as numbers or strings, in the query or the body', async () => {
    const everything = await filter({});
    assert.equal(everything.total_count, ALL.length);
    assert.deepEqual(
      everything.resources.map((r) => r.resource_id),
      ALL,
      'ordered by name, 1000 a page by default',
    );
    const seen: string[] = [];
    for (let offset = 0; offset < ALL.length + 2; offset += 2) {
      const page = await filter({}, { limit: 2, offset });
      assert.equal(page.total_count, ALL.length, 'the total does not depend on the page');
      assert.ok(page.resources.length <= 2);
      seen.push(...page.resources.map((r) => r.resource_id));
    }
    assert.deepEqual(seen, ALL, 'the pages neither repeat nor skip a key pair');
    const strings = await filter({}, { limit: '2', offset: '4' });
    assert.deepEqual(
      strings.resources.map((r) => r.resource_id),
      ALL.slice(4, 6),
    );
    const inBody = await filter({ limit: '3', offset: 1 });
    assert.deepEqual(
      inBody.resources.map((r) => r.resource_id),
      ALL.slice(1, 4),
    );
    assert.equal(inBody.total_count, ALL.length);
    const filtered = await filter({ tags: [{ key: 'team', values: [] }], offset: 1, limit: 1 });
    assert.deepEqual(
      filtered.resources.map((r) => r.resource_id),
      ['f-web-1'],
    );
    assert.equal(filtered.total_count, 3);
    const beyond = await filter({}, { offset: 100 });
    assert.deepEqual(beyond.resources, []);
    assert.equal(beyond.total_count, ALL.length);
  });

  test("the count equals the filter's total for the same body", async () => {
    const bodies = [
      {},
      { tags: [{ key: 'env', values: ['prod'] }] },
      { tags: [{ key: 'env', values: ['prod', 'staging'] }] },
      {
        tags: [
          { key: 'env', values: ['prod'] },
          { key: 'team', values: [] },
        ],
      },
      { without_any_tag: true },
      { matches: [{ key: 'resource_name', value: 'db' }] },
      { tags: [{ key: 'nothing', values: ['x'] }] },
    ];
    const counts: number[] = [];
    for (const body of bodies) {
      const total = (await filter(body, { limit: 1 })).total_count;
      assert.equal(await count(body), total, JSON.stringify(body));
      counts.push(total);
    }
    assert.deepEqual(counts, [6, 2, 3, 2, 2, 2, 0]);
  });

  test('also served under resource_instances, with the same answers', async () => {
    const body = { tags: [{ key: 'team', values: ['web'] }] };
    const underscore = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/resource_instances/filter',
      data: body,
    });
    assert.deepEqual(underscore, await filter(body));
    const counted = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/resource_instances/count',
      data: body,
    });
    assert.equal(counted.total_count, 2);
  });

  test('a filter is a read: the same signed request is answered again, where a repeated tag change is refused', async () => {
    const project = await projectIdOf(kf.url);
    const host = new URL(kf.url).host;
    const sendTwice = async (path: string, body: unknown) => {
      const text = JSON.stringify(body);
      const { request } = signRequest({
        method: 'POST',
        rawPath: path,
        headers: { 'content-type': 'application/json', host },
        body: text,
        accessKeyId: ACCESS_KEY_ID,
        secretKey: ACCESS_KEY_SECRET,
      });
      const answers: Array<{ status: number; body: any }> = [];
      for (let n = 0; n < 2; n++) {
        const res = await fetch(kf.url + path, { method: 'POST', headers: request.headers, body: text });
        answers.push({ status: res.status, body: await res.json().catch(() => null) });
      }
      return answers;
    };
    for (const verb of ['filter', 'count']) {
      const [first, second] = await sendTwice(`/v3/${project}/keypairs/resource-instances/${verb}`, {
        tags: [{ key: 'env', values: ['prod'] }],
      });
      assert.equal(first!.status, 200, verb);
      assert.equal(second!.status, 200, `${verb}: a repeated read is answered`);
      assert.deepEqual(second!.body, first!.body);
    }
    const [tagged, replayed] = await sendTwice(`/v3/${project}/keypairs/f-db-2/tags/create`, {
      tags: [{ key: 'env', value: 'dev' }],
    });
    assert.equal(tagged!.status, 204);
    assert.equal(replayed!.status, 401, 'a repeated change is refused');
    assert.equal(replayed!.body.error_code, 'APIGW.0301');
  });

  test("another account's key pairs are never seen, even with the same names and tags", async () => {
    await kf.core.accounts.bootstrap({
      accountName: 'filter-other',
      adminName: 'admin',
      accessKeyId: OTHER_AK,
      accessKeySecret: OTHER_SK,
    });
    const other = kpsWithAkSk(kf.url, { ak: OTHER_AK, sk: OTHER_SK });
    for (const name of ['f-web-1', 'o-only']) {
      await other.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name } } });
      await other.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/{resource_id}/tags/create',
        pathParams: { resource_id: name },
        data: { tags: [{ key: 'env', value: 'prod' }] },
      });
    }
    assert.deepEqual(await names({ tags: [{ key: 'env', values: ['prod'] }] }), ['f-db-1', 'f-web-1']);
    assert.equal(await count({}), ALL.length);
    const theirs = await filter({ tags: [{ key: 'env', values: ['prod'] }] }, undefined, other);
    assert.deepEqual(
      theirs.resources.map((r) => r.resource_id),
      ['f-web-1', 'o-only'],
    );
    assert.equal(await count({}, other), 2);
  });

  test('a user without keypair:Describe is refused; kps:SSHKeyPair:list is enough', async () => {
    const projectId = await projectIdOf(kf.url);
    const tagsOnly = await principal(api, kf.url, projectId, [
      [{ Effect: 'Allow', Action: ['tag:Describe', 'tag:Create'], Resource: '*' }],
    ]);
    for (const url of [FILTER, COUNT]) {
      const refused = await tagsOnly.kps({ method: 'POST', url, data: {} });
      assert.equal(refused.status, 403, url);
      assert.equal(refused.code, 'KPS.9003');
      assert.match(String(refused.body), /keypair:Describe/);
    }
    const lister = await principal(api, kf.url, projectId, [
      [{ Effect: 'Allow', Action: 'kps:SSHKeyPair:list', Resource: 'acs:ecs:*:*:keypair/*' }],
    ]);
    const allowed = await lister.kps({
      method: 'POST',
      url: FILTER,
      data: { tags: [{ key: 'env', values: ['prod'] }] },
    });
    assert.equal(allowed.status, 200);
    assert.deepEqual(
      allowed.body.resources.map((r: Resource) => r.resource_id),
      ['f-db-1', 'f-web-1'],
    );
    const elsewhere = await principal(api, kf.url, projectId, [
      [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: 'acs:ecs:cn-shanghai:*:keypair/*' }],
    ]);
    assert.equal((await elsewhere.kps({ method: 'POST', url: COUNT, data: {} })).status, 403, 'another region only');
  });

  test('bad input is refused with KPS.0002, and nothing changes', async () => {
    const projectTags = async () => (await kps.call({ method: 'GET', url: '/v3/{project_id}/keypairs/tags' })).tags;
    const before = await projectTags();
    const tooMany = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    const cases: Array<{ why: string; data: unknown; query?: Record<string, string | number>; url?: string }> = [
      { why: 'limit 0', data: {}, query: { limit: 0 } },
      { why: 'limit over 1000', data: {}, query: { limit: 1001 } },
      { why: 'limit not a number', data: {}, query: { limit: 'ten' } },
      { why: 'limit not whole', data: { limit: 2.5 } },
      { why: 'limit Infinity', data: { limit: 'Infinity' } },
      { why: 'negative offset', data: {}, query: { offset: -1 } },
      { why: 'offset garbage', data: { offset: '1x' } },
      { why: 'limit twice, differently', data: { limit: 5 }, query: { limit: 6 } },
      { why: '11 tag keys', data: { tags: tooMany(11).map((key) => ({ key, values: [] })) } },
      { why: '11 values of one key', data: { tags: [{ key: 'env', values: tooMany(11) }] } },
      {
        why: 'a key twice',
        data: {
          tags: [
            { key: 'env', values: ['prod'] },
            { key: 'env', values: ['dev'] },
          ],
        },
      },
      { why: 'a value twice', data: { tags: [{ key: 'env', values: ['prod', 'prod'] }] } },
      { why: 'an empty key', data: { tags: [{ key: '', values: [] }] } },
      { why: 'a key of 129 characters', data: { tags: [{ key: 'k'.repeat(129), values: [] }] } },
      { why: 'a value of 256 characters', data: { tags: [{ key: 'env', values: ['v'.repeat(256)] }] } },
      { why: 'values not a list', data: { tags: [{ key: 'env', values: 'prod' }] } },
      { why: 'tags not a list', data: { tags: { key: 'env' } } },
      { why: 'without_any_tag not a boolean', data: { without_any_tag: 'maybe' } },
      { why: 'a match on another field', data: { matches: [{ key: 'description', value: 'x' }] } },
      { why: 'an empty match', data: { matches: [{ key: 'resource_name', value: '' }] } },
      {
        why: 'two matches',
        data: {
          matches: [
            { key: 'resource_name', value: 'a' },
            { key: 'resource_name', value: 'b' },
          ],
        },
      },
      { why: 'system tags', data: { sys_tags: [{ key: '_sys_enterprise_project_id', values: ['0'] }] } },
      { why: 'count: system tags', url: COUNT, data: { sys_tags: [{ key: 'x', values: [] }] } },
      { why: 'count: 11 tag keys', url: COUNT, data: { tags: tooMany(11).map((key) => ({ key })) } },
      { why: 'not an object', data: [] },
    ];
    for (const c of cases) {
      const err = await sdkError(
        kps.call({ method: 'POST', url: c.url ?? FILTER, data: c.data, ...(c.query ? { queryParams: c.query } : {}) }),
      );
      assert.equal(err.httpStatusCode, 400, c.why);
      assert.equal(err.errorCode, 'KPS.0002', c.why);
      assert.ok(err.errorMsg && err.errorMsg.length > 0, c.why);
    }
    const twice = await sdkError(
      kps.call({ method: 'POST', url: FILTER, data: { limit: 5 }, queryParams: { limit: 6 } }),
    );
    assert.match(twice.errorMsg!, /limit is given twice/);
    const sys = await sdkError(kps.call({ method: 'POST', url: FILTER, data: { sys_tags: [{ key: 'x' }] } }));
    assert.match(sys.errorMsg!, /no system tags/);
    assert.deepEqual(await projectTags(), before);
    assert.equal(await count({}), ALL.length);
  });
});
