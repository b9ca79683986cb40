import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { tagFilterOf } from '../tag-filter.js';
import {
  DeleteInstanceQuery,
  IdParams,
  InstanceListQuery,
  RegionParams,
  RegisterHostBody,
  ResetPasswordBody,
  RunInstancesBody,
  UpdateHostBody,
} from '../schemas.js';
import { keyPairRefusal } from '../../../core/instance/instance.js';
import type { Instance } from '../../../core/instance/instance.js';
import { instanceView } from '../views.js';

export function instanceRoutes(app: NativeApp, { core }: NativeContext) {
  const view = (i: Instance) => instanceView(i, keyPairRefusal(i, core.instanceTypes())?.message ?? null);

  app.get(
    '/regions/:regionId/instances',
    {
      schema: {
        params: RegionParams,
        querystring: InstanceListQuery,
        tags: ['instances'],
        summary: 'List instances with server-side search and paging.',
      },
    },
    async (req) => {
      const q = req.query;
      const page = await core.instances.list(callerOf(req), {
        regionId: req.params.regionId,
        status: q.status as never,
        search: q.search,
        namePattern: q.name,
        keyPairName: q.keyPairName,
        resourceGroupId: q.resourceGroupId,
        tags: tagFilterOf(q.tag),
        pendingRestart: q.pendingRestart,
        ...(q.expiringWithin ? { expiringBefore: new Date(Date.now() + q.expiringWithin * 1000) } : {}),
        offset: q.offset,
        limit: q.limit,
      });
      return { instances: page.items.map(view), total: page.total };
    },
  );

  app.post(
    '/regions/:regionId/instances',
    {
      schema: {
        params: RegionParams,
        body: RunInstancesBody,
        tags: ['instances'],
        summary: 'Create and (by default) start instances of the simulated fleet.',
      },
    },
    async (req, reply) => {
      const ids = await core.instances.run(callerOf(req), { regionId: req.params.regionId, ...req.body });
      return reply.status(201).send({ instanceIds: ids });
    },
  );

  app.post(
    '/regions/:regionId/hosts',
    {
      schema: {
        params: RegionParams,
        body: RegisterHostBody,
        tags: ['instances'],
        summary:
          'Register an existing host as an instance; without hostKeySha256 the host key seen now is pinned (trust on first use).',
      },
    },
    async (req, reply) => {
      const out = await core.hosts.register(callerOf(req), { regionId: req.params.regionId, ...req.body });
      return reply.status(201).send({
        instance: view(out.instance),
        hostKeySha256: out.hostKeySha256,
        pinnedOnFirstUse: out.pinnedOnFirstUse,
      });
    },
  );

  app.patch(
    '/instances/:id/host',
    {
      schema: {
        params: IdParams,
        body: UpdateHostBody,
        tags: ['instances'],
        summary:
          'Change how keyfleet reaches a registered host: re-pin its host key after a deliberate change (hostKeySha256 checked against the host, or repinHostKey: pin what it presents now), replace or forget the management key, or change its settings.',
      },
    },
    async (req) => {
      const out = await core.hosts.update(callerOf(req), req.params.id, req.body);
      return {
        instance: view(out.instance),
        hostKeySha256: out.hostKeySha256,
        previousHostKeySha256: out.previousHostKeySha256,
        pinnedOnFirstUse: out.pinnedOnFirstUse,
      };
    },
  );

  app.get('/instances/:id', { schema: { params: IdParams, tags: ['instances'] } }, async (req) => ({
    instance: view(await core.instances.get(callerOf(req), req.params.id)),
  }));

  for (const [path, op] of [
    ['start', 'start'],
    ['stop', 'stop'],
    ['restart', 'reboot'],
  ] as const) {
    app.post(`/instances/:id/${path}`, { schema: { params: IdParams, tags: ['instances'] } }, async (req, reply) => {
      const inst = await core.instances[op](callerOf(req), req.params.id);
      return reply.status(202).send({ instance: view(inst) });
    });
  }

  app.post(
    '/instances/:id/reset-password',
    {
      schema: {
        params: IdParams,
        body: ResetPasswordBody,
        tags: ['instances'],
        summary: 'Set a new root password; it takes effect at the next start or restart.',
      },
    },
    async (req) => {
      const inst = await core.instances.resetPassword(callerOf(req), req.params.id, req.body.password);
      return { instance: view(inst) };
    },
  );

  app.get(
    '/instances/:id/history',
    {
      schema: {
        params: IdParams,
        tags: ['instances'],
        summary: 'Key pair changes applied to this instance, oldest first.',
      },
    },
    async (req) => {
      const events = await core.instances.history(callerOf(req), req.params.id);
      return {
        events: events.map((e) => ({
          taskId: e.taskId,
          action: e.action,
          keyPairName: e.keyPairName,
          mode: e.mode,
          at: e.at.toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/instances/:id',
    { schema: { params: IdParams, querystring: DeleteInstanceQuery, tags: ['instances'] } },
    async (req, reply) => {
      await core.instances.delete(callerOf(req), req.params.id, { force: req.query.force });
      return reply.status(204).send();
    },
  );
}
