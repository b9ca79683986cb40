/**
 * Every error code Alibaba documents for the served operations (test/fixtures/alibaba/documented-error-codes.json,
 * summarised in docs/api/alibaba-ecs.md), each produced by the request that
 * triggers it, with its HTTP status and Code asserted, and nothing changed (key pairs and instances are
 * compared before and after). Per-instance codes of AttachKeyPair/DetachKeyPair are asserted in
 * `Results.Result` of an HTTP 200. The rows rotate through the three wire forms (ACS3 POST, HMAC-SHA1 GET,
 * HMAC-SHA1 form POST). Signature refusals (tampered, unknown key, expired, replayed) follow, then the errors
 * that need a failing core (InternalError, ServiceUnavailable), then a check that every documented code was proven
 * here or is listed in NOT_PRODUCED with the reason it cannot occur.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildHttpServer } from '../../src/api/http/server.js';
import { NOT_PRODUCED } from '../../src/api/ecs/errors.js';
import { ecsApiPlugin } from '../../src/api/ecs/plugin.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { CoreError } from '../../src/core/errors.js';
import type { Core } from '../../src/core/index.js';
import { ACCESS_KEY_ID, type Api, LINUX_IMAGE, startInProcess, WINDOWS_IMAGE } from '../support/keyfleet.js';
import { ecsSdkDriver, popCoreDriver, sdkErrorOf } from './support/ecs-clients.js';
import { ecsCall, type RawCall, type RawResponse, SCHEMES, send, signCall } from './support/raw-ecs.js';

/** Alibaba's documented error codes of the served operations and the gateway, with status and section. */
const DOCUMENTED_CODES = new URL('../fixtures/alibaba/documented-error-codes.json', import.meta.url);

const REGION = 'cn-hangzhou';
/** Key pairs per region in this keyfleet: small, so QuotaExceed.KeyPair can be reached. */
const QUOTA = 4;
const FULL_REGION = 'ap-southeast-1';
const AUDITOR_KEY = { id: 'LTAIauditorNotAdmin01', secret: 'auditorSecretForLoopbackOnly01' };
const RETIRED_KEY = { id: 'LTAIretiredInactive01', secret: 'retiredSecretForLoopbackOnly01' };

interface Fixture {
  linuxBound: string;
  linuxFree: string;
  windows: string;
  notIoOptimized: string;
  stopped: string;
}

interface Row {
  code: string;
  status: number;
  when: string;
  call: (fx: Fixture) => RawCall;
  /** Instance-level codes come back in Results.Result[0] of an HTTP 200 (API.md §3.5). */
  perInstance?: boolean;
}

const tags = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      [`Tag.${i + 1}.Key`, `k${i}`],
      [`Tag.${i + 1}.Value`, 'v'],
    ]).flat(),
  );
const ids = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `i-batch${String(i).padStart(14, '0')}`));

const ROWS: Row[] = [
  // §1.4 common
  {
    code: 'MissingParameter',
    status: 400,
    when: 'CreateKeyPair without KeyPairName',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION } }),
  },
  {
    code: 'MissingParameter',
    status: 400,
    when: 'AttachKeyPair without RegionId',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.linuxFree]) },
    }),
  },
  {
    code: 'InvalidParameter',
    status: 400,
    when: 'DescribeKeyPairs PageSize above 50',
    call: () => ({ action: 'DescribeKeyPairs', params: { RegionId: REGION, PageSize: '51' } }),
  },
  {
    code: 'InvalidParameter',
    status: 400,
    when: 'DescribeKeyPairs IncludePublicKey not a boolean',
    call: () => ({ action: 'DescribeKeyPairs', params: { RegionId: REGION, IncludePublicKey: 'maybe' } }),
  },
  {
    code: 'InvalidParameter',
    status: 400,
    when: 'RunInstances Amount 0',
    call: () => ({ action: 'RunInstances', params: { RegionId: REGION, ImageId: LINUX_IMAGE, Amount: '0' } }),
  },
  {
    code: 'InvalidParameter',
    status: 400,
    when: 'RunInstances DryRun (no check-only mode in the core: refused, nothing created)',
    call: () => ({ action: 'RunInstances', params: { RegionId: REGION, ImageId: LINUX_IMAGE, DryRun: 'true' } }),
  },
  {
    code: 'InvalidParameter',
    status: 400,
    when: 'ModifyInstanceAttribute of an attribute keyfleet cannot change (refused, not ignored)',
    call: (fx) => ({
      action: 'ModifyInstanceAttribute',
      params: { InstanceId: fx.linuxFree, HostName: 'web-01', Password: 'Never-Set-0001' },
    }),
  },
  {
    code: 'DryRunOperation',
    status: 400,
    when: 'RebootInstance DryRun=true on a Running instance',
    call: (fx) => ({ action: 'RebootInstance', params: { InstanceId: fx.linuxFree, DryRun: 'true' } }),
  },
  {
    code: 'DryRunOperation',
    status: 400,
    when: 'StartInstance DryRun=true on a Stopped instance',
    call: (fx) => ({ action: 'StartInstance', params: { InstanceId: fx.stopped, DryRun: 'true' } }),
  },
  {
    code: 'DryRunOperation',
    status: 400,
    when: 'StopInstance DryRun=true on a Running instance',
    call: (fx) => ({ action: 'StopInstance', params: { InstanceId: fx.linuxFree, DryRun: 'true' } }),
  },
  {
    code: 'Forbidden.RAM',
    status: 403,
    when: 'a user who is not an administrator describes key pairs',
    call: () => ({
      action: 'DescribeKeyPairs',
      params: { RegionId: REGION },
      accessKeyId: AUDITOR_KEY.id,
      secret: AUDITOR_KEY.secret,
    }),
  },
  {
    code: 'Forbidden.RAM',
    status: 403,
    when: 'a user who is not an administrator attaches a key pair',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.linuxFree]) },
      accessKeyId: AUDITOR_KEY.id,
      secret: AUDITOR_KEY.secret,
    }),
  },
  {
    code: 'InvalidRegionId.NotFound',
    status: 404,
    when: 'DescribeKeyPairs in an unknown region',
    call: () => ({ action: 'DescribeKeyPairs', params: { RegionId: 'xx-nowhere-1' } }),
  },
  {
    code: 'InvalidRegionId.NotFound',
    status: 404,
    when: 'AttachKeyPair in an unknown region',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: 'xx-nowhere-1', KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.linuxFree]) },
    }),
  },
  {
    code: 'InvalidInstanceId.NotFound',
    status: 404,
    when: 'RebootInstance of an unknown instance',
    call: () => ({ action: 'RebootInstance', params: { InstanceId: 'i-doesnotexist0000000' } }),
  },
  {
    code: 'InvalidInstanceId.NotFound',
    status: 404,
    when: 'ModifyInstanceAttribute of an unknown instance',
    call: () => ({
      action: 'ModifyInstanceAttribute',
      params: { InstanceId: 'i-doesnotexist0000000', Password: 'Never-Set-0001' },
    }),
  },
  {
    code: 'InvalidInstanceId.NotFound',
    status: 200,
    perInstance: true,
    when: 'AttachKeyPair naming an unknown instance (per instance)',
    call: () => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: '["i-doesnotexist0000000"]' },
    }),
  },

  // §3.1 CreateKeyPair
  {
    code: 'InvalidKeyPairName.Malformed',
    status: 400,
    when: 'CreateKeyPair name starting with a digit',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION, KeyPairName: '9lives' } }),
  },
  {
    code: 'InvalidKeyPairName.Malformed',
    status: 400,
    when: 'CreateKeyPair name of one character',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION, KeyPairName: 'k' } }),
  },
  {
    code: 'InvalidKeyPairName.Malformed',
    status: 400,
    when: "CreateKeyPair name with '.' (allowed by Import only)",
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION, KeyPairName: 'dot.name' } }),
  },
  {
    code: 'KeyPair.AlreadyExist',
    status: 400,
    when: 'CreateKeyPair of a taken name',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION, KeyPairName: 'spare-key' } }),
  },
  {
    code: 'Duplicate.TagKey',
    status: 400,
    when: 'CreateKeyPair with a tag key given twice',
    call: () => ({
      action: 'CreateKeyPair',
      params: {
        RegionId: REGION,
        KeyPairName: 'tagged-key',
        'Tag.1.Key': 'team',
        'Tag.1.Value': 'a',
        'Tag.2.Key': 'team',
        'Tag.2.Value': 'b',
      },
    }),
  },
  {
    code: 'InvalidTagKey.Malformed',
    status: 400,
    when: "CreateKeyPair with a tag key starting 'acs:'",
    call: () => ({
      action: 'CreateKeyPair',
      params: { RegionId: REGION, KeyPairName: 'tagged-key', 'Tag.1.Key': 'acs:team', 'Tag.1.Value': 'a' },
    }),
  },
  {
    code: 'InvalidTagValue.Malformed',
    status: 400,
    when: 'CreateKeyPair with a tag value holding a URL',
    call: () => ({
      action: 'CreateKeyPair',
      params: { RegionId: REGION, KeyPairName: 'tagged-key', 'Tag.1.Key': 'team', 'Tag.1.Value': 'http://x.example' },
    }),
  },
  {
    code: 'QuotaExceed.KeyPair',
    status: 403,
    when: `CreateKeyPair in a region holding its quota of ${QUOTA}`,
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: FULL_REGION, KeyPairName: 'one-too-many' } }),
  },
  {
    code: 'QuotaExceed.Tags',
    status: 403,
    when: 'CreateKeyPair with 21 tags',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: REGION, KeyPairName: 'tagged-key', ...tags(21) } }),
  },
  {
    code: 'InvalidRegionId.NotFound',
    status: 404,
    when: 'CreateKeyPair in an unknown region',
    call: () => ({ action: 'CreateKeyPair', params: { RegionId: 'xx-nowhere-1', KeyPairName: 'new-key' } }),
  },
  {
    code: 'InvalidResourceGroup.NotFound',
    status: 404,
    when: 'CreateKeyPair in an unknown resource group',
    call: () => ({
      action: 'CreateKeyPair',
      params: { RegionId: REGION, KeyPairName: 'new-key', ResourceGroupId: 'rg-doesnotexist000' },
    }),
  },

  // §3.2 ImportKeyPair
  {
    code: 'InvalidKeyPairName.Malformed',
    status: 400,
    when: "ImportKeyPair name with '/'",
    call: () => ({
      action: 'ImportKeyPair',
      params: { RegionId: REGION, KeyPairName: 'bad/name', PublicKeyBody: 'ssh-ed25519 AAAA' },
    }),
  },
  {
    code: 'InvalidPublicKeyBody.Malformed',
    status: 400,
    when: 'ImportKeyPair of a key that is not base64',
    call: () => ({
      action: 'ImportKeyPair',
      params: { RegionId: REGION, KeyPairName: 'imported-key', PublicKeyBody: 'ssh-rsa not*base64' },
    }),
  },
  {
    code: 'InvalidPublicKeyBody.Malformed',
    status: 400,
    when: 'ImportKeyPair of a DSA key',
    call: () => ({
      action: 'ImportKeyPair',
      params: { RegionId: REGION, KeyPairName: 'imported-key', PublicKeyBody: 'ssh-dss AAAAB3NzaC1kc3MAAACBAP8= old' },
    }),
  },
  {
    code: 'MissingParameter',
    status: 400,
    when: 'ImportKeyPair without PublicKeyBody',
    call: () => ({ action: 'ImportKeyPair', params: { RegionId: REGION, KeyPairName: 'imported-key' } }),
  },
  {
    code: 'InvalidResourceGroup.NotFound',
    status: 404,
    when: 'ImportKeyPair in an unknown resource group',
    call: () => ({
      action: 'ImportKeyPair',
      params: {
        RegionId: REGION,
        KeyPairName: 'imported-key',
        PublicKeyBody: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
        ResourceGroupId: 'rg-doesnotexist000',
      },
    }),
  },

  // §3.4 DeleteKeyPairs
  {
    code: 'MissingParameter',
    status: 400,
    when: 'DeleteKeyPairs without KeyPairNames',
    call: () => ({ action: 'DeleteKeyPairs', params: { RegionId: REGION } }),
  },
  {
    code: 'InvalidKeyPairNames.ValueNotSupported',
    status: 400,
    when: 'DeleteKeyPairs KeyPairNames not a JSON array',
    call: () => ({ action: 'DeleteKeyPairs', params: { RegionId: REGION, KeyPairNames: 'spare-key' } }),
  },
  {
    code: 'InvalidKeyPairNames.ValueNotSupported',
    status: 400,
    when: 'DeleteKeyPairs KeyPairNames empty',
    call: () => ({ action: 'DeleteKeyPairs', params: { RegionId: REGION, KeyPairNames: '[]' } }),
  },
  {
    code: 'InvalidParameter.KeypairAlreadyAttachedInstance',
    status: 400,
    when: 'DeleteKeyPairs of a bound key pair (with a free one: all or nothing)',
    call: () => ({ action: 'DeleteKeyPairs', params: { RegionId: REGION, KeyPairNames: '["spare-key","bound-key"]' } }),
  },
  {
    code: 'InstanceKeyPairLimitExceeded',
    status: 403,
    when: 'DeleteKeyPairs of 101 names',
    call: () => ({
      action: 'DeleteKeyPairs',
      params: { RegionId: REGION, KeyPairNames: JSON.stringify(Array.from({ length: 101 }, (_, i) => `k${i}`)) },
    }),
  },
  {
    code: 'InvalidKeyPairName.NotFound',
    status: 400,
    when: 'DeleteKeyPairs of a name that does not exist',
    call: () => ({
      action: 'DeleteKeyPairs',
      params: { RegionId: REGION, KeyPairNames: '["spare-key","no-such-key"]' },
    }),
  },

  // §3.5 AttachKeyPair, §3.6 DetachKeyPair
  {
    code: 'InvalidKeyPairName.NotFound',
    status: 400,
    when: 'AttachKeyPair of an unknown key pair',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'no-such-key', InstanceIds: JSON.stringify([fx.linuxFree]) },
    }),
  },
  {
    code: 'InvalidKeyPairName.NotFound',
    status: 400,
    when: 'DetachKeyPair of an unknown key pair',
    call: (fx) => ({
      action: 'DetachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'no-such-key', InstanceIds: JSON.stringify([fx.linuxBound]) },
    }),
  },
  {
    code: 'InvalidInstanceIds.ValueNotSupported',
    status: 400,
    when: 'AttachKeyPair InstanceIds not JSON',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: `${fx.linuxFree},${fx.windows}` },
    }),
  },
  {
    code: 'InvalidInstanceIds.ValueNotSupported',
    status: 400,
    when: 'AttachKeyPair InstanceIds empty',
    call: () => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: '[]' },
    }),
  },
  {
    code: 'InvalidInstanceIds.ValueNotSupported',
    status: 400,
    when: 'AttachKeyPair with an ID given twice',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.linuxFree, fx.linuxFree]) },
    }),
  },
  {
    code: 'InvalidInstanceIds.ValueNotSupported',
    status: 400,
    when: 'DetachKeyPair with an ID that is not a string',
    call: () => ({
      action: 'DetachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'bound-key', InstanceIds: '[42]' },
    }),
  },
  {
    code: 'InstanceKeyPairLimitExceeded',
    status: 403,
    when: 'AttachKeyPair of 51 instances',
    call: () => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: ids(51) },
    }),
  },
  {
    code: 'InstanceKeyPairLimitExceeded',
    status: 403,
    when: 'DetachKeyPair of 51 instances',
    call: () => ({
      action: 'DetachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'bound-key', InstanceIds: ids(51) },
    }),
  },
  {
    code: 'DependencyViolation.WindowsInstance',
    status: 200,
    perInstance: true,
    when: 'AttachKeyPair to a Windows instance (per instance)',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.windows]) },
    }),
  },
  {
    code: 'DependencyViolation.WindowsInstance',
    status: 200,
    perInstance: true,
    when: 'DetachKeyPair from a Windows instance (per instance)',
    call: (fx) => ({
      action: 'DetachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.windows]) },
    }),
  },
  {
    code: 'DependencyViolation.WindowsInstance',
    status: 403,
    when: 'RunInstances of a Windows image with a key pair',
    call: () => ({
      action: 'RunInstances',
      params: { RegionId: REGION, ImageId: WINDOWS_IMAGE, KeyPairName: 'spare-key' },
    }),
  },
  {
    code: 'DependencyViolation.IoOptimize',
    status: 200,
    perInstance: true,
    when: 'AttachKeyPair to a non-I/O-optimized instance (per instance)',
    call: (fx) => ({
      action: 'AttachKeyPair',
      params: { RegionId: REGION, KeyPairName: 'spare-key', InstanceIds: JSON.stringify([fx.notIoOptimized]) },
    }),
  },
  {
    code: 'DependencyViolation.IoOptimize',
    status: 400,
    when: 'RunInstances of a non-I/O-optimized type with a key pair',
    call: () => ({
      action: 'RunInstances',
      params: { RegionId: REGION, ImageId: LINUX_IMAGE, InstanceType: 'ecs.t1.small', KeyPairName: 'spare-key' },
    }),
  },

  // §3.7 DescribeInstances
  {
    code: 'InvalidStatus.NotFound',
    status: 404,
    when: 'DescribeInstances Status=Sleeping',
    call: () => ({ action: 'DescribeInstances', params: { RegionId: REGION, Status: 'Sleeping' } }),
  },
  {
    code: 'InvalidTag.Mismatch',
    status: 400,
    when: 'DescribeInstances Tag.1.Value without Tag.1.Key',
    call: () => ({ action: 'DescribeInstances', params: { RegionId: REGION, 'Tag.1.Value': 'web' } }),
  },
  {
    code: 'InvalidTagCount',
    status: 400,
    when: 'DescribeInstances with 21 tags',
    call: () => ({ action: 'DescribeInstances', params: { RegionId: REGION, ...tags(21) } }),
  },
  {
    code: 'InvalidInstanceChargeType.NotFound',
    status: 404,
    when: 'DescribeInstances InstanceChargeType=Free',
    call: () => ({ action: 'DescribeInstances', params: { RegionId: REGION, InstanceChargeType: 'Free' } }),
  },
  {
    code: 'InvalidNetworkType.NotFound',
    status: 404,
    when: 'DescribeInstances InstanceNetworkType=ether',
    call: () => ({ action: 'DescribeInstances', params: { RegionId: REGION, InstanceNetworkType: 'ether' } }),
  },

  // §3.8 RebootInstance / StartInstance / StopInstance, and DeleteInstance
  {
    code: 'IncorrectInstanceStatus',
    status: 403,
    when: 'StartInstance of a Running instance',
    call: (fx) => ({ action: 'StartInstance', params: { InstanceId: fx.linuxFree } }),
  },
  {
    code: 'IncorrectInstanceStatus',
    status: 403,
    when: 'StopInstance of a Stopped instance',
    call: (fx) => ({ action: 'StopInstance', params: { InstanceId: fx.stopped } }),
  },
  {
    code: 'IncorrectInstanceStatus',
    status: 403,
    when: 'RebootInstance of a Stopped instance',
    call: (fx) => ({ action: 'RebootInstance', params: { InstanceId: fx.stopped } }),
  },
  {
    code: 'IncorrectInstanceStatus',
    status: 403,
    when: 'DeleteInstance of a Running instance without Force',
    call: (fx) => ({ action: 'DeleteInstance', params: { InstanceId: fx.linuxFree } }),
  },

  // §3.9 ModifyInstanceAttribute
  {
    code: 'InvalidPassword.Malformed',
    status: 400,
    when: 'ModifyInstanceAttribute Password too short',
    call: (fx) => ({ action: 'ModifyInstanceAttribute', params: { InstanceId: fx.linuxFree, Password: 'Sh0rt!' } }),
  },
  {
    code: 'InvalidPassword.Malformed',
    status: 400,
    when: 'ModifyInstanceAttribute Password of one character class',
    call: (fx) => ({
      action: 'ModifyInstanceAttribute',
      params: { InstanceId: fx.linuxFree, Password: 'alllowercaseletters' },
    }),
  },
  {
    code: 'InvalidHostPassword.Malformed',
    status: 400,
    when: "ModifyInstanceAttribute of a Windows instance, Password starting with '/'",
    call: (fx) => ({
      action: 'ModifyInstanceAttribute',
      params: { InstanceId: fx.windows, Password: '/Windows-Pass-01' },
    }),
  },
  {
    code: 'InvalidInstanceName.Malformed',
    status: 400,
    when: "ModifyInstanceAttribute InstanceName starting with '-'",
    call: (fx) => ({ action: 'ModifyInstanceAttribute', params: { InstanceId: fx.linuxFree, InstanceName: '-web' } }),
  },
  {
    code: 'InvalidInstanceName.Malformed',
    status: 400,
    when: "RunInstances InstanceName starting with '-'",
    call: () => ({ action: 'RunInstances', params: { RegionId: REGION, ImageId: LINUX_IMAGE, InstanceName: '-web' } }),
  },
  {
    code: 'InvalidPassword.Malformed',
    status: 400,
    when: 'RunInstances Password too short',
    call: () => ({ action: 'RunInstances', params: { RegionId: REGION, ImageId: LINUX_IMAGE, Password: 'Sh0rt!' } }),
  },

  // §3.10 DescribeRegions
  {
    code: 'Invalid.InstanceChargeType',
    status: 403,
    when: 'DescribeRegions InstanceChargeType=Free',
    call: () => ({ action: 'DescribeRegions', params: { InstanceChargeType: 'Free' } }),
  },
  {
    code: 'InvalidAcceptLanguage.NotFound',
    status: 404,
    when: 'DescribeRegions AcceptLanguage=fr',
    call: () => ({ action: 'DescribeRegions', params: { AcceptLanguage: 'fr' } }),
  },
  {
    code: 'InvalidResourceType.NotFound',
    status: 404,
    when: 'DescribeRegions ResourceType=gpu',
    call: () => ({ action: 'DescribeRegions', params: { ResourceType: 'gpu' } }),
  },

  // RunInstances, DescribeImages, the gateway: codes beyond API.md's lists, in Alibaba's words
  {
    code: 'InvalidImageId.NotFound',
    status: 404,
    when: 'RunInstances of an unknown image',
    call: () => ({ action: 'RunInstances', params: { RegionId: REGION, ImageId: 'no_such_image.vhd' } }),
  },
  {
    code: 'InvalidInstanceType.ValueNotSupported',
    status: 400,
    when: 'RunInstances of an unknown instance type',
    call: () => ({
      action: 'RunInstances',
      params: { RegionId: REGION, ImageId: LINUX_IMAGE, InstanceType: 'ecs.none.large' },
    }),
  },
  {
    code: 'InvalidKeyPairName.NotFound',
    status: 400,
    when: 'RunInstances with an unknown key pair',
    call: () => ({
      action: 'RunInstances',
      params: { RegionId: REGION, ImageId: LINUX_IMAGE, KeyPairName: 'no-such-key' },
    }),
  },
  {
    code: 'MissingParameter',
    status: 400,
    when: 'DescribeImages without RegionId',
    call: () => ({ action: 'DescribeImages' }),
  },
  {
    code: 'InvalidAction.NotFound',
    status: 404,
    when: 'an Action this service does not have',
    call: () => ({ action: 'DescribeSnapshots', params: { RegionId: REGION } }),
  },
  {
    code: 'InvalidVersion',
    status: 400,
    when: 'another API version',
    call: () => ({ action: 'DescribeRegions', scheme: 'v1-get', overrides: { Version: '2016-03-14' } }),
  },
];

describe('ECS error codes: each produced where its condition occurs, nothing changed', () => {
  let kf: Keyfleet;
  let api: Api;
  let fx: Fixture;
  const proven = new Set<string>();

  before(async () => {
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_KEY_PAIR_QUOTA: String(QUOTA) } }));
    await api.createKeyPair('bound-key', 'ed25519');
    await api.createKeyPair('spare-key', 'ed25519');
    for (let i = 0; i < QUOTA; i++) await api.createKeyPair(`full-${i}`, 'ed25519', FULL_REGION);
    const [linuxBound, linuxFree] = await api.run({ imageId: LINUX_IMAGE, amount: 2, password: 'Initial-Pass-01' });
    const [windows] = await api.run({ imageId: WINDOWS_IMAGE, password: 'Initial-Pass-01' });
    const [notIoOptimized] = await api.run({ imageId: LINUX_IMAGE, instanceType: 'ecs.t1.small' });
    const [stopped] = await api.run({ imageId: LINUX_IMAGE, start: false });
    fx = {
      linuxBound: linuxBound!,
      linuxFree: linuxFree!,
      windows: windows!,
      notIoOptimized: notIoOptimized!,
      stopped: stopped!,
    };
    await api.waitStatus([fx.linuxBound, fx.linuxFree, fx.windows, fx.notIoOptimized], 'Running');
    await api.waitStatus([fx.stopped], 'Stopped');
    await api.bind({ action: 'bind', keyPairName: 'bound-key', instanceIds: [fx.linuxBound] });
    await addAccessKeys(kf);
  });
  after(async () => {
    await kf?.close();
  });

  /** What an error must leave untouched: key pairs (names, fingerprints, tags) and instances (state, key, password). */
  async function snapshot(): Promise<string> {
    const out: unknown[] = [];
    for (const region of kf.config.regions) {
      const kps = await api.call('GET', `/api/v1/regions/${region.id}/key-pairs?limit=1000`);
      const insts = await api.call('GET', `/api/v1/regions/${region.id}/instances?limit=1000`);
      out.push({
        region: region.id,
        keyPairs: kps.keyPairs.map((k: any) => [k.name, k.fingerprintSha256, k.tags]),
        instances: insts.instances.map((i: any) => [
          i.id,
          i.status,
          i.keyPairName,
          i.pendingRestart,
          i.passwordLogin,
          i.hasPassword,
          i.name,
        ]),
      });
    }
    return JSON.stringify(out);
  }

  function assertEnvelope(res: RawResponse, code: string, status: number): void {
    assert.equal(res.status, status, res.text);
    assert.equal(res.headers['content-type'], 'application/json;charset=utf-8');
    assert.equal(res.body.Code, code, res.text);
    assert.equal(res.body.RequestId, res.headers['x-acs-request-id']);
    assert.match(res.body.RequestId, /^[0-9A-F-]{36}$/);
    assert.equal(res.body.HostId, new URL(kf.url).host);
    assert.ok(typeof res.body.Message === 'string' && res.body.Message.length > 0);
    assert.ok(res.body.Recommend.includes(`q=${encodeURIComponent(code)}`));
  }

  ROWS.forEach((row, n) => {
    const scheme = row.call({} as Fixture).scheme ?? SCHEMES[n % SCHEMES.length]!;
    test(`${row.status} ${row.code}: ${row.when} [${scheme}]`, async () => {
      const before = await snapshot();
      const res = await ecsCall(kf.url, { scheme, ...row.call(fx) });
      if (row.perInstance) {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.Code, undefined, 'a success body never carries a top-level Code');
        assert.deepEqual([res.body.TotalCount, res.body.FailCount], ['1', '1']);
        const [result] = res.body.Results.Result;
        assert.deepEqual([result.Success, result.Code], ['false', row.code], res.text);
        assert.ok(result.Message.length > 0);
      } else {
        assertEnvelope(res, row.code, row.status);
      }
      assert.equal(await snapshot(), before, 'nothing changed');
      proven.add(row.code);
    });
  });

  describe('signatures and access keys', () => {
    for (const scheme of SCHEMES) {
      test(`SignatureDoesNotMatch: a parameter changed after signing [${scheme}]`, async () => {
        const signed = signCall(kf.url, {
          scheme,
          action: 'DescribeKeyPairs',
          params: { RegionId: REGION, KeyPairName: 'spare-key' },
        });
        const tamper = (s: string) => s.replace('spare-key', 'bound-key');
        const res = await send(kf.url, {
          ...signed,
          url: tamper(signed.url),
          rawBody: Buffer.from(tamper(signed.rawBody.toString('utf8'))),
        });
        assertEnvelope(res, 'SignatureDoesNotMatch', 400);
        assert.match(
          res.body.Message,
          scheme === 'acs3'
            ? /server StringToSign is \[ACS3-HMAC-SHA256\n[0-9a-f]{64}\]/
            : /server string to sign is:(GET|POST)&%2F&/,
        );
        proven.add('SignatureDoesNotMatch');
      });

      test(`SignatureDoesNotMatch: the wrong secret, and a password in the request is not echoed [${scheme}]`, async () => {
        const before = await snapshot();
        const res = await ecsCall(kf.url, {
          scheme,
          action: 'ModifyInstanceAttribute',
          params: { InstanceId: fx.linuxFree, Password: 'Leak-Canary-0001' },
          secret: 'not-the-secret',
        });
        assertEnvelope(res, 'SignatureDoesNotMatch', 400);
        assert.ok(!res.text.includes('Leak-Canary'), res.text);
        if (scheme !== 'acs3')
          assert.match(
            res.body.Message,
            /Password%3D\*\*\*%26/,
            'the string to sign is still quoted, with the value blanked',
          );
        assert.equal(await snapshot(), before);
      });

      test(`InvalidAccessKeyId.NotFound: an unknown AccessKeyId [${scheme}]`, async () => {
        assertEnvelope(
          await ecsCall(kf.url, { scheme, action: 'DescribeRegions', accessKeyId: 'LTAIunknownKey000001' }),
          'InvalidAccessKeyId.NotFound',
          404,
        );
        proven.add('InvalidAccessKeyId.NotFound');
      });

      test(`InvalidTimeStamp.Expired: signed 16 minutes ago [${scheme}]`, async () => {
        const res = await ecsCall(kf.url, {
          scheme,
          action: 'DescribeRegions',
          timestamp: new Date(Date.now() - 16 * 60_000),
        });
        assertEnvelope(res, 'InvalidTimeStamp.Expired', 400);
        proven.add('InvalidTimeStamp.Expired');
      });

      test(`SignatureNonceUsed: the same signed request twice [${scheme}]`, async () => {
        const signed = signCall(kf.url, { scheme, action: 'DescribeRegions' });
        const first = await send(kf.url, signed);
        assert.equal(first.status, 200, first.text);
        assert.equal(first.body.Code, undefined, 'a success body never carries a top-level Code');
        assertEnvelope(await send(kf.url, signed), 'SignatureNonceUsed', 400);
        proven.add('SignatureNonceUsed');
      });

      test(`IllegalTimestamp: a timestamp that is not a UTC date-time [${scheme}]`, async () => {
        const res = await ecsCall(kf.url, { scheme, action: 'DescribeRegions', timestamp: '2026-13-45T99:00:00Z' });
        assertEnvelope(res, 'IllegalTimestamp', 400);
        proven.add('IllegalTimestamp');
      });
    }

    test('InvalidAccessKeyId.Inactive: a disabled key that signed correctly (a wrong signature learns nothing)', async () => {
      assertEnvelope(
        await ecsCall(kf.url, { action: 'DescribeRegions', accessKeyId: RETIRED_KEY.id, secret: RETIRED_KEY.secret }),
        'InvalidAccessKeyId.Inactive',
        400,
      );
      assertEnvelope(
        await ecsCall(kf.url, { action: 'DescribeRegions', accessKeyId: RETIRED_KEY.id, secret: 'guess' }),
        'SignatureDoesNotMatch',
        400,
      );
      proven.add('InvalidAccessKeyId.Inactive');
    });

    test('IncompleteSignature and MissingParameter: no signature at all', async () => {
      const bare = await send(kf.url, {
        method: 'GET',
        url: `/?AccessKeyId=${ACCESS_KEY_ID}&Action=DescribeRegions&Version=2014-05-26`,
        headers: { host: new URL(kf.url).host },
      });
      assertEnvelope(bare, 'IncompleteSignature', 400);
      const anonymous = await send(kf.url, {
        method: 'GET',
        url: '/?Action=DescribeRegions&Version=2014-05-26',
        headers: { host: new URL(kf.url).host },
      });
      assertEnvelope(anonymous, 'MissingParameter', 400);
      assert.match(anonymous.body.Message, /"AccessKeyId"/);
      proven.add('IncompleteSignature');
    });

    test('UnsupportedHTTPMethod: PUT and DELETE on /', async () => {
      for (const method of ['PUT', 'DELETE']) {
        const signed = signCall(kf.url, { action: 'DescribeRegions' });
        assertEnvelope(await send(kf.url, { ...signed, method }), 'UnsupportedHTTPMethod', 403);
      }
      proven.add('UnsupportedHTTPMethod');
    });

    test('MissingParameter: a V1 request without Action', async () => {
      assertEnvelope(
        await ecsCall(kf.url, { scheme: 'v1-get', action: 'DescribeRegions', overrides: { Action: undefined } }),
        'MissingParameter',
        400,
      );
    });

    test('the SDKs surface the refusals: unknown AccessKeyId and wrong secret', async () => {
      const unknown = { accessKeyId: 'LTAIunknownKey000001', accessKeySecret: 'whatever-secret' };
      const wrong = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: 'not-the-secret' };
      for (const make of [
        (c: typeof unknown) => ecsSdkDriver(kf.url, 'default', c),
        (c: typeof unknown) => ecsSdkDriver(kf.url, 'v2', c),
        (c: typeof unknown) => popCoreDriver(kf.url, 'GET', c),
        (c: typeof unknown) => popCoreDriver(kf.url, 'POST', c),
      ]) {
        await assert.rejects(
          make(unknown).describeRegions(),
          (e) => sdkErrorOf(e).code === 'InvalidAccessKeyId.NotFound' && sdkErrorOf(e).statusCode === 404,
        );
        await assert.rejects(
          make(wrong).describeRegions(),
          (e) => sdkErrorOf(e).code === 'SignatureDoesNotMatch' && sdkErrorOf(e).statusCode === 400,
        );
      }
    });
  });

  describe('failures inside the core', () => {
    /** The ECS plugin over the real core, except that DescribeKeyPairs fails with `fault`. */
    async function faultyFace(fault: unknown) {
      const app = buildHttpServer({ bodyLimitBytes: 1 << 20, logLevel: 'silent' });
      const core = { ...kf.core, keyPairs: { ...kf.core.keyPairs, list: async () => Promise.reject(fault) } } as Core;
      await app.register(ecsApiPlugin, { core });
      await app.ready();
      const signed = signCall('http://ecs.test', { action: 'DescribeKeyPairs', params: { RegionId: REGION } });
      const res = await app.inject({ method: signed.method as 'POST', url: signed.url, headers: signed.headers });
      await app.close();
      return { status: res.statusCode, body: res.json(), text: res.body };
    }

    test('500 InternalError: an unexpected exception, answered without its detail', async () => {
      const res = await faultyFace(new TypeError('secret detail: /var/lib/keyfleet/master.key'));
      assert.equal(res.status, 500);
      assert.equal(res.body.Code, 'InternalError');
      assert.ok(!res.text.includes('secret detail'), res.text);
      proven.add('InternalError');
    });

    test('503 ServiceUnavailable: a temporary failure the core reports', async () => {
      const res = await faultyFace(new CoreError('Live.Unreachable', 'The instance did not answer.'));
      assert.equal(res.status, 503);
      assert.equal(res.body.Code, 'ServiceUnavailable');
      proven.add('ServiceUnavailable');
    });
  });

  test('Throttling.User: past KEYFLEET_RATE_LIMIT for an access key; the new SDK raises its ThrottlingError', async () => {
    const limited = await startInProcess({ extra: { KEYFLEET_RATE_LIMIT: '2' } });
    try {
      const sdk = ecsSdkDriver(limited.kf.url, 'default');
      let error: unknown = null;
      for (let n = 0; n < 20 && !error; n++) await sdk.describeRegions().catch((e: unknown) => (error = e));
      assert.ok(error, 'some request was throttled');
      assert.equal(sdkErrorOf(error).code, 'Throttling.User');
      assert.equal(sdkErrorOf(error).statusCode, 400);
      assert.equal((error as Error).name, 'ThrottlingError');
      proven.add('Throttling.User');
    } finally {
      await limited.kf.close();
    }
  });

  test('every documented error code is proven above, or listed in NOT_PRODUCED with the reason it cannot occur', () => {
    const documented = JSON.parse(readFileSync(DOCUMENTED_CODES, 'utf8')) as Array<{ code: string }>;
    const listed = new Set(documented.map((d) => d.code));
    assert.ok(listed.size >= 40, `only ${listed.size} codes found in ${DOCUMENTED_CODES.pathname}`);
    const missing = [...listed].filter((c) => !proven.has(c) && !Object.hasOwn(NOT_PRODUCED, c));
    assert.deepEqual(missing, [], 'documented codes neither proven nor explained');
    const contradictions = Object.keys(NOT_PRODUCED).filter((c) => proven.has(c));
    assert.deepEqual(contradictions, [], 'codes listed as impossible were produced');
    for (const c of Object.keys(NOT_PRODUCED))
      assert.ok(listed.has(c), `NOT_PRODUCED lists ${c}, which Alibaba does not document`);
  });
});

/**
 * A disabled access key of the administrator and an active key of a user who is not an administrator. Keys are
 * made through the core's bootstrap (which seals the secret), then changed in the store: the product has no
 * user management yet, and these two states are what the face must answer for.
 */
async function addAccessKeys(kf: Keyfleet): Promise<void> {
  const store = kf.store;
  for (const k of [RETIRED_KEY, AUDITOR_KEY])
    await kf.core.accounts.bootstrap({
      accountName: 'keyfleet',
      adminName: 'admin',
      accessKeyId: k.id,
      accessKeySecret: k.secret,
    });
  const retired = await store.accounts.getAccessKey(RETIRED_KEY.id);
  await store.accounts.updateAccessKey({ ...retired!, status: 'Inactive' });
  const auditorKey = await store.accounts.getAccessKey(AUDITOR_KEY.id);
  // A copy of the administrator's record with the rights taken away, so it has whatever fields a user has.
  const admin = await store.accounts.getUser(auditorKey!.accountId, auditorKey!.userId);
  const auditor = {
    ...admin!,
    id: 'u-auditor00000001',
    name: 'auditor',
    isAccountAdmin: false,
    isSystemAdmin: false,
    passwordHash: null,
    createdAt: new Date(),
  };
  await store.accounts.insertUser(auditor);
  // The repository cannot move a key to another user (nothing in the product does); the test does it in SQL.
  await store.db.updateTable('access_keys').set({ user_id: auditor.id }).where('id', '=', AUDITOR_KEY.id).execute();
}
