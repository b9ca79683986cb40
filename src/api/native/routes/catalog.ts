import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';

export function catalogRoutes(app: NativeApp, { core }: NativeContext) {
  app.get('/regions', { schema: { tags: ['catalog'] } }, async (req) => ({
    regions: (await core.catalog.regions(callerOf(req))).map((r) => ({ id: r.id, localName: r.localName })),
  }));
  app.get('/images', { schema: { tags: ['catalog'] } }, async (req) => ({
    images: await core.catalog.images(callerOf(req)),
  }));
  app.get('/instance-types', { schema: { tags: ['catalog'] } }, async (req) => ({
    instanceTypes: await core.catalog.instanceTypes(callerOf(req)),
  }));
  app.get('/resource-groups', { schema: { tags: ['catalog'] } }, async (req) => {
    const groups = await core.accounts.resourceGroups(callerOf(req));
    return { resourceGroups: groups.map((g) => ({ id: g.id, name: g.name })) };
  });
}
