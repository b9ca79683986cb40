/**
 * Tags of key pairs and instances in `resource_tags` (migration 0017), and the one helper the key pair and instance
 * repositories use to read the tags of the rows they return.
 */
import type { Kysely } from 'kysely';
import type { Tag } from '../../core/keypair/keypair.js';
import type { TaggableType, TagRepo, TagResource } from '../../core/ports.js';
import type { Database } from '../schema.js';
import type { RepoContext } from './common.js';

/** Ids per `IN (…)` list: well under SQLite's and PostgreSQL's bound on bound parameters, for lists of any length. */
const CHUNK = 500;

const TABLE_OF: Record<TaggableType, 'key_pairs' | 'instances'> = { keypair: 'key_pairs', instance: 'instances' };

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

/** The tags of each resource, by key; resources without tags are absent from the map. */
export async function tagsOf(db: Kysely<Database>, type: TaggableType, ids: readonly string[]) {
  const out = new Map<string, Tag[]>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom('resource_tags')
      .select(['resource_id', 'key', 'value'])
      .where('resource_type', '=', type)
      .where('resource_id', 'in', part)
      .orderBy('resource_id')
      .orderBy('key')
      .execute();
    for (const r of rows) {
      const list = out.get(r.resource_id) ?? [];
      list.push({ key: r.key, value: r.value });
      out.set(r.resource_id, list);
    }
  }
  return out;
}

export function createTagRepo({ db, dialect }: RepoContext): TagRepo {
  return {
    async lock(accountId, regionId, type, ids) {
      const found: string[] = [];
      for (const part of chunks([...new Set(ids)].sort())) {
        const q = db
          .selectFrom(TABLE_OF[type])
          .select('id')
          .where('account_id', '=', accountId)
          .where('region_id', '=', regionId)
          .where('id', 'in', part)
          .orderBy('id');
        const rows = dialect === 'postgres' ? await q.forUpdate().execute() : await q.execute();
        found.push(...rows.map((r) => r.id));
      }
      return found;
    },
    async put(accountId, regionId, type, ids, tags) {
      if (ids.length === 0 || tags.length === 0) return;
      for (const part of chunks(ids)) {
        await db
          .insertInto('resource_tags')
          .values(
            part.flatMap((id) =>
              tags.map((t) => ({
                account_id: accountId,
                region_id: regionId,
                resource_type: type,
                resource_id: id,
                key: t.key,
                value: t.value,
              })),
            ),
          )
          .onConflict((oc) =>
            oc
              .columns(['resource_type', 'resource_id', 'key'])
              .doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
    },
    async remove(accountId, type, ids, keys) {
      if (ids.length === 0 || (keys && keys.length === 0)) return;
      for (const part of chunks(ids)) {
        let q = db
          .deleteFrom('resource_tags')
          .where('account_id', '=', accountId)
          .where('resource_type', '=', type)
          .where('resource_id', 'in', part);
        if (keys) q = q.where('key', 'in', keys);
        await q.execute();
      }
    },
    async maxCount(accountId, type, ids) {
      let max = 0;
      for (const part of chunks(ids)) {
        const rows = await db
          .selectFrom('resource_tags')
          .select((eb) => ['resource_id', eb.fn.countAll<number>().as('n')])
          .where('account_id', '=', accountId)
          .where('resource_type', '=', type)
          .where('resource_id', 'in', part)
          .groupBy('resource_id')
          .execute();
        for (const r of rows) max = Math.max(max, Number(r.n));
      }
      return max;
    },
    async list(q) {
      let sel = db
        .selectFrom('resource_tags as t')
        .select(['t.resource_type', 't.resource_id', 't.key', 't.value'])
        .where('t.account_id', '=', q.accountId)
        .where('t.region_id', '=', q.regionId)
        .where('t.resource_type', '=', q.resourceType);
      if (q.resourceIds) sel = sel.where('t.resource_id', 'in', q.resourceIds.length > 0 ? q.resourceIds : ['']);
      for (const tag of q.tags ?? []) {
        sel = sel.where((eb) =>
          eb.exists(
            eb
              .selectFrom('resource_tags as f')
              .select('f.resource_id')
              .whereRef('f.resource_type', '=', 't.resource_type')
              .whereRef('f.resource_id', '=', 't.resource_id')
              .where('f.key', '=', tag.key)
              .$if(tag.value !== '', (sq) => sq.where('f.value', '=', tag.value)),
          ),
        );
      }
      if (q.after) {
        const { resourceId, key } = q.after;
        sel = sel.where((eb) =>
          eb.or([
            eb('t.resource_id', '>', resourceId),
            eb.and([eb('t.resource_id', '=', resourceId), eb('t.key', '>', key)]),
          ]),
        );
      }
      const rows = await sel.orderBy('t.resource_id').orderBy('t.key').limit(q.limit).execute();
      return rows.map(
        (r): TagResource => ({
          resourceType: r.resource_type as TaggableType,
          resourceId: r.resource_id,
          key: r.key,
          value: r.value,
        }),
      );
    },
  };
}
