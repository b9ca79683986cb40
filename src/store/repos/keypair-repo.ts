import { sql } from 'kysely';
import type { KeyPair, Tag } from '../../core/keypair/keypair.js';
import type { KeyAlgorithm } from '../../core/keypair/public-key.js';
import type { KeyPairFilter, KeyPairRepo, Page } from '../../core/ports.js';
import type { KeyPairsTable } from '../schema.js';
import { fromMs, likePattern, type RepoContext, toMs } from './common.js';
import { tagsOf } from './tag-repo.js';

/** A LIKE pattern matching names that contain the text as typed (every character literal, '*' included). */
function substringPattern(text: string): string {
  return '%' + text.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

function toRow(kp: KeyPair): KeyPairsTable {
  return {
    id: kp.id,
    account_id: kp.accountId,
    region_id: kp.regionId,
    name: kp.name,
    algorithm: kp.algorithm,
    bits: kp.bits,
    public_key: kp.publicKey,
    fingerprint_md5: kp.fingerprintMd5,
    fingerprint_sha256: kp.fingerprintSha256,
    resource_group_id: kp.resourceGroupId,
    description: kp.description,
    escrowed_private_key: kp.escrowedPrivateKey,
    created_at: toMs(kp.createdAt),
  };
}

function fromRow(r: KeyPairsTable, tags: Tag[]): KeyPair {
  return {
    id: r.id,
    accountId: r.account_id,
    regionId: r.region_id,
    name: r.name,
    algorithm: r.algorithm as KeyAlgorithm,
    bits: Number(r.bits),
    publicKey: r.public_key,
    fingerprintMd5: r.fingerprint_md5,
    fingerprintSha256: r.fingerprint_sha256,
    resourceGroupId: r.resource_group_id,
    tags,
    description: r.description,
    createdAt: fromMs(r.created_at),
    escrowedPrivateKey: r.escrowed_private_key,
  };
}

export function createKeyPairRepo({ db }: RepoContext): KeyPairRepo {
  async function withTags(rows: KeyPairsTable[]): Promise<KeyPair[]> {
    const tags = await tagsOf(
      db,
      'keypair',
      rows.map((r) => r.id),
    );
    return rows.map((r) => fromRow(r, tags.get(r.id) ?? []));
  }

  return {
    async insert(kp) {
      await db.insertInto('key_pairs').values(toRow(kp)).execute();
      if (kp.tags.length > 0)
        await db
          .insertInto('resource_tags')
          .values(
            kp.tags.map((t) => ({
              account_id: kp.accountId,
              region_id: kp.regionId,
              resource_type: 'keypair',
              resource_id: kp.id,
              key: t.key,
              value: t.value,
            })),
          )
          .execute();
    },
    async get(accountId, regionId, name) {
      const row = await db
        .selectFrom('key_pairs')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('region_id', '=', regionId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row ? (await withTags([row]))[0]! : null;
    },
    async getById(accountId, id) {
      const row = await db
        .selectFrom('key_pairs')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? (await withTags([row]))[0]! : null;
    },
    async list(f: KeyPairFilter): Promise<Page<KeyPair>> {
      let q = db.selectFrom('key_pairs').where('account_id', '=', f.accountId);
      if (f.regionId) q = q.where('region_id', '=', f.regionId);
      if (f.namePattern)
        q = f.namePattern.includes('*')
          ? q.where(sql<boolean>`name like ${likePattern(f.namePattern)} escape '\\'`)
          : q.where('name', '=', f.namePattern);
      if (f.fingerprint) {
        const fp = f.fingerprint;
        q = q.where((eb) =>
          eb.or([
            eb('fingerprint_md5', '=', fp),
            eb('fingerprint_md5', '=', 'MD5:' + fp),
            eb('fingerprint_sha256', '=', fp),
          ]),
        );
      }
      if (f.resourceGroupId) q = q.where('resource_group_id', '=', f.resourceGroupId);
      for (const t of f.tags ?? []) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('resource_tags')
              .select('resource_id')
              .where('resource_tags.resource_type', '=', 'keypair')
              .whereRef('resource_tags.resource_id', '=', 'key_pairs.id')
              .where('resource_tags.key', '=', t.key)
              .$if(t.value !== '', (sq) => sq.where('resource_tags.value', '=', t.value)),
          ),
        );
      }
      for (const c of f.tagChoices ?? []) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('resource_tags')
              .select('resource_id')
              .where('resource_tags.resource_type', '=', 'keypair')
              .whereRef('resource_tags.resource_id', '=', 'key_pairs.id')
              .where('resource_tags.key', '=', c.key)
              .$if(c.values.length > 0, (sq) => sq.where('resource_tags.value', 'in', c.values)),
          ),
        );
      }
      if (f.untagged)
        q = q.where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('resource_tags')
                .select('resource_id')
                .where('resource_tags.resource_type', '=', 'keypair')
                .whereRef('resource_tags.resource_id', '=', 'key_pairs.id'),
            ),
          ),
        );
      if (f.nameContains) q = q.where(sql<boolean>`name like ${substringPattern(f.nameContains)} escape '\\'`);
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      // By name, the id breaking ties between regions: a stable order for offset paging.
      const ordered =
        f.orderBy === 'name'
          ? q.selectAll().orderBy('name').orderBy('id')
          : q.selectAll().orderBy('created_at').orderBy('name');
      const rows = await ordered.offset(f.offset).limit(f.limit).execute();
      return { items: await withTags(rows), total: Number(total.n) };
    },
    async count(accountId, regionId) {
      const r = await db
        .selectFrom('key_pairs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('region_id', '=', regionId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    // Tags and the resource group are not written here: they change only through their own calls (the tag
    // repository, moveToResourceGroup), so an update from an older read never undoes a concurrent tag or move.
    async update(kp) {
      const { id, account_id, resource_group_id: _group, ...rest } = toRow(kp);
      await db.updateTable('key_pairs').set(rest).where('id', '=', id).where('account_id', '=', account_id).execute();
    },
    async delete(accountId, ids) {
      if (ids.length === 0) return;
      await db
        .deleteFrom('resource_tags')
        .where('account_id', '=', accountId)
        .where('resource_type', '=', 'keypair')
        .where('resource_id', 'in', ids)
        .execute();
      await db.deleteFrom('key_pairs').where('account_id', '=', accountId).where('id', 'in', ids).execute();
    },
  };
}
