/**
 * The store's side of tags and resource groups (issue 20, migration 0017), on the embedded store and on
 * PostgreSQL: tags of key pairs and instances read back as written and filter both lists; one account never reads
 * or changes another's; ListTagResources' keyset pages neither repeat nor skip a row; an instance or key pair
 * update from an older read never undoes a tag change or a move; a resource group is deleted only when empty, and
 * two processes adding tags to one resource at once never leave it with more than 20.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createResourceGroupService } from '../../src/core/account/resource-groups.js';
import type { Caller } from '../../src/core/caller.js';
import { isCoreError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/instance/instance.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import { createTagService } from '../../src/core/tag/tag-service.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const REGION = 'cn-hangzhou';

function keyPair(accountId: string, name: string, over: Partial<KeyPair> = {}): KeyPair {
  return {
    id: 'kp-' + randomUUID().slice(0, 12),
    accountId,
    regionId: REGION,
    name,
    algorithm: 'ssh-ed25519',
    bits: 256,
    publicKey: `ssh-ed25519 AAAA ${name}`,
    fingerprintMd5: 'MD5:00:11',
    fingerprintSha256: 'SHA256:' + name,
    resourceGroupId: `rg-default-${accountId}`,
    tags: [],
    description: '',
    createdAt: T0,
    escrowedPrivateKey: null,
    ...over,
  };
}

let addressSeq = 0;
function instance(accountId: string, over: Partial<Instance> = {}): Instance {
  const id = over.id ?? 'i-' + randomUUID().replace(/-/g, '').slice(0, 20);
  addressSeq += 1;
  return {
    id,
    accountId,
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
    address: `127.42.${Math.floor(addressSeq / 250)}.${1 + (addressSeq % 250)}`,
    sshPort: 2222,
    loginUser: 'root',
    resourceGroupId: `rg-default-${accountId}`,
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
    hasPassword: false,
    hostKeySha256: null,
    startAfterProvision: true,
    verifiedAt: null,
    verification: null,
    ...over,
  };
}

const callerOf = (accountId: string) => ({ accountId }) as Caller;
const clock = { now: () => T0 } as never;
let idSeq = 0;
const ids = {
  next: (p: string) => `${p}${String(++idSeq).padStart(8, '0')}`,
  uuid: randomUUID,
  random: Math.random,
} as never;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`tags and resource groups in the store (${kind})`, () => {
    let store: OpenedStore;
    let second: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
        second = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else {
        // One process per data directory on SQLite (its single writer): the "two processes" share the store.
        store = await openStore({ dataDir: tempDir() });
        second = store;
      }
      for (const acc of ['acc-a', 'acc-b']) {
        await store.accounts.insertAccount({ id: acc, name: acc, createdAt: T0 });
        await store.accounts.insertResourceGroup({
          id: `rg-default-${acc}`,
          accountId: acc,
          name: 'default',
          createdAt: T0,
        });
      }
    });
    after(async () => {
      if (second !== store) await second.close();
      await store.close();
      await drop();
    });

    test('tags are added, overwritten, listed, filtered and removed, per account', async () => {
      const kp = keyPair('acc-a', 'tagged', { tags: [{ key: 'team', value: 'infra' }] });
      const other = keyPair('acc-b', 'tagged', { tags: [{ key: 'team', value: 'infra' }] });
      await store.keyPairs.insert(kp);
      await store.keyPairs.insert(other);
      const inst = instance('acc-a');
      await store.instances.insert(inst);

      await store.tags.put(
        'acc-a',
        REGION,
        'keypair',
        [kp.id],
        [
          { key: 'team', value: 'web' },
          { key: 'env', value: '' },
        ],
      );
      await store.tags.put('acc-a', REGION, 'instance', [inst.id], [{ key: 'env', value: 'prod' }]);
      assert.deepEqual((await store.keyPairs.get('acc-a', REGION, 'tagged'))?.tags, [
        { key: 'env', value: '' },
        { key: 'team', value: 'web' },
      ]);
      assert.deepEqual((await store.instances.get('acc-a', inst.id))?.tags, [{ key: 'env', value: 'prod' }]);
      // The other account's key pair of the same name keeps its own tag.
      assert.deepEqual((await store.keyPairs.get('acc-b', REGION, 'tagged'))?.tags, [{ key: 'team', value: 'infra' }]);

      const byTag = await store.instances.list({
        accountId: 'acc-a',
        tags: [{ key: 'env', value: 'prod' }],
        offset: 0,
        limit: 10,
      });
      assert.deepEqual(
        byTag.items.map((i) => i.id),
        [inst.id],
      );
      const anyValue = await store.instances.list({
        accountId: 'acc-a',
        tags: [{ key: 'env', value: '' }],
        offset: 0,
        limit: 10,
      });
      assert.equal(anyValue.total, 1);
      const wrongValue = await store.instances.list({
        accountId: 'acc-a',
        tags: [{ key: 'env', value: 'dev' }],
        offset: 0,
        limit: 10,
      });
      assert.equal(wrongValue.total, 0);
      // Instances and key pairs with the same tag are not confused: the filter names its type.
      const kpByEnv = await store.keyPairs.list({
        accountId: 'acc-a',
        tags: [{ key: 'env', value: 'prod' }],
        offset: 0,
        limit: 10,
      });
      assert.equal(kpByEnv.total, 0);

      // Another account cannot remove or see them.
      await store.tags.remove('acc-b', 'keypair', [kp.id], null);
      assert.equal((await store.keyPairs.get('acc-a', REGION, 'tagged'))?.tags.length, 2);
      assert.deepEqual(
        await store.tags.list({ accountId: 'acc-b', regionId: REGION, resourceType: 'instance', limit: 50 }),
        [],
      );

      await store.tags.remove('acc-a', 'keypair', [kp.id], ['team']);
      assert.deepEqual((await store.keyPairs.get('acc-a', REGION, 'tagged'))?.tags, [{ key: 'env', value: '' }]);
      await store.tags.remove('acc-a', 'keypair', [kp.id], null);
      assert.deepEqual((await store.keyPairs.get('acc-a', REGION, 'tagged'))?.tags, []);
    });

    test('an update from an older read keeps the tags and the resource group', async () => {
      const inst = instance('acc-a');
      await store.instances.insert(inst);
      await store.accounts.insertResourceGroup({ id: 'rg-moved', accountId: 'acc-a', name: 'moved', createdAt: T0 });
      const stale = (await store.instances.get('acc-a', inst.id))!;
      await store.tags.put('acc-a', REGION, 'instance', [inst.id], [{ key: 'owner', value: 'ops' }]);
      assert.equal(await store.accounts.moveToResourceGroup('acc-a', 'instance', inst.id, 'rg-moved'), true);
      await store.instances.update({ ...stale, status: 'Stopped' });
      const now = (await store.instances.get('acc-a', inst.id))!;
      assert.equal(now.status, 'Stopped');
      assert.equal(now.resourceGroupId, 'rg-moved');
      assert.deepEqual(now.tags, [{ key: 'owner', value: 'ops' }]);
      assert.deepEqual(await store.accounts.resourceGroupMembers('acc-a', 'rg-moved'), { keyPairs: 0, instances: 1 });
      assert.equal(await store.accounts.moveToResourceGroup('acc-b', 'instance', inst.id, 'rg-moved'), false);
      await store.instances.delete('acc-a', inst.id);
      assert.deepEqual(
        await store.tags.list({
          accountId: 'acc-a',
          regionId: REGION,
          resourceType: 'instance',
          resourceIds: [inst.id],
          limit: 50,
        }),
        [],
        'deleting an instance deletes its tags',
      );
    });

    test('tag listings page by resource and key without repeating or skipping a row', async () => {
      const made: string[] = [];
      for (let n = 0; n < 7; n++) {
        const i = instance('acc-b');
        await store.instances.insert(i);
        await store.tags.put(
          'acc-b',
          REGION,
          'instance',
          [i.id],
          [
            { key: 'a', value: String(n) },
            { key: 'b', value: n % 2 ? 'odd' : 'even' },
            { key: 'c', value: 'x' },
          ],
        );
        made.push(i.id);
      }
      const seen: string[] = [];
      let after: { resourceId: string; key: string } | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const rows = await store.tags.list({
          accountId: 'acc-b',
          regionId: REGION,
          resourceType: 'instance',
          ...(after ? { after } : {}),
          limit: 4,
        });
        if (rows.length === 0) break;
        seen.push(...rows.map((r) => `${r.resourceId}/${r.key}`));
        after = { resourceId: rows[rows.length - 1]!.resourceId, key: rows[rows.length - 1]!.key };
      }
      const expected = [...made].sort().flatMap((id) => ['a', 'b', 'c'].map((k) => `${id}/${k}`));
      assert.deepEqual(seen, expected);
      const odd = await store.tags.list({
        accountId: 'acc-b',
        regionId: REGION,
        resourceType: 'instance',
        tags: [{ key: 'b', value: 'odd' }],
        limit: 50,
      });
      assert.equal(new Set(odd.map((r) => r.resourceId)).size, 3);
      assert.equal(odd.length, 9, 'a tag filter returns every tag of the resources it selects');
      assert.equal(await store.tags.maxCount('acc-b', 'instance', made), 3);
    });

    test('a resource group is deleted only when empty, and not while a move into it commits', async () => {
      const groups = createResourceGroupService({ store, clock, ids });
      const caller = callerOf('acc-a');
      const g = await groups.create(caller, { name: 'team-x' });
      await assert.rejects(
        groups.create(caller, { name: 'team-x' }),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.AlreadyExists',
      );
      await assert.rejects(
        groups.create(caller, { name: '-bad name' }),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.NameMalformed',
      );
      const kp = keyPair('acc-a', 'grouped');
      await store.keyPairs.insert(kp);
      await groups.join(caller, {
        regionId: REGION,
        resourceType: 'keypair',
        resourceId: 'grouped',
        resourceGroupId: g.id,
      });
      assert.equal((await store.keyPairs.get('acc-a', REGION, 'grouped'))?.resourceGroupId, g.id);
      await assert.rejects(groups.delete(caller, g.id), (e) => isCoreError(e) && e.code === 'ResourceGroup.NotEmpty');
      assert.ok(await store.accounts.getResourceGroup('acc-a', g.id), 'a refused delete changes nothing');
      const renamed = await groups.rename(caller, g.id, { name: 'team-y' });
      assert.equal(renamed.name, 'team-y');
      const def = (await groups.list(caller)).find((x) => x.isDefault)!;
      await assert.rejects(
        groups.rename(caller, def.id, { name: 'other' }),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.DefaultImmutable',
      );
      await assert.rejects(
        groups.delete(caller, def.id),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.DefaultImmutable',
      );
      await assert.rejects(
        groups.rename(caller, g.id, { name: 'default' }),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.AlreadyExists',
      );
      // Another account cannot see, move into or delete it.
      await assert.rejects(
        groups.delete(callerOf('acc-b'), g.id),
        (e) => isCoreError(e) && e.code === 'ResourceGroup.NotFound',
      );

      // A delete and a move into the group at once, from two processes: whichever commits first, the group is
      // never deleted with a member in it.
      const moving = keyPair('acc-a', 'racer');
      await store.keyPairs.insert(moving);
      await groups.join(caller, {
        regionId: REGION,
        resourceType: 'keypair',
        resourceId: 'grouped',
        resourceGroupId: def.id,
      });
      const other = createResourceGroupService({ store: second, clock, ids });
      const [del, join] = await Promise.allSettled([
        groups.delete(caller, g.id),
        other.join(caller, { regionId: REGION, resourceType: 'keypair', resourceId: 'racer', resourceGroupId: g.id }),
      ]);
      const exists = await store.accounts.getResourceGroup('acc-a', g.id);
      const racer = await store.keyPairs.get('acc-a', REGION, 'racer');
      if (exists) {
        assert.equal(del.status, 'rejected');
        assert.equal(racer?.resourceGroupId, g.id);
      } else {
        assert.equal(del.status, 'fulfilled');
        assert.equal(join.status, 'rejected');
        assert.notEqual(racer?.resourceGroupId, g.id, 'no key pair is left in a deleted group');
      }
    });

    test('two processes tagging one resource at once never leave it with more than 20 tags', async () => {
      const kp = keyPair('acc-b', 'crowded');
      await store.keyPairs.insert(kp);
      const regions = DEFAULT_REGIONS;
      const one = createTagService({ store, regions });
      const two = createTagService({ store: second, regions });
      const caller = callerOf('acc-b');
      const tagsFrom = (prefix: string) => Array.from({ length: 12 }, (_, n) => ({ key: `${prefix}${n}`, value: 'v' }));
      const results = await Promise.allSettled([
        one.tag(caller, { regionId: REGION, resourceType: 'keypair', resourceIds: ['crowded'], tags: tagsFrom('p') }),
        two.tag(caller, { regionId: REGION, resourceType: 'keypair', resourceIds: ['crowded'], tags: tagsFrom('q') }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one of the two fits');
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isCoreError(rejected.reason) && rejected.reason.code === 'KeyPair.TagInvalid');
      assert.equal((await store.keyPairs.get('acc-b', REGION, 'crowded'))?.tags.length, 12);
    });
  });
}
