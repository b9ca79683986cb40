import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';

export function catalogRoutes(app: NativeApp, { core }: NativeContext) {
  app.get('/regions', { schema: { tags: ['catalog'] } }, async () => ({ regions: core.regions.map((r) => ({ id: r.id, localName: r.localName })) }));
  app.get('/images', { schema: { tags: ['catalog'] } }, async () => ({ images: core.images() }));
  app.get('/instance-types', { schema: { tags: ['catalog'] } }, async () => ({ instanceTypes: core.instanceTypes() }));
  app.get('/resource-groups', { schema: { tags: ['catalog'] } }, async (req) => {
    const groups = await core.accounts.resourceGroups(callerOf(req));
    return { resourceGroups: groups.map((g) => ({ id: g.id, name: g.name })) };
  });
}
