/**
 * What the ECS face shows of each record, in Alibaba's field names and types (the `@alicloud/ecs20140526` 7.11.6
 * response models; API.md §3). Two rules from SDK-TRAFFIC §5.1 shape everything here:
 *  - every wrapped collection (`Tags.Tag`, `Instances.Instance`, `…IpAddress`) is a JSON array, even when empty
 *    (the new SDK throws on an object where its model expects an array);
 *  - numbers where the model says number (PageSize, Cpu, Memory), strings where it says string.
 * Whitelisted fields only: never a sealed secret, a hash or a private key.
 *
 * keyfleet's instances are pay-as-you-go machines in one flat network per region, so charge and network fields
 * are constants (`PostPaid`, `vpc`); the SSH address of a simulated instance is its private IP address.
 */
import type { Image, Instance, InstanceType } from '../../core/instance/instance.js';
import type { KeyPair, Tag } from '../../core/keypair/keypair.js';
import type { Region } from '../../core/region.js';

/** Alibaba's resource times have minute precision: `2023-09-04T08:33Z` (API.md §2). */
export function minuteTime(d: Date): string {
  return `${d.toISOString().slice(0, 16)}Z`;
}

export function tagsView(tags: readonly Tag[]) {
  return { Tag: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) };
}

/** KeyPairFingerPrint: the MD5 fingerprint as `ssh-keygen -E md5` prints it, without its `MD5:` prefix (API.md §2). */
export function fingerprintOf(kp: Pick<KeyPair, 'fingerprintMd5'>): string {
  return kp.fingerprintMd5.replace(/^MD5:/, '');
}

export function keyPairView(kp: KeyPair, includePublicKey: boolean) {
  return {
    KeyPairName: kp.name,
    KeyPairFingerPrint: fingerprintOf(kp),
    CreationTime: minuteTime(kp.createdAt),
    ResourceGroupId: kp.resourceGroupId,
    Tags: tagsView(kp.tags),
    ...(includePublicKey ? { PublicKey: kp.publicKey } : {}),
  };
}

/** Alibaba's own MAC prefix (00:16:3e) and the last three octets of the instance's address: stable per instance. */
function macAddressOf(address: string): string {
  const octets = address
    .split('.')
    .slice(1)
    .map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['00', '16', '3e', ...octets].join(':');
}

/** Memory in MiB, as DescribeInstances reports it. */
const MIB_PER_GIB = 1024;

export function instanceView(i: Instance, types: readonly InstanceType[]) {
  const type = types.find((t) => t.id === i.instanceType);
  const family = i.instanceType.split('.').slice(0, 2).join('.');
  const ip = { IpAddress: [i.address] };
  return {
    InstanceId: i.id,
    InstanceName: i.name,
    Description: i.description,
    HostName: i.hostName,
    RegionId: i.regionId,
    ZoneId: i.zoneId,
    Status: i.status,
    OSType: i.osType,
    OSName: i.osName,
    OSNameEn: i.osName,
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    InstanceTypeFamily: family,
    Cpu: type?.cpu ?? 0,
    Memory: (type?.memoryGiB ?? 0) * MIB_PER_GIB,
    IoOptimized: type?.ioOptimized ?? true,
    // The key pair the API says is bound: shown at once, before the restart that applies it (API.md §3.6).
    KeyPairName: i.keyPairName ?? '',
    ResourceGroupId: i.resourceGroupId,
    CreationTime: minuteTime(i.createdAt),
    ExpiredTime: '2099-12-31T15:59Z',
    InstanceChargeType: 'PostPaid',
    InternetChargeType: 'PayByTraffic',
    InstanceNetworkType: 'vpc',
    StoppedMode: i.status === 'Stopped' ? 'KeepCharging' : 'Not-applicable',
    DeletionProtection: false,
    DeviceAvailable: true,
    Recyclable: false,
    SpotStrategy: 'NoSpot',
    VpcAttributes: {
      VpcId: `vpc-keyfleet-${i.regionId}`,
      VSwitchId: `vsw-keyfleet-${i.zoneId}`,
      NatIpAddress: '',
      PrivateIpAddress: ip,
    },
    NetworkInterfaces: {
      NetworkInterface: [
        {
          NetworkInterfaceId: `eni-${i.id.slice(2)}`,
          Type: 'Primary',
          MacAddress: macAddressOf(i.address),
          PrimaryIpAddress: i.address,
          PrivateIpSets: { PrivateIpSet: [{ PrivateIpAddress: i.address, Primary: true }] },
        },
      ],
    },
    InnerIpAddress: { IpAddress: [] as string[] },
    PublicIpAddress: { IpAddress: [] as string[] },
    EipAddress: { IpAddress: '', AllocationId: '', InternetChargeType: '' },
    SecurityGroupIds: { SecurityGroupId: [] as string[] },
    OperationLocks: { LockReason: [] as unknown[] },
    Tags: tagsView(i.tags),
  };
}

/** Image sizes in GiB, from the image ID's `_20G_` part where there is one. */
function imageSizeOf(img: Image): number {
  const m = /_(\d+)G_/.exec(img.id);
  return m ? Number(m[1]) : 20;
}

export function imageView(img: Image) {
  return {
    ImageId: img.id,
    ImageName: img.name,
    Description: img.description,
    OSType: img.osType,
    OSName: img.osName,
    OSNameEn: img.osName,
    Platform: img.osName.split(/\s+/)[0] ?? '',
    Architecture: 'x86_64',
    Size: imageSizeOf(img),
    Status: 'Available',
    Usage: 'instance',
    ImageOwnerAlias: 'system',
    IsPublic: true,
    IsSupportIoOptimized: true,
    IsSupportCloudinit: img.osType === 'linux',
    Tags: tagsView([]),
    DiskDeviceMappings: { DiskDeviceMapping: [] as unknown[] },
  };
}

/** Every region is served by this one endpoint: the address the client used. */
export function regionView(r: Region, endpoint: string) {
  return { RegionId: r.id, LocalName: r.localName, RegionEndpoint: endpoint, Status: 'available' };
}
