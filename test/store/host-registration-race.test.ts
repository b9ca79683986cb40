/**
 * Two registrations of one host in one account at once (issue 18): both pass the service's check before their
 * first contact, and the store's unique index (account, address, port) keeps one. The other must get the coded
 * `Instance.AlreadyRegistered`, not the database's unique-constraint error, on both stores. Which of the two wins
 * is not assumed. The repo's insert is the one both registration and inventory import go through.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { systemCaller } from '../../src/core/caller.js';
import { isCoreError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/instance/instance.js';
import { createHostService } from '../../src/core/instance/host-service.js';
import type { KeyMaterial } from '../../src/core/keypair/key-material.js';
import type { LiveAccess, SecretBox } from '../../src/core/ports.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import { systemClock } from '../../src/app/ids.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const HOST_KEY = `SHA256:${'B'.repeat(43)}`;

function hostInstance(accountId: string, address: string, port = 22): Instance {
  const id = `i-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  return {
    id,
    accountId,
    regionId: 'cn-hangzhou',
    zoneId: 'cn-hangzhou-a',
    name: id,
    hostName: id,
    description: '',
    imageId: 'host',
    instanceType: 'host',
    osType: 'linux',
    osName: 'Linux (registered host)',
    status: 'Running',
    backend: 'host',
    address,
    sshPort: port,
    loginUser: 'root',
    resourceGroupId: 'rg-1',
    tags: [],
    createdAt: T0,
    updatedAt: T0,
    keyPairId: null,
    keyPairName: null,
    desiredPublicKey: null,
    pendingPasswordHash: null,
    appliedPublicKey: null,
    appliedPasswordLogin: true,
    pendingRestart: false,
    hasPassword: true,
    hostKeySha256: HOST_KEY,
    startAfterProvision: false,
  };
}

/** Both settled; exactly one fulfilled and the other refused with the coded error (whichever it is). */
function oneWinsOneIsTold(results: PromiseSettledResult<unknown>[]): void {
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(won.length, 1, `one of the two is registered: ${JSON.stringify(results.map((r) => r.status))}`);
  assert.equal(lost.length, 1);
  const err = lost[0]!.reason;
  assert.ok(isCoreError(err), `a coded error, not the database's: ${String(err)}`);
  assert.equal(err.code, 'Instance.AlreadyRegistered');
}

/** A LiveAccess whose first contacts all wait until `expected` of them have begun: both are past the check. */
function barrierLive(expected: number): LiveAccess {
  let arrived = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((r) => (release = r));
  const contact = async () => {
    arrived++;
    if (arrived >= expected) release();
    await all;
  };
  return {
    openSession: async () => {
      throw new Error('not used');
    },
    probeLogin: async () => {
      await contact();
      return { keyAccepted: null, methods: ['publickey'], hostKeySha256: HOST_KEY };
    },
    tryLogin: async () => {
      await contact();
      return { ok: true, hostKeySha256: HOST_KEY };
    },
  } as LiveAccess;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`concurrent registrations of one host (${kind})`, () => {
    let store: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else store = await openStore({ dataDir: tempDir() });
      for (const id of ['acc-1', 'acc-2']) {
        await store.accounts.insertAccount({ id, name: id, createdAt: T0 });
        await store.accounts.insertResourceGroup({ id: `rg-${id}`, accountId: id, name: 'default', createdAt: T0 });
      }
    });
    after(async () => {
      await store?.close();
      await drop();
    });

    test('the store: two inserts of one address and port in one account, one is refused with the coded error', async () => {
      const results = await Promise.allSettled([
        store.transaction((tx) => tx.instances.insert(hostInstance('acc-1', '127.16.9.1'))),
        store.transaction((tx) => tx.instances.insert(hostInstance('acc-1', '127.16.9.1'))),
      ]);
      oneWinsOneIsTold(results);
      // Another account, or another port, is another host.
      await store.transaction((tx) => tx.instances.insert(hostInstance('acc-2', '127.16.9.1')));
      await store.transaction((tx) => tx.instances.insert(hostInstance('acc-1', '127.16.9.1', 2222)));
    });

    test('the store: an id taken twice is not reported as a host already registered', async () => {
      const first = hostInstance('acc-1', '127.16.9.2');
      await store.transaction((tx) => tx.instances.insert(first));
      const again = { ...first, address: '127.16.9.3' };
      await assert.rejects(
        store.transaction((tx) => tx.instances.insert(again)),
        (err) => !isCoreError(err) || err.code !== 'Instance.AlreadyRegistered',
      );
    });

    test('the host service: two registrations at once, both past the check, the loser is told Instance.AlreadyRegistered', async () => {
      const hosts = createHostService({
        store,
        live: barrierLive(2),
        keys: { publicKeyOf: () => 'ssh-ed25519 AAAA' } as unknown as KeyMaterial,
        secrets: { seal: (p: string) => `sealed:${p.length}`, open: () => '' } as SecretBox,
        clock: systemClock,
        ids: {
          next: (p: string) => `${p}${randomUUID().replace(/-/g, '').slice(0, 20)}`,
          uuid: randomUUID,
          random: Math.random,
        },
        regions: DEFAULT_REGIONS,
        liveTimeoutMs: 5_000,
      });
      const input = { regionId: 'cn-hangzhou', address: '127.16.9.9', loginUser: 'root' };
      const results = await Promise.allSettled([
        hosts.register(systemCaller('acc-1', 'req-a'), { ...input, name: 'web-a' }),
        // Another spelling of the same address: one host on its canonical form.
        hosts.register(systemCaller('acc-1', 'req-b'), { ...input, name: 'web-b', address: '::ffff:127.16.9.9' }),
      ]);
      oneWinsOneIsTold(results);
      const listed = await store.instances.list({ accountId: 'acc-1', search: '127.16.9.9', offset: 0, limit: 10 });
      assert.equal(listed.items.length, 1, 'one host is stored');
    });
  });
}
