/**
 * A key pair and `count` Running Linux instances of the simulated backend, straight into a store, for the core's
 * binding tests (binding-module, reobservation): the same rows every such test starts from.
 */
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import type { Store } from '../../src/core/ports.js';

export const SEED_REGION = 'cn-hangzhou';
export const SEED_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK web';
const REGION = SEED_REGION;
const PUBLIC_KEY = SEED_PUBLIC_KEY;

export async function seedBound(
  store: Store,
  tag: number,
  count: number,
  opts: { addressPrefix: string; over?: Partial<Instance> },
): Promise<{ keyPair: KeyPair; instances: Instance[] }> {
  const keyPair: KeyPair = {
    id: `kp-${tag}`,
    accountId: 'acc-1',
    regionId: REGION,
    name: `web-${tag}`,
    algorithm: 'ssh-ed25519',
    bits: 256,
    publicKey: PUBLIC_KEY,
    fingerprintMd5: 'MD5:00',
    fingerprintSha256: 'SHA256:00',
    resourceGroupId: 'rg-1',
    tags: [],
    description: '',
    createdAt: new Date(0),
    escrowedPrivateKey: null,
  };
  await store.transaction((tx) => tx.keyPairs.insert(keyPair));
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const id = `i-${tag}x${i}`;
    const inst: Instance = {
      id,
      accountId: 'acc-1',
      regionId: REGION,
      zoneId: `${REGION}-a`,
      name: id,
      hostName: 'h',
      description: '',
      imageId: 'img',
      instanceType: 't',
      osType: 'linux',
      osName: 'Linux',
      status: 'Running',
      backend: 'sim',
      address: `${opts.addressPrefix}.${tag}.${i + 1}`,
      sshPort: 2222,
      loginUser: 'root',
      resourceGroupId: 'rg-1',
      tags: [],
      createdAt: new Date(0),
      updatedAt: new Date(0),
      keyPairId: null,
      keyPairName: null,
      desiredPublicKey: null,
      pendingPasswordHash: null,
      appliedPublicKey: null,
      appliedPasswordLogin: true,
      pendingRestart: false,
      hasPassword: true,
      hostKeySha256: null,
      startAfterProvision: true,
      ...opts.over,
    };
    await store.transaction((tx) => tx.instances.insert(inst));
    instances.push(inst);
  }
  return { keyPair, instances };
}
