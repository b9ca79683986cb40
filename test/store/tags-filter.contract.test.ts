/**
 * The store's side of Huawei's tag filter (issue 20, KPS resource-instances filter/count), on the embedded store and
 * on PostgreSQL: a key pair list selected by tag keys with any of their values, by having no tag, or by a name
 * containing some text (every character literal), ordered by name so offset pages are stable, counted apart from
 * the page, never across accounts or resource types; and the core's bounds on the filter, checked before any read.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Caller } from '../../src/core/caller.js';
import { isCoreError } from '../../src/core/errors.js';
import type { KeyPair } from '../../src/core/keypair/keypair.js';
import type { KeyPairFilter } from '../../src/core/ports.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import { createKeyPairTagFilter, type KeyPairTagQuery } from '../../src/core/tag/keypair-tag-filter.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const REGION = 'cn-hangzhou';

function keyPair(accountId: string, name: string, createdAt: Date): KeyPair {
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
    createdAt,
    escrowedPrivateKey: null,
  };
}

/** Made in this order (so creation order differs from name order); tags by key pair. */
const MADE: Array<[string, Array<{ key: string; value: string }>]> = [
  ['zeta', [{ key: 'env', value: 'prod' }]],
  ['alpha', []],
  [
    'mid_1',
    [
      { key: 'env', value: 'dev' },
      { key: 'team', value: 'web' },
    ],
  ],
  [
    'beta',
    [
      { key: 'env', value: 'prod' },
      { key: 'team', value: '' },
    ],
  ],
  ['mid%2', []],
  ['gamma', [{ key: 'team', value: 'db' }]],
];

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`key pairs filtered by tags in the store (${kind})`, () => {
    let store: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;
    const list = async (f: Partial<KeyPairFilter>, account = 'acc-a') => {
      const page = await store.keyPairs.list({ accountId: account, regionId: REGION, offset: 0, limit: 50, ...f });
      return { names: page.items.map((k) => k.name), total: page.total, items: page.items };
    };

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else store = await openStore({ dataDir: tempDir() });
      for (const acc of ['acc-a', 'acc-b']) {
        await store.accounts.insertAccount({ id: acc, name: acc, createdAt: T0 });
        await store.accounts.insertResourceGroup({
          id: `rg-default-${acc}`,
          accountId: acc,
          name: 'default',
          createdAt: T0,
        });
      }
      let minute = 0;
      for (const [name, tags] of MADE) {
        const kp = keyPair('acc-a', name, new Date(T0.getTime() + ++minute * 60_000));
        await store.keyPairs.insert(kp);
        if (tags.length > 0) await store.tags.put('acc-a', REGION, 'keypair', [kp.id], tags);
      }
      // Another account with the same names and tags, and an instance of the first account with the same tags.
      const twin = keyPair('acc-b', 'zeta', T0);
      await store.keyPairs.insert(twin);
      await store.tags.put('acc-b', REGION, 'keypair', [twin.id], [{ key: 'env', value: 'prod' }]);
      await store.tags.put('acc-a', REGION, 'instance', ['i-not-a-key-pair'], [{ key: 'env', value: 'prod' }]);
    });
    after(async () => {
      await store.close();
      await drop();
    });

    test('tag choices: every key, any of its values, no values for any value', async () => {
      assert.deepEqual((await list({ tagChoices: [{ key: 'env', values: ['prod'] }] })).names, ['zeta', 'beta']);
      assert.deepEqual((await list({ tagChoices: [{ key: 'env', values: ['prod'] }], orderBy: 'name' })).names, [
        'beta',
        'zeta',
      ]);
      assert.deepEqual((await list({ tagChoices: [{ key: 'env', values: ['prod', 'dev'] }], orderBy: 'name' })).names, [
        'beta',
        'mid_1',
        'zeta',
      ]);
      assert.deepEqual((await list({ tagChoices: [{ key: 'team', values: [] }], orderBy: 'name' })).names, [
        'beta',
        'gamma',
        'mid_1',
      ]);
      assert.deepEqual(
        (
          await list({
            tagChoices: [
              { key: 'env', values: ['prod', 'dev'] },
              { key: 'team', values: [] },
            ],
            orderBy: 'name',
          })
        ).names,
        ['beta', 'mid_1'],
      );
      assert.deepEqual((await list({ tagChoices: [{ key: 'team', values: [''] }] })).names, ['beta'], 'empty value');
      const b = await list({ tagChoices: [{ key: 'env', values: ['prod'] }] }, 'acc-b');
      assert.deepEqual(b.names, ['zeta']);
      assert.deepEqual(b.items[0]!.tags, [{ key: 'env', value: 'prod' }], "each account's own tags");
    });

    test('untagged, and a name containing some text, every character literal', async () => {
      assert.deepEqual((await list({ untagged: true, orderBy: 'name' })).names, ['alpha', 'mid%2']);
      assert.deepEqual((await list({ nameContains: 'mid', orderBy: 'name' })).names, ['mid%2', 'mid_1']);
      assert.deepEqual((await list({ nameContains: '%' })).names, ['mid%2']);
      assert.deepEqual((await list({ nameContains: '_' })).names, ['mid_1']);
      assert.deepEqual((await list({ nameContains: 'MID' })).names, [], 'case-sensitive');
      assert.deepEqual((await list({ nameContains: 'a', untagged: true, orderBy: 'name' })).names, ['alpha']);
    });

    test('pages by name neither repeat nor skip, and the total ignores the page', async () => {
      const seen: string[] = [];
      for (let offset = 0; offset < 8; offset += 2) {
        const page = await list({ orderBy: 'name', offset, limit: 2 });
        assert.equal(page.total, MADE.length);
        seen.push(...page.names);
      }
      assert.deepEqual(seen, MADE.map(([n]) => n).sort());
    });

    test("the core's filter: bounded, validated before any read, one account", async () => {
      const f = createKeyPairTagFilter({ store, regions: DEFAULT_REGIONS });
      const caller = { accountId: 'acc-a' } as Caller;
      const q = (over: Partial<KeyPairTagQuery>): KeyPairTagQuery => ({ regionId: REGION, ...over });
      const page = await f.filter(caller, q({ tags: [{ key: 'env', values: ['prod'] }], limit: 1, offset: 1 }));
      assert.deepEqual(
        page.items.map((k) => k.name),
        ['zeta'],
      );
      assert.equal(page.total, 2);
      assert.equal(await f.count(caller, q({ tags: [{ key: 'env' }] })), 3);
      assert.equal(await f.count(caller, q({ withoutAnyTag: true, tags: [{ key: 'env' }] })), 2, 'tags set aside');
      assert.equal(await f.count({ accountId: 'acc-b' } as Caller, q({})), 1);
      const refused: Array<[string, Partial<KeyPairTagQuery>, string]> = [
        ['11 keys', { tags: Array.from({ length: 11 }, (_, n) => ({ key: `k${n}` })) }, 'KeyPair.TagInvalid'],
        [
          '11 values',
          { tags: [{ key: 'k', values: Array.from({ length: 11 }, (_, n) => `v${n}`) }] },
          'KeyPair.TagInvalid',
        ],
        ['a key twice', { tags: [{ key: 'k' }, { key: 'k' }] }, 'KeyPair.TagInvalid'],
        ['a value of 256', { tags: [{ key: 'k', values: ['v'.repeat(256)] }] }, 'KeyPair.TagInvalid'],
        ['a key of 129', { tags: [{ key: 'k'.repeat(129) }] }, 'KeyPair.TagInvalid'],
        ['an empty name text', { nameContains: '' }, 'Input.Invalid'],
        ['limit 0', { limit: 0 }, 'Input.Invalid'],
        ['limit 1001', { limit: 1001 }, 'Input.Invalid'],
        ['offset -1', { offset: -1 }, 'Input.Invalid'],
        ['offset NaN', { offset: Number.NaN }, 'Input.Invalid'],
        ['an unknown region', { regionId: 'xx-nowhere-1' }, 'Region.NotFound'],
      ];
      for (const [why, over, code] of refused)
        await assert.rejects(f.filter(caller, q(over)), (e) => isCoreError(e) && e.code === code, why);
    });
  });
}
