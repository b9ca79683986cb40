/**
 * Tags and resource groups through the official Alibaba SDKs (issue 20): @alicloud/ecs20140526 7.11.6 (ACS3 signing)
 * drives TagResources, UntagResources (keys and All), ListTagResources with NextToken paging, the Tag.N filters and
 * Tags of DescribeKeyPairs and DescribeInstances, and JoinResourceGroup for an instance and a key pair; the error
 * codes are asserted with nothing changed; @alicloud/pop-core 1.8.0 (HMAC-SHA1, form POST) sends the same repeat
 * lists its own way. Groups are made and refused deletion through the native API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import EcsSdk, * as $Ecs from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import PopCore from '@alicloud/pop-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { ecsSdkDriver, sdkErrorOf } from './support/ecs-clients.js';

const REGION = 'cn-hangzhou';

describe('ECS tags and resource groups through the official SDKs', () => {
  let kf: Keyfleet;
  let api: Api;
  let ecs: InstanceType<typeof EcsSdk.default>;
  let instances: string[];

  before(async () => {
    const started = await startInProcess();
    kf = started.kf;
    api = started.api;
    ecs = new EcsSdk.default(
      new $OpenApi.Config({
        accessKeyId: ACCESS_KEY_ID,
        accessKeySecret: ACCESS_KEY_SECRET,
        endpoint: new URL(kf.url).host,
        protocol: 'http',
        readTimeout: 30_000,
      }),
    );
    const driver = ecsSdkDriver(kf.url, 'default');
    for (const name of ['tk-web', 'tk-db', 'tk-ops']) await driver.createKeyPair(REGION, name);
    instances = await driver.runInstances(REGION, { imageId: LINUX_IMAGE, amount: 3 });
  });
  after(async () => {
    await kf?.close();
  });

  const tag = (resourceType: string, resourceId: string[], tags: Array<[string, string]>) =>
    ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: REGION,
        resourceType,
        resourceId,
        tag: tags.map(([key, value]) => new $Ecs.TagResourcesRequestTag({ key, value })),
      }),
    );
  const listAll = async (resourceType: string, q: Partial<$Ecs.ListTagResourcesRequest> = {}) => {
    const rows: Array<{ id: string; key: string; value: string; type: string }> = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const r = await ecs.listTagResources(
        new $Ecs.ListTagResourcesRequest({ regionId: REGION, resourceType, nextToken, ...q }),
      );
      for (const t of r.body?.tagResources?.tagResource ?? [])
        rows.push({ id: t.resourceId ?? '', key: t.tagKey ?? '', value: t.tagValue ?? '', type: t.resourceType ?? '' });
      nextToken = r.body?.nextToken || undefined;
      pages += 1;
    } while (nextToken && pages < 50);
    return { rows, pages };
  };
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      const { code: c, statusCode } = sdkErrorOf(e);
      return `${statusCode} ${c}`;
    }
    return 'no error';
  };

  test('TagResources tags key pairs by name; DescribeKeyPairs filters by every Tag.N and returns Tags', async () => {
    await tag(
      'keypair',
      ['tk-web', 'tk-db'],
      [
        ['env', 'prod'],
        ['team', 'web'],
      ],
    );
    await tag('keypair', ['tk-db'], [['team', 'data']]); // overwrites the value of a key it has
    const byEnv = await ecs.describeKeyPairs(
      new $Ecs.DescribeKeyPairsRequest({
        regionId: REGION,
        tag: [new $Ecs.DescribeKeyPairsRequestTag({ key: 'env', value: 'prod' })],
      }),
    );
    assert.deepEqual(byEnv.body?.keyPairs?.keyPair?.map((k) => k.keyPairName).sort(), ['tk-db', 'tk-web']);
    const db = byEnv.body?.keyPairs?.keyPair?.find((k) => k.keyPairName === 'tk-db');
    assert.deepEqual(
      db?.tags?.tag?.map((t) => `${t.tagKey}=${t.tagValue}`),
      ['env=prod', 'team=data'],
    );
    const both = await ecs.describeKeyPairs(
      new $Ecs.DescribeKeyPairsRequest({
        regionId: REGION,
        tag: [
          new $Ecs.DescribeKeyPairsRequestTag({ key: 'env', value: 'prod' }),
          new $Ecs.DescribeKeyPairsRequestTag({ key: 'team', value: 'web' }),
        ],
      }),
    );
    assert.deepEqual(
      both.body?.keyPairs?.keyPair?.map((k) => k.keyPairName),
      ['tk-web'],
    );
  });

  test('DescribeInstances filters by Tag.N (a key alone matches any value) and returns Tags', async () => {
    const [a, b] = instances as [string, string, string];
    await tag('instance', [a], [['role', 'edge']]);
    await tag('instance', [b], [['role', 'core']]);
    const edge = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({
        regionId: REGION,
        tag: [new $Ecs.DescribeInstancesRequestTag({ key: 'role', value: 'edge' })],
      }),
    );
    assert.deepEqual(
      edge.body?.instances?.instance?.map((i) => i.instanceId),
      [a],
    );
    assert.deepEqual(
      edge.body?.instances?.instance?.[0]?.tags?.tag?.map((t) => [t.tagKey, t.tagValue]),
      [['role', 'edge']],
    );
    const anyRole = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({
        regionId: REGION,
        tag: [new $Ecs.DescribeInstancesRequestTag({ key: 'role' })],
      }),
    );
    assert.deepEqual(anyRole.body?.instances?.instance?.map((i) => i.instanceId).sort(), [a, b].sort());
    assert.equal(anyRole.body?.totalCount, 2);
  });

  test('ListTagResources pages with NextToken through every row once; UntagResources removes keys, then All', async () => {
    const many = Array.from({ length: 20 }, (_, n): [string, string] => [`k${String(n).padStart(2, '0')}`, `v${n}`]);
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: REGION,
        resourceType: 'keypair',
        resourceId: ['tk-web', 'tk-db'],
        all: true,
      }),
    );
    await tag('keypair', ['tk-web', 'tk-db', 'tk-ops'], many);
    const { rows, pages } = await listAll('keypair');
    assert.equal(rows.length, 60);
    assert.ok(pages >= 2, 'more than one page');
    assert.equal(new Set(rows.map((r) => `${r.id}/${r.key}`)).size, 60, 'no row twice');
    assert.ok(rows.every((r) => r.type === 'keypair'));
    const one = await listAll('keypair', { resourceId: ['tk-ops'] });
    assert.equal(one.rows.length, 20);
    const byTag = await listAll('keypair', { tag: [new $Ecs.ListTagResourcesRequestTag({ key: 'k03', value: 'v3' })] });
    assert.deepEqual([...new Set(byTag.rows.map((r) => r.id))].sort(), ['tk-db', 'tk-ops', 'tk-web']);

    // A 21st tag is refused, and nothing is added.
    assert.equal(await code(tag('keypair', ['tk-ops'], [['one-too-many', 'x']])), '403 QuotaExceed.Tags');
    assert.equal((await listAll('keypair', { resourceId: ['tk-ops'] })).rows.length, 20);

    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: REGION,
        resourceType: 'keypair',
        resourceId: ['tk-ops'],
        tagKey: ['k00', 'k01', 'absent'],
      }),
    );
    assert.equal((await listAll('keypair', { resourceId: ['tk-ops'] })).rows.length, 18);
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: REGION,
        resourceType: 'keypair',
        resourceId: ['tk-ops', 'tk-web', 'tk-db'],
        all: true,
      }),
    );
    assert.equal((await listAll('keypair')).rows.length, 0);
  });

  test('pop-core sends ResourceId.N and Tag.N its own way (form POST, HMAC-SHA1)', async () => {
    const client = new PopCore.RPCClient({
      accessKeyId: ACCESS_KEY_ID,
      accessKeySecret: ACCESS_KEY_SECRET,
      endpoint: kf.url,
      apiVersion: '2014-05-26',
    });
    const c = instances[2]!;
    await client.request(
      'TagResources',
      { RegionId: REGION, ResourceType: 'instance', ResourceId: [c], Tag: [{ Key: 'via', Value: 'pop' }] },
      { method: 'POST' },
    );
    const r = await client.request<{
      TagResources: { TagResource: Array<{ ResourceId: string; TagKey: string }> };
      NextToken: string;
    }>('ListTagResources', { RegionId: REGION, ResourceType: 'instance', ResourceId: [c] }, { method: 'POST' });
    assert.deepEqual(
      r.TagResources.TagResource.map((t) => [t.ResourceId, t.TagKey]),
      [[c, 'via']],
    );
    assert.equal(r.NextToken, '');
  });

  test('tag text that tests the signers: spaces, reserved characters and non-ASCII, through all three signings', async () => {
    // Each signing percent-encodes the Tag.N.Key/Tag.N.Value pairs into what it signs: RFC 3986 with '~' kept,
    // '*' and '+' encoded, UTF-8 bytes for non-ASCII. A mismatch with keyfleet's canonical form is a refused call.
    const text = [
      ['owner name', 'Zoë & Łukasz'],
      ['path/like:key', 'a+b=c;d*e~f'],
      ['部门', '运维 团队'],
      ['quote', `it's "quoted" (100%)`],
    ] as const;
    const c = instances[1]!;
    await tag('instance', [c], [[text[0][0], text[0][1]]]);
    const v2 = new EcsSdk.default(
      new $OpenApi.Config({
        accessKeyId: ACCESS_KEY_ID,
        accessKeySecret: ACCESS_KEY_SECRET,
        endpoint: new URL(kf.url).host,
        protocol: 'http',
        signatureAlgorithm: 'v2',
      }),
    );
    await v2.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: REGION,
        resourceType: 'instance',
        resourceId: [c],
        tag: [new $Ecs.TagResourcesRequestTag({ key: text[1][0], value: text[1][1] })],
      }),
    );
    const pop = new PopCore.RPCClient({
      accessKeyId: ACCESS_KEY_ID,
      accessKeySecret: ACCESS_KEY_SECRET,
      endpoint: kf.url,
      apiVersion: '2014-05-26',
    });
    await pop.request(
      'TagResources',
      {
        RegionId: REGION,
        ResourceType: 'instance',
        ResourceId: [c],
        Tag: [
          { Key: text[2][0], Value: text[2][1] },
          { Key: text[3][0], Value: text[3][1] },
        ],
      },
      { method: 'POST' },
    );
    const ours = new Set<string>(text.map(([k]) => k));
    const seen = (await listAll('instance', { resourceId: [c] })).rows
      .filter((r) => r.id === c && ours.has(r.key))
      .map((r) => [r.key, r.value])
      .sort();
    assert.deepEqual(seen, text.map(([k, v]) => [k, v]).sort());
    // The same text as a filter, signed by pop-core as a GET query this time.
    const found = await pop.request<{ Instances: { Instance: Array<{ InstanceId: string }> } }>(
      'DescribeInstances',
      { RegionId: REGION, 'Tag.1.Key': text[3][0], 'Tag.1.Value': text[3][1] },
      { method: 'GET' },
    );
    assert.deepEqual(
      found.Instances.Instance.map((i) => i.InstanceId),
      [c],
    );
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: REGION,
        resourceType: 'instance',
        resourceId: [c],
        tagKey: text.map(([k]) => k),
      }),
    );
    assert.deepEqual(
      (await listAll('instance', { resourceId: [c] })).rows.filter((r) => r.id === c && ours.has(r.key)),
      [],
    );
  });

  test('the tag error codes, each with nothing changed', async () => {
    const before = await listAll('instance');
    assert.equal(
      await code(tag('instance', ['i-doesnotexist0000000'], [['a', 'b']])),
      '404 InvalidResourceId.NotFound',
    );
    assert.equal(
      await code(tag('instance', [instances[0]!, 'i-doesnotexist0000000'], [['a', 'b']])),
      '404 InvalidResourceId.NotFound',
    );
    assert.equal(await code(tag('disk', ['d-1'], [['a', 'b']])), '404 InvalidResourceType.NotFound');
    assert.equal(
      await code(tag('instance', [instances[0]!], [['aliyun-reserved', 'b']])),
      '400 InvalidTagKey.Malformed',
    );
    assert.equal(
      await code(tag('instance', [instances[0]!], [['ok', 'acs:reserved']])),
      '400 InvalidTagValue.Malformed',
    );
    assert.equal(
      await code(
        tag(
          'instance',
          [instances[0]!],
          [
            ['dup', 'a'],
            ['dup', 'b'],
          ],
        ),
      ),
      '400 Duplicate.TagKey',
    );
    assert.equal(
      await code(
        ecs.untagResources(
          new $Ecs.UntagResourcesRequest({ regionId: REGION, resourceType: 'instance', resourceId: [instances[0]!] }),
        ),
      ),
      '400 MissingParameter',
    );
    assert.equal(
      await code(
        ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({ regionId: REGION, resourceType: 'instance', nextToken: 'not-a-token' }),
        ),
      ),
      '400 InvalidParameter',
    );
    assert.equal(
      await code(
        ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({
            regionId: REGION,
            resourceType: 'instance',
            tag: [new $Ecs.ListTagResourcesRequestTag({ value: 'v' })],
          }),
        ),
      ),
      '400 InvalidParameter.TagValue',
    );
    assert.deepEqual(await listAll('instance'), before);
  });

  test('JoinResourceGroup moves an instance and a key pair; a group that holds them cannot be deleted', async () => {
    const group = await api.call('POST', '/api/v1/resource-groups', { name: 'payments' });
    const listed = await api.call('GET', '/api/v1/resource-groups');
    assert.ok(
      listed.resourceGroups.some((g: { id: string }) => g.id === group.id),
      'the selector lists the new group',
    );
    const join = (resourceType: string, resourceId: string, resourceGroupId = group.id as string) =>
      ecs.joinResourceGroup(
        new $Ecs.JoinResourceGroupRequest({ regionId: REGION, resourceType, resourceId, resourceGroupId }),
      );
    await join('instance', instances[0]!);
    await join('keypair', 'tk-web');
    const inGroup = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({ regionId: REGION, resourceGroupId: group.id }),
    );
    assert.deepEqual(
      inGroup.body?.instances?.instance?.map((i) => i.instanceId),
      [instances[0]],
    );
    const kps = await ecs.describeKeyPairs(
      new $Ecs.DescribeKeyPairsRequest({ regionId: REGION, resourceGroupId: group.id }),
    );
    assert.deepEqual(
      kps.body?.keyPairs?.keyPair?.map((k) => [k.keyPairName, k.resourceGroupId]),
      [['tk-web', group.id]],
    );

    assert.equal(
      await code(join('instance', instances[1]!, 'rg-doesnotexist0000')),
      '404 InvalidResourceGroup.NotFound',
    );
    assert.equal(await code(join('keypair', 'no-such-key-pair')), '404 InvalidResourceId.NotFound');
    assert.equal(await code(join('disk', 'd-1')), '404 InvalidResourceType.NotFound');

    const refused = await api.raw('DELETE', `/api/v1/resource-groups/${group.id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'ResourceGroup.NotEmpty');
    assert.deepEqual([refused.body.details.keyPairs, refused.body.details.instances], [1, 1]);
    const def = listed.resourceGroups.find((g: { name: string }) => g.name === 'default');
    await join('instance', instances[0]!, def.id);
    await join('keypair', 'tk-web', def.id);
    assert.equal((await api.raw('DELETE', `/api/v1/resource-groups/${group.id}`)).status, 204);
    const after = await api.call('GET', '/api/v1/resource-groups');
    assert.ok(!after.resourceGroups.some((g: { id: string }) => g.id === group.id));
  });
});
