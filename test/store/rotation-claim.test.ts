/**
 * A wave starts exactly once however many processes drive rotations (issue 19). Two rotation drivers, each over its
 * own connection to the store (on PostgreSQL: two pools, as two processes have), run their rounds at the same
 * moment over 12 rotations whose first wave is due: every wave gets exactly one task, and no other task exists
 * (a losing claim rolls its task back with it). The same on the embedded store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { systemClock, createIdGen } from '../../src/app/ids.js';
import { createBindSubmit } from '../../src/core/binding/bind-submit.js';
import { systemCaller } from '../../src/core/caller.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { Logger, SecretBox, Store } from '../../src/core/ports.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import { createRotationDriver } from '../../src/core/rotation/rotation-driver.js';
import { createRotationService } from '../../src/core/rotation/rotation-service.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const ACCOUNT = 'acc-rot';
const ROTATIONS = 12;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const noSecrets = { seal: () => 'sealed', open: () => '' } as unknown as SecretBox;

function instance(keyPairName: string, n: number): Instance {
  const id = `i-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  return {
    id,
    accountId: ACCOUNT,
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
    address: `127.77.0.${n}`,
    sshPort: 22,
    loginUser: 'root',
    resourceGroupId: 'rg-1',
    tags: [],
    createdAt: T0,
    updatedAt: T0,
    keyPairId: `kp-${keyPairName}`,
    keyPairName,
    desiredPublicKey: null,
    pendingPasswordHash: null,
    appliedPublicKey: null,
    appliedPasswordLogin: true,
    pendingRestart: false,
    hasPassword: true,
    hostKeySha256: null,
    startAfterProvision: false,
  } as Instance;
}

function keyPair(name: string) {
  return {
    id: `kp-${name}`,
    accountId: ACCOUNT,
    regionId: 'cn-hangzhou',
    name,
    algorithm: 'ssh-ed25519' as const,
    bits: 256,
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClaimClaimClaimClaimClaimClaimClaimClaim0000 x',
    fingerprintMd5: name,
    fingerprintSha256: name,
    resourceGroupId: 'rg-1',
    tags: [],
    description: '',
    createdAt: T0,
    escrowedPrivateKey: null,
  };
}

function driverOver(store: Store) {
  const ids = createIdGen();
  const makeTask = createBindSubmit({ store, clock: systemClock, ids, regions: DEFAULT_REGIONS });
  return createRotationDriver({
    store,
    secrets: noSecrets,
    clock: systemClock,
    ids,
    logger: quiet,
    submit: (caller, req, within) => makeTask(caller, req, undefined, within),
    callerOf: async (r) => systemCaller(r.accountId, r.requestId),
    waitFor: () => new Promise(() => undefined),
    pollMs: 3_600_000,
  });
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`a wave is claimed once by two drivers (${kind})`, () => {
    let one: OpenedStore;
    let two: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        one = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
        two = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else two = one = await openStore({ dataDir: tempDir() });
      await one.accounts.insertAccount({ id: ACCOUNT, name: ACCOUNT, createdAt: T0 });
      await one.accounts.insertResourceGroup({ id: 'rg-1', accountId: ACCOUNT, name: 'default', createdAt: T0 });
    });
    after(async () => {
      await one?.close();
      if (two !== one) await two?.close();
      await drop();
    });

    test(`${ROTATIONS} due waves, two drivers at once: one task each, no other task`, async () => {
      const service = createRotationService({
        store: one,
        secrets: noSecrets,
        clock: systemClock,
        ids: createIdGen(),
        regions: DEFAULT_REGIONS,
        kick: () => undefined,
      });
      const caller = systemCaller(ACCOUNT, 'req-1');
      const created: string[] = [];
      for (let r = 0; r < ROTATIONS; r++) {
        const [a, b] = [`claim-a${r}`, `claim-b${r}`];
        await one.keyPairs.insert(keyPair(a));
        await one.keyPairs.insert(keyPair(b));
        for (let n = 0; n < 3; n++) await one.instances.insert(instance(a, r * 3 + n + 1));
        const rot = await service.create(caller, {
          regionId: 'cn-hangzhou',
          fromKeyPairName: a,
          toKeyPairName: b,
          canary: 2,
          waveSize: 1,
        });
        created.push(rot.id);
      }
      const [d1, d2] = [driverOver(one), driverOver(two)];
      await Promise.all([d1.round(), d2.round(), d1.round(), d2.round()]);
      await Promise.all([d1.close(), d2.close()]);

      const taskIds: string[] = [];
      for (const id of created) {
        const waves = await one.rotations.waves(id);
        assert.deepEqual(
          waves.map((w) => w.status),
          ['running', 'pending'],
          `rotation ${id}: the canary started, nothing else`,
        );
        assert.ok(waves[0]!.taskId);
        taskIds.push(waves[0]!.taskId!);
        const machines = await one.rotations.machines(id, { wave: 1, offset: 0, limit: 10 });
        for (const m of machines.items) assert.equal(m.taskId, waves[0]!.taskId);
      }
      const tasks = await one.tasks.list({ accountId: ACCOUNT, offset: 0, limit: 1000 });
      assert.equal(tasks.total, ROTATIONS, 'exactly one task per wave, none rolled back half-way');
      assert.deepEqual(tasks.items.map((t) => t.id).sort(), taskIds.sort());
    });
  });
}
