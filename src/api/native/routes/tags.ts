/**
 * Tags of key pairs and instances (issue 20): add, remove, list. A key pair is named by its name, an instance by
 * its id, in the region of the path; the bounds are the core's (20 tags per resource, 50 resources per call).
 */
import { Type } from 'typebox';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { RegionParams, TagSchema } from '../schemas.js';
import { TagFilterQuery, tagFilterOf } from '../tag-filter.js';

const ResourceType = Type.Union([Type.Literal('keypair'), Type.Literal('instance')]);
const ResourceIds = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 50 });

const TagBody = Type.Object(
  { resourceType: ResourceType, resourceIds: ResourceIds, tags: Type.Array(TagSchema, { minItems: 1, maxItems: 20 }) },
  { additionalProperties: false },
);
const UntagBody = Type.Object(
  {
    resourceType: ResourceType,
    resourceIds: ResourceIds,
    keys: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 20 })),
    all: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({
  resourceType: ResourceType,
  resourceId: Type.Optional(
    Type.Union([
      Type.String({ minLength: 1, maxLength: 255 }),
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50 }),
    ]),
  ),
  tag: TagFilterQuery,
  nextToken: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
});

export function tagRoutes(app: NativeApp, { core }: NativeContext) {
  app.post(
    '/regions/:regionId/tags',
    { schema: { params: RegionParams, body: TagBody, tags: ['tags'], summary: 'Add tags to key pairs or instances.' } },
    async (req, reply) => {
      await core.tags.tag(callerOf(req), { regionId: req.params.regionId, ...req.body });
      return reply.status(204).send();
    },
  );

  app.post(
    '/regions/:regionId/tags/remove',
    {
      schema: {
        params: RegionParams,
        body: UntagBody,
        tags: ['tags'],
        summary: 'Remove tag keys (or all tags) from key pairs or instances.',
      },
    },
    async (req, reply) => {
      await core.tags.untag(callerOf(req), { regionId: req.params.regionId, ...req.body });
      return reply.status(204).send();
    },
  );

  app.get(
    '/regions/:regionId/tags',
    {
      schema: {
        params: RegionParams,
        querystring: ListQuery,
        tags: ['tags'],
        summary: 'List the tags of key pairs or instances, resource by resource; nextToken continues.',
      },
    },
    async (req) => {
      const q = req.query;
      const ids = q.resourceId === undefined ? undefined : Array.isArray(q.resourceId) ? q.resourceId : [q.resourceId];
      const page = await core.tags.list(callerOf(req), {
        regionId: req.params.regionId,
        resourceType: q.resourceType,
        ...(ids ? { resourceIds: ids } : {}),
        tags: tagFilterOf(q.tag),
        ...(q.nextToken ? { nextToken: q.nextToken } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { tags: page.items, nextToken: page.nextToken };
    },
  );
}
