/**
 * Key pair tags as Huawei's KPS documents them (docs/api/tags-and-resource-groups.md, "Huawei KPS"): add one,
 * add or delete in batches, list a key pair's tags, delete one, and list the project's tag keys with their values.
 * The key pair is named by its name (`resource_id`). keyfleet keeps one rule for tags in every face, Alibaba's
 * (values up to 128 characters where Huawei allows 255), so a tag is valid wherever it is read.
 */
import { Type } from 'typebox';
import { TAG_PAGE_SIZE } from '../../../core/tag/tag-service.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { ProjectParams } from '../schemas.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };
const ResourceParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64 }),
  // Huawei's `resource_id`; named as the key pair routes name the same path segment (one router parameter).
  keypair_name: Type.String({ minLength: 1, maxLength: 255 }),
});
const KeyParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64 }),
  // Huawei's `resource_id`; named as the key pair routes name the same path segment (one router parameter).
  keypair_name: Type.String({ minLength: 1, maxLength: 255 }),
  key: Type.String({ minLength: 1, maxLength: 128 }),
});
const TagItem = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 128 }),
  value: Type.Optional(Type.String({ maxLength: 255 })),
});
const OneTagBody = Type.Object({ tag: TagItem });
const BatchBody = Type.Object({
  tags: Type.Array(TagItem, { minItems: 1, maxItems: 20 }),
  sys_tags: Type.Optional(Type.Array(TagItem, { maxItems: 20 })),
});

/** The project's tag rows read per request: enough for 20 tags on every key pair of a full quota, and bounded. */
const MAX_PROJECT_ROWS = 20_000;

export function kpsTagRoutes(app: KpsApp, { core }: KpsContext) {
  const tag = (req: Parameters<typeof callerOf>[0], name: string, tags: Array<{ key: string; value?: string }>) =>
    core.tags.tag(callerOf(req), {
      regionId: projectOf(req).region.id,
      resourceType: 'keypair',
      resourceIds: [name],
      tags: tags.map((t) => ({ key: t.key, value: t.value ?? '' })),
    });
  const untag = (req: Parameters<typeof callerOf>[0], name: string, keys: string[]) =>
    core.tags.untag(callerOf(req), {
      regionId: projectOf(req).region.id,
      resourceType: 'keypair',
      resourceIds: [name],
      keys,
    });

  app.get('/:project_id/keypairs/tags', { schema: { params: ProjectParams }, config: PROJECT }, async (req) => {
    const byKey = new Map<string, Set<string>>();
    let nextToken: string | undefined;
    for (let read = 0; read < MAX_PROJECT_ROWS; read += TAG_PAGE_SIZE) {
      const page = await core.tags.list(callerOf(req), {
        regionId: projectOf(req).region.id,
        resourceType: 'keypair',
        ...(nextToken ? { nextToken } : {}),
      });
      for (const r of page.items) byKey.set(r.key, (byKey.get(r.key) ?? new Set()).add(r.value));
      if (!page.nextToken) break;
      nextToken = page.nextToken;
    }
    return {
      tags: [...byKey.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, values]) => ({ key, values: [...values].sort() })),
    };
  });

  app.get(
    '/:project_id/keypairs/:keypair_name/tags',
    { schema: { params: ResourceParams }, config: PROJECT },
    async (req) => {
      // strict: an unknown key pair is KPS.6004 as the key pair calls answer it, not an empty list.
      const page = await core.tags.list(callerOf(req), {
        regionId: projectOf(req).region.id,
        resourceType: 'keypair',
        resourceIds: [req.params.keypair_name],
        strict: true,
      });
      return { tags: page.items.map((t) => ({ key: t.key, value: t.value })), sys_tags: [] };
    },
  );

  app.post(
    '/:project_id/keypairs/:keypair_name/tags',
    { schema: { params: ResourceParams, body: OneTagBody }, config: PROJECT },
    async (req, reply) => {
      await tag(req, req.params.keypair_name, [req.body.tag]);
      return reply.status(204).send();
    },
  );

  app.post(
    '/:project_id/keypairs/:keypair_name/tags/create',
    { schema: { params: ResourceParams, body: BatchBody }, config: PROJECT },
    async (req, reply) => {
      await tag(req, req.params.keypair_name, req.body.tags);
      return reply.status(204).send();
    },
  );

  app.post(
    '/:project_id/keypairs/:keypair_name/tags/delete',
    { schema: { params: ResourceParams, body: BatchBody }, config: PROJECT },
    async (req, reply) => {
      await untag(
        req,
        req.params.keypair_name,
        req.body.tags.map((t) => t.key),
      );
      return reply.status(204).send();
    },
  );

  app.delete(
    '/:project_id/keypairs/:keypair_name/tags/:key',
    { schema: { params: KeyParams }, config: PROJECT },
    async (req, reply) => {
      await untag(req, req.params.keypair_name, [req.params.key]);
      return reply.status(204).send();
    },
  );
}
