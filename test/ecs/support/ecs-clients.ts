/**
 * The official Alibaba SDKs pointed at a running keyfleet, behind one small interface so that one scenario runs
 * through each of them:
 *  - `@alicloud/ecs20140526` 7.11.6 with its default signing (ACS3-HMAC-SHA256) and with signatureAlgorithm 'v2'
 *    (HMAC-SHA1): typed request classes in, typed (camelCase) response models out, exactly as an application
 *    uses it, so the models' casts (arrays, string counters) are exercised;
 *  - `@alicloud/pop-core` 1.8.0 over GET (query) and POST (form body): PascalCase JSON in and out.
 */
import EcsSdk, * as $Ecs from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import PopCore from '@alicloud/pop-core';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from '../../support/keyfleet.js';

export interface Tag {
  key: string;
  value: string;
}

export interface KeyPairInfo {
  name: string;
  fingerprint: string;
  creationTime: string;
  resourceGroupId: string;
  publicKey: string | undefined;
  tags: Tag[];
}

export interface InstanceInfo {
  id: string;
  name: string;
  status: string;
  osType: string;
  keyPairName: string;
  /** VpcAttributes.PrivateIpAddress.IpAddress[0]: where a simulated instance serves SSH. */
  address: string;
}

export interface BatchResult {
  keyPairName: string;
  totalCount: string;
  failCount: string;
  results: Array<{ instanceId: string; success: string; code: string; message: string }>;
}

export interface KeyPairQuery {
  name?: string;
  fingerprint?: string;
  pageNumber?: number;
  pageSize?: number;
  includePublicKey?: boolean;
  resourceGroupId?: string;
  tags?: Tag[];
}

export interface RunQuery {
  imageId: string;
  amount?: number;
  name?: string;
  password?: string;
  instanceType?: string;
  keyPairName?: string;
}

export interface EcsDriver {
  readonly label: string;
  describeRegions(): Promise<Array<{ regionId: string; endpoint: string }>>;
  describeImages(regionId: string): Promise<Array<{ imageId: string; osType: string }>>;
  createKeyPair(
    regionId: string,
    name: string,
    tags?: Tag[],
  ): Promise<{ name: string; id: string; fingerprint: string; privateKey: string }>;
  importKeyPair(
    regionId: string,
    name: string,
    publicKey: string,
    tags?: Tag[],
  ): Promise<{ name: string; fingerprint: string }>;
  describeKeyPairs(
    regionId: string,
    q?: KeyPairQuery,
  ): Promise<{ totalCount: number; pageNumber: number; pageSize: number; keyPairs: KeyPairInfo[] }>;
  deleteKeyPairs(regionId: string, names: string[]): Promise<void>;
  attachKeyPair(regionId: string, name: string, instanceIds: string[]): Promise<BatchResult>;
  detachKeyPair(regionId: string, name: string, instanceIds: string[]): Promise<BatchResult>;
  runInstances(regionId: string, q: RunQuery): Promise<string[]>;
  describeInstances(
    regionId: string,
    q?: { instanceIds?: string[]; keyPairName?: string; status?: string },
  ): Promise<{ totalCount: number; instances: InstanceInfo[] }>;
  startInstance(id: string): Promise<void>;
  stopInstance(id: string): Promise<void>;
  rebootInstance(id: string): Promise<void>;
  modifyPassword(id: string, password: string): Promise<void>;
  deleteInstance(id: string, force: boolean): Promise<void>;
}

/** What an SDK error says, whichever SDK threw it. */
export function sdkErrorOf(e: unknown): { code: string | undefined; statusCode: number | undefined } {
  const err = e as { code?: unknown; statusCode?: unknown; entry?: { response?: { statusCode?: number } } };
  return {
    code: typeof err?.code === 'string' ? err.code : undefined,
    statusCode: typeof err?.statusCode === 'number' ? err.statusCode : err?.entry?.response?.statusCode,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// @alicloud/ecs20140526

const EcsClient = EcsSdk.default;

export function ecsSdkDriver(
  baseUrl: string,
  signatureAlgorithm: 'default' | 'v2',
  creds = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET },
): EcsDriver {
  const config = new $OpenApi.Config({
    ...creds,
    endpoint: new URL(baseUrl).host,
    protocol: 'http',
    readTimeout: 30_000,
  });
  if (signatureAlgorithm === 'v2') config.signatureAlgorithm = 'v2';
  const c = new EcsClient(config);
  const tagsOf = <T>(Cls: new (m: Record<string, string>) => T, tags: Tag[] | undefined) =>
    tags?.map((t) => new Cls({ key: t.key, value: t.value }));
  const batch = (b: {
    keyPairName?: string;
    totalCount?: string;
    failCount?: string;
    results?: { result?: Array<{ instanceId?: string; success?: string; code?: string; message?: string }> };
  }): BatchResult => ({
    keyPairName: b.keyPairName ?? '',
    totalCount: b.totalCount ?? '',
    failCount: b.failCount ?? '',
    results: (b.results?.result ?? []).map((r) => ({
      instanceId: r.instanceId ?? '',
      success: r.success ?? '',
      code: r.code ?? '',
      message: r.message ?? '',
    })),
  });
  return {
    label: `@alicloud/ecs20140526 7.11.6 (${signatureAlgorithm === 'v2' ? "signatureAlgorithm 'v2', HMAC-SHA1" : 'default, ACS3-HMAC-SHA256'})`,
    async describeRegions() {
      const r = await c.describeRegions(new $Ecs.DescribeRegionsRequest({ acceptLanguage: 'en-US' }));
      return (r.body?.regions?.region ?? []).map((x) => ({
        regionId: x.regionId ?? '',
        endpoint: x.regionEndpoint ?? '',
      }));
    },
    async describeImages(regionId) {
      const r = await c.describeImages(new $Ecs.DescribeImagesRequest({ regionId, pageSize: 100 }));
      return (r.body?.images?.image ?? []).map((x) => ({ imageId: x.imageId ?? '', osType: x.OSType ?? '' }));
    },
    async createKeyPair(regionId, name, tags) {
      const r = await c.createKeyPair(
        new $Ecs.CreateKeyPairRequest({ regionId, keyPairName: name, tag: tagsOf($Ecs.CreateKeyPairRequestTag, tags) }),
      );
      return {
        name: r.body?.keyPairName ?? '',
        id: r.body?.keyPairId ?? '',
        fingerprint: r.body?.keyPairFingerPrint ?? '',
        privateKey: r.body?.privateKeyBody ?? '',
      };
    },
    async importKeyPair(regionId, name, publicKey, tags) {
      const r = await c.importKeyPair(
        new $Ecs.ImportKeyPairRequest({
          regionId,
          keyPairName: name,
          publicKeyBody: publicKey,
          tag: tagsOf($Ecs.ImportKeyPairRequestTag, tags),
        }),
      );
      return { name: r.body?.keyPairName ?? '', fingerprint: r.body?.keyPairFingerPrint ?? '' };
    },
    async describeKeyPairs(regionId, q = {}) {
      const r = await c.describeKeyPairs(
        new $Ecs.DescribeKeyPairsRequest({
          regionId,
          keyPairName: q.name,
          keyPairFingerPrint: q.fingerprint,
          pageNumber: q.pageNumber,
          pageSize: q.pageSize,
          includePublicKey: q.includePublicKey,
          resourceGroupId: q.resourceGroupId,
          tag: tagsOf($Ecs.DescribeKeyPairsRequestTag, q.tags),
        }),
      );
      const b = r.body!;
      return {
        totalCount: b.totalCount ?? -1,
        pageNumber: b.pageNumber ?? -1,
        pageSize: b.pageSize ?? -1,
        keyPairs: (b.keyPairs?.keyPair ?? []).map((k) => ({
          name: k.keyPairName ?? '',
          fingerprint: k.keyPairFingerPrint ?? '',
          creationTime: k.creationTime ?? '',
          resourceGroupId: k.resourceGroupId ?? '',
          publicKey: k.publicKey,
          tags: (k.tags?.tag ?? []).map((t) => ({ key: t.tagKey ?? '', value: t.tagValue ?? '' })),
        })),
      };
    },
    async deleteKeyPairs(regionId, names) {
      await c.deleteKeyPairs(new $Ecs.DeleteKeyPairsRequest({ regionId, keyPairNames: JSON.stringify(names) }));
    },
    async attachKeyPair(regionId, name, ids) {
      return batch(
        (
          await c.attachKeyPair(
            new $Ecs.AttachKeyPairRequest({ regionId, keyPairName: name, instanceIds: JSON.stringify(ids) }),
          )
        ).body!,
      );
    },
    async detachKeyPair(regionId, name, ids) {
      return batch(
        (
          await c.detachKeyPair(
            new $Ecs.DetachKeyPairRequest({ regionId, keyPairName: name, instanceIds: JSON.stringify(ids) }),
          )
        ).body!,
      );
    },
    async runInstances(regionId, q) {
      const r = await c.runInstances(
        new $Ecs.RunInstancesRequest({
          regionId,
          imageId: q.imageId,
          amount: q.amount,
          instanceName: q.name,
          password: q.password,
          instanceType: q.instanceType,
          keyPairName: q.keyPairName,
        }),
      );
      return r.body?.instanceIdSets?.instanceIdSet ?? [];
    },
    async describeInstances(regionId, q = {}) {
      const r = await c.describeInstances(
        new $Ecs.DescribeInstancesRequest({
          regionId,
          instanceIds: q.instanceIds ? JSON.stringify(q.instanceIds) : undefined,
          keyPairName: q.keyPairName,
          status: q.status,
          pageSize: 100,
        }),
      );
      return {
        totalCount: r.body?.totalCount ?? -1,
        instances: (r.body?.instances?.instance ?? []).map((i) => ({
          id: i.instanceId ?? '',
          name: i.instanceName ?? '',
          status: i.status ?? '',
          osType: i.OSType ?? '',
          keyPairName: i.keyPairName ?? '',
          address: i.vpcAttributes?.privateIpAddress?.ipAddress?.[0] ?? '',
        })),
      };
    },
    async startInstance(id) {
      await c.startInstance(new $Ecs.StartInstanceRequest({ instanceId: id }));
    },
    async stopInstance(id) {
      await c.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: id }));
    },
    async rebootInstance(id) {
      await c.rebootInstance(new $Ecs.RebootInstanceRequest({ instanceId: id }));
    },
    async modifyPassword(id, password) {
      await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: id, password }));
    },
    async deleteInstance(id, force) {
      await c.deleteInstance(new $Ecs.DeleteInstanceRequest({ instanceId: id, force }));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// @alicloud/pop-core

type Json = Record<string, any>;

export function popCoreDriver(
  baseUrl: string,
  method: 'GET' | 'POST',
  creds = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET },
): EcsDriver {
  const client = new PopCore.RPCClient({ ...creds, endpoint: baseUrl, apiVersion: '2014-05-26' });
  const call = (action: string, params: Json) => client.request<Json>(action, params, { method, timeout: 30_000 });
  // pop-core flattens [{Key, Value}] into Tag.1.Key, Tag.1.Value (SDK-TRAFFIC §1.2).
  const tagParam = (tags: Tag[] | undefined) =>
    tags && tags.length > 0 ? { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } : {};
  const batch = (b: Json): BatchResult => ({
    keyPairName: b.KeyPairName,
    totalCount: String(b.TotalCount),
    failCount: String(b.FailCount),
    results: (b.Results?.Result ?? []).map((r: Json) => ({
      instanceId: r.InstanceId,
      success: String(r.Success),
      code: String(r.Code),
      message: r.Message,
    })),
  });
  const defined = (o: Json) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    label: `@alicloud/pop-core 1.8.0 (${method}, HMAC-SHA1)`,
    async describeRegions() {
      const r = await call('DescribeRegions', { AcceptLanguage: 'en-US' });
      return r.Regions.Region.map((x: Json) => ({ regionId: x.RegionId, endpoint: x.RegionEndpoint }));
    },
    async describeImages(regionId) {
      const r = await call('DescribeImages', { RegionId: regionId, PageSize: 100 });
      return r.Images.Image.map((x: Json) => ({ imageId: x.ImageId, osType: x.OSType }));
    },
    async createKeyPair(regionId, name, tags) {
      const r = await call('CreateKeyPair', { RegionId: regionId, KeyPairName: name, ...tagParam(tags) });
      return { name: r.KeyPairName, id: r.KeyPairId, fingerprint: r.KeyPairFingerPrint, privateKey: r.PrivateKeyBody };
    },
    async importKeyPair(regionId, name, publicKey, tags) {
      const r = await call('ImportKeyPair', {
        RegionId: regionId,
        KeyPairName: name,
        PublicKeyBody: publicKey,
        ...tagParam(tags),
      });
      return { name: r.KeyPairName, fingerprint: r.KeyPairFingerPrint };
    },
    async describeKeyPairs(regionId, q = {}) {
      const r = await call(
        'DescribeKeyPairs',
        defined({
          RegionId: regionId,
          KeyPairName: q.name,
          KeyPairFingerPrint: q.fingerprint,
          PageNumber: q.pageNumber,
          PageSize: q.pageSize,
          IncludePublicKey: q.includePublicKey,
          ResourceGroupId: q.resourceGroupId,
          ...tagParam(q.tags),
        }),
      );
      return {
        totalCount: r.TotalCount,
        pageNumber: r.PageNumber,
        pageSize: r.PageSize,
        keyPairs: r.KeyPairs.KeyPair.map((k: Json) => ({
          name: k.KeyPairName,
          fingerprint: k.KeyPairFingerPrint,
          creationTime: k.CreationTime,
          resourceGroupId: k.ResourceGroupId,
          publicKey: k.PublicKey,
          tags: k.Tags.Tag.map((t: Json) => ({ key: t.TagKey, value: t.TagValue })),
        })),
      };
    },
    async deleteKeyPairs(regionId, names) {
      await call('DeleteKeyPairs', { RegionId: regionId, KeyPairNames: JSON.stringify(names) });
    },
    async attachKeyPair(regionId, name, ids) {
      return batch(
        await call('AttachKeyPair', { RegionId: regionId, KeyPairName: name, InstanceIds: JSON.stringify(ids) }),
      );
    },
    async detachKeyPair(regionId, name, ids) {
      return batch(
        await call('DetachKeyPair', { RegionId: regionId, KeyPairName: name, InstanceIds: JSON.stringify(ids) }),
      );
    },
    async runInstances(regionId, q) {
      const r = await call(
        'RunInstances',
        defined({
          RegionId: regionId,
          ImageId: q.imageId,
          Amount: q.amount,
          InstanceName: q.name,
          Password: q.password,
          InstanceType: q.instanceType,
          KeyPairName: q.keyPairName,
        }),
      );
      return r.InstanceIdSets.InstanceIdSet;
    },
    async describeInstances(regionId, q = {}) {
      const r = await call(
        'DescribeInstances',
        defined({
          RegionId: regionId,
          InstanceIds: q.instanceIds ? JSON.stringify(q.instanceIds) : undefined,
          KeyPairName: q.keyPairName,
          Status: q.status,
          PageSize: 100,
        }),
      );
      return {
        totalCount: r.TotalCount,
        instances: r.Instances.Instance.map((i: Json) => ({
          id: i.InstanceId,
          name: i.InstanceName,
          status: i.Status,
          osType: i.OSType,
          keyPairName: i.KeyPairName,
          address: i.VpcAttributes.PrivateIpAddress.IpAddress[0],
        })),
      };
    },
    async startInstance(id) {
      await call('StartInstance', { InstanceId: id });
    },
    async stopInstance(id) {
      await call('StopInstance', { InstanceId: id });
    },
    async rebootInstance(id) {
      await call('RebootInstance', { InstanceId: id });
    },
    async modifyPassword(id, password) {
      await call('ModifyInstanceAttribute', { InstanceId: id, Password: password });
    },
    async deleteInstance(id, force) {
      await call('DeleteInstance', { InstanceId: id, Force: force });
    },
  };
}
