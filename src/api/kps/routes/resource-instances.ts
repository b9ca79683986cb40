/**
 * Key pairs filtered by tags, as Huawei's KPS reference documents it (ListResourceInstancesFilter and
 * ListResourceInstancesCount, `POST /v3/{project_id}/keypairs/resource-instances/filter|count`) in the
 * resource-instances shape Huawei's tag-managed services share: `tags` [{key, values}] (every key, any of its
 * values, no values for any value), `without_any_tag`, `matches` [{key: "resource_name", value}] (the name contains
 * the value), and a page by `limit`/`offset`. Also served under `resource_instances`, the spelling some of those
 * services use. The key pair is named by its name (`resource_id`, as the key pair tag routes name it); the rules
 * and bounds are the core's (core/tag/keypair-tag-filter.ts). docs/api/tags-and-resource-groups.md.
 */
import { type Static, Type } from 'typebox';
import { CoreError } from '../../../core/errors.js';
import { FILTER_PAGE, MAX_FILTER_OFFSET, type KeyPairTagQuery } from '../../../core/tag/keypair-tag-filter.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { BoundedInteger, ProjectParams } from '../schemas.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };

// Clients send limit and offset as numbers or as strings ("100"): type coercion takes both, and anything that is
// not a whole number in range is a 400.
const Limit = BoundedInteger({ minimum: 1, maximum: FILTER_PAGE.max });
const Offset = BoundedInteger({ minimum: 0, maximum: MAX_FILTER_OFFSET });

const TagFilter = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 128 }),
  values: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 10 })),
});
const NameMatch = Type.Object({
  key: Type.Literal('resource_name'),
  value: Type.String({ minLength: 1, maxLength: 255 }),
});
const FilterBody = Type.Object({
  tags: Type.Optional(Type.Array(TagFilter, { maxItems: 10 })),
  sys_tags: Type.Optional(Type.Array(TagFilter, { maxItems: 10 })),
  without_any_tag: Type.Optional(Type.Boolean()),
  // One field can be matched (the name), so one match at most.
  matches: Type.Optional(Type.Array(NameMatch, { maxItems: 1 })),
  // Huawei's KPS pages take limit and offset in the query; the older resource-instances "action" bodies carry them
  // in the body. Either is accepted.
  limit: Type.Optional(Limit),
  offset: Type.Optional(Offset),
});
const PageQuery = Type.Object({ limit: Type.Optional(Limit), offset: Type.Optional(Offset) });

type Body = Static<typeof FilterBody>;

/** The one value of a paging parameter given in the query, the body, or both alike. */
function pagingValue(name: 'limit' | 'offset', query: number | undefined, body: number | undefined) {
  if (query !== undefined && body !== undefined && query !== body)
    throw new CoreError('Input.Invalid', `The ${name} is given twice (query ${query}, body ${body}); give it once.`, {
      parameter: name,
    });
  return query ?? body;
}

function queryOf(regionId: string, body: Body): KeyPairTagQuery {
  // keyfleet has no system tags: a filter on one would silently select everything or nothing, so it is refused.
  if (body.sys_tags && body.sys_tags.length > 0)
    throw new CoreError('Input.Invalid', 'sys_tags are not supported: keyfleet has no system tags.', {
      parameter: 'sys_tags',
    });
  return {
    regionId,
    ...(body.tags ? { tags: body.tags } : {}),
    ...(body.without_any_tag !== undefined ? { withoutAnyTag: body.without_any_tag } : {}),
    ...(body.matches?.[0] ? { nameContains: body.matches[0].value } : {}),
  };
}

export function kpsResourceInstanceRoutes(app: KpsApp, { core }: KpsContext) {
  for (const segment of ['resource-instances', 'resource_instances']) {
    app.post(
      `/:project_id/keypairs/${segment}/filter`,
      { schema: { params: ProjectParams, querystring: PageQuery, body: FilterBody }, config: PROJECT },
      async (req) => {
        const limit = pagingValue('limit', req.query.limit, req.body.limit);
        const offset = pagingValue('offset', req.query.offset, req.body.offset);
        const page = await core.tags.filterKeyPairs(callerOf(req), {
          ...queryOf(projectOf(req).region.id, req.body),
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
        return {
          resources: page.items.map((kp) => ({
            resource_id: kp.name,
            resource_name: kp.name,
            // Reserved by Huawei for details; empty, as its services answer by default.
            resource_detail: {},
            tags: kp.tags.map((t) => ({ key: t.key, value: t.value })),
          })),
          total_count: page.total,
        };
      },
    );

    app.post(
      `/:project_id/keypairs/${segment}/count`,
      { schema: { params: ProjectParams, body: FilterBody }, config: PROJECT },
      async (req) => ({
        total_count: await core.tags.countKeyPairs(callerOf(req), queryOf(projectOf(req).region.id, req.body)),
      }),
    );
  }
}
