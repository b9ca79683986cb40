/**
 * Resource groups (issue 20): create, rename, delete (only when empty: 409 ResourceGroup.NotEmpty), and move a key
 * pair or an instance into one. The list is GET /resource-groups (catalog.ts, what the console's selector reads).
 */
import { Type } from 'typebox';
import type { ResourceGroupView } from '../../../core/account/resource-groups.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { IdParams } from '../schemas.js';

const NameBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: false });
const JoinBody = Type.Object(
  {
    regionId: Type.String({ minLength: 1, maxLength: 64 }),
    resourceType: Type.Union([Type.Literal('keypair'), Type.Literal('instance')]),
    resourceId: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);

export const resourceGroupView = (g: ResourceGroupView) => ({
  id: g.id,
  name: g.name,
  isDefault: g.isDefault,
  createdAt: g.createdAt.toISOString(),
});

export function resourceGroupRoutes(app: NativeApp, { core }: NativeContext) {
  app.post(
    '/resource-groups',
    { schema: { body: NameBody, tags: ['resource groups'], summary: 'Create a resource group.' } },
    async (req, reply) =>
      reply.status(201).send(resourceGroupView(await core.resourceGroups.create(callerOf(req), req.body))),
  );

  app.get(
    '/resource-groups/:id',
    { schema: { params: IdParams, tags: ['resource groups'], summary: 'A resource group with its member counts.' } },
    async (req) => {
      const g = await core.resourceGroups.get(callerOf(req), req.params.id);
      return { ...resourceGroupView(g), keyPairs: g.keyPairs, instances: g.instances };
    },
  );

  app.patch(
    '/resource-groups/:id',
    { schema: { params: IdParams, body: NameBody, tags: ['resource groups'], summary: 'Rename a resource group.' } },
    async (req) => resourceGroupView(await core.resourceGroups.rename(callerOf(req), req.params.id, req.body)),
  );

  app.delete(
    '/resource-groups/:id',
    {
      schema: {
        params: IdParams,
        tags: ['resource groups'],
        summary: 'Delete an empty resource group (not the default).',
      },
    },
    async (req, reply) => {
      await core.resourceGroups.delete(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/resource-groups/:id/members',
    {
      schema: {
        params: IdParams,
        body: JoinBody,
        tags: ['resource groups'],
        summary: 'Move a key pair (by name) or an instance (by id) into the group.',
      },
    },
    async (req) => {
      const moved = await core.resourceGroups.join(callerOf(req), { ...req.body, resourceGroupId: req.params.id });
      return { resourceType: req.body.resourceType, resourceId: req.body.resourceId, ...moved };
    },
  );
}
