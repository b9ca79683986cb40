import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { imageKeyPairRefusal, instanceTypeKeyPairRefusal } from '../../../core/instance/instance.js';

export function catalogRoutes(app: NativeApp, { core }: NativeContext) {
  app.get('/regions', { schema: { tags: ['catalog'] } }, async (req) => ({
    regions: (await core.catalog.regions(callerOf(req))).map((r) => ({ id: r.id, localName: r.localName })),
  }));
  // keyPairRefusal: why instances of it cannot take a key pair (null: they can), by the rule binds are refused by.
  app.get('/images', { schema: { tags: ['catalog'] } }, async (req) => ({
    images: (await core.catalog.images(callerOf(req))).map((i) => ({ ...i, keyPairRefusal: imageKeyPairRefusal(i) })),
  }));
  app.get('/instance-types', { schema: { tags: ['catalog'] } }, async (req) => ({
    instanceTypes: (await core.catalog.instanceTypes(callerOf(req))).map((t) => ({
      ...t,
      keyPairRefusal: instanceTypeKeyPairRefusal(t),
    })),
  }));
  app.get('/resource-groups', { schema: { tags: ['catalog'] } }, async (req) => {
    const groups = await core.accounts.resourceGroups(callerOf(req));
    return { resourceGroups: groups.map((g) => ({ id: g.id, name: g.name })) };
  });
}
