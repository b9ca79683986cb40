/**
 * The keyfleet each face's fuzz run talks to: in-process, SQLite, no rate limit, instances that boot at once, hosts
 * only registrable at an address where nothing listens (so no fuzzed address reaches the network), and a few key
 * pairs and running instances for the valid requests to name. The key pair quota is left at its default: it is
 * checked after a key is generated, so a small quota would make every refused CreateKeyPair pay for an RSA key.
 */
import type { Keyfleet } from '../../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../../support/keyfleet.js';

export const REGION = 'cn-hangzhou';

export interface FuzzFixture {
  kf: Keyfleet;
  api: Api;
  host: string;
  accountId: string;
  /** The key pairs and instances of the account now (refreshed after accepted requests). */
  keyPairNames: string[];
  instanceIds: string[];
  refresh(): Promise<void>;
}

export async function startFuzzFixture(): Promise<FuzzFixture> {
  const { kf, api } = await startInProcess({
    bootMs: 0,
    extra: {
      KEYFLEET_RATE_LIMIT: '0',
      KEYFLEET_HOST_NETWORKS: '127.255.255.254/32',
      KEYFLEET_LIVE_TIMEOUT_MS: '2000',
      KEYFLEET_NATIVE_MAX_BATCH: '100',
    },
  });
  for (let n = 0; n < 4; n++) await api.createKeyPair(`fz-kp-${n}`, 'ed25519');
  const ids = await api.run({ imageId: LINUX_IMAGE, amount: 4 });
  await api.waitStatus(ids, 'Running');
  const who = await api.call('GET', '/api/v1/whoami');
  const fixture: FuzzFixture = {
    kf,
    api,
    host: new URL(kf.url).host,
    accountId: who.accountId ?? who.account?.id,
    keyPairNames: [],
    instanceIds: [],
    async refresh() {
      const db = kf.store.db;
      fixture.keyPairNames = (await db.selectFrom('key_pairs').select('name').orderBy('name').execute()).map(
        (r) => r.name,
      );
      fixture.instanceIds = (await db.selectFrom('instances').select('id').orderBy('id').execute()).map((r) => r.id);
    },
  };
  await fixture.refresh();
  return fixture;
}
