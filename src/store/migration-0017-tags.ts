/**
 * Tags on key pairs and instances, in one table (issue 20). Before this, key pairs kept theirs in `resource_tags`
 * (resource id, key, value: no account, no type, no region) and instances kept theirs as a JSON column, which no
 * query could filter or page. The new `resource_tags` names the account, region and resource type of each tag, so
 * ListTagResources, the tag filters of every face and tenant separation are plain indexed queries; the old rows
 * and the JSON column are copied in and then dropped.
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** Instances copied per round: the JSON column is parsed here, not in SQL (SQLite and PostgreSQL differ). */
const CHUNK = 500;

export const tags: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('resource_tags_0017')
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('region_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('resource_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('resource_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('key', 'varchar(128)', (c) => c.notNull())
      .addColumn('value', 'varchar(128)', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_tags_resource_key', ['resource_type', 'resource_id', 'key'])
      .execute();
    await sql`
      INSERT INTO resource_tags_0017 (account_id, region_id, resource_type, resource_id, key, value)
      SELECT k.account_id, k.region_id, 'keypair', t.resource_id, t.key, t.value
      FROM resource_tags t JOIN key_pairs k ON k.id = t.resource_id`.execute(db);
    let after = '';
    for (;;) {
      const rows = (await db
        .selectFrom('instances')
        .select(['id', 'account_id', 'region_id', 'tags'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(CHUNK)
        .execute()) as Array<{ id: string; account_id: string; region_id: string; tags: string }>;
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const values = rows.flatMap((r) => {
        const list = JSON.parse(r.tags || '[]') as Array<{ key: string; value: string }>;
        const seen = new Set<string>();
        return list
          .filter((t) => !seen.has(t.key) && seen.add(t.key))
          .map((t) => ({
            account_id: r.account_id,
            region_id: r.region_id,
            resource_type: 'instance',
            resource_id: r.id,
            key: t.key,
            value: t.value,
          }));
      });
      if (values.length > 0) await db.insertInto('resource_tags_0017').values(values).execute();
    }
    await db.schema.dropTable('resource_tags').execute();
    await db.schema.alterTable('resource_tags_0017').renameTo('resource_tags').execute();
    await db.schema.alterTable('instances').dropColumn('tags').execute();
    // The tag filters (Tag.N of DescribeKeyPairs/DescribeInstances, ListTagResources) look up by key and value.
    await db.schema
      .createIndex('resource_tags_filter')
      .on('resource_tags')
      .columns(['account_id', 'resource_type', 'key', 'value'])
      .execute();
    // ListTagResources pages by resource id, then key, within an account's region and type.
    await db.schema
      .createIndex('resource_tags_paging')
      .on('resource_tags')
      .columns(['account_id', 'region_id', 'resource_type', 'resource_id', 'key'])
      .execute();
  },
};
