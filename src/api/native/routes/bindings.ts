import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { BindingBody, ExtendExpiryBody, IdParams, RegionParams } from '../schemas.js';
import { taskItemView, taskView } from '../views.js';

export function bindingRoutes(app: NativeApp, { core, maxBatch }: NativeContext) {
  app.post(
    '/regions/:regionId/bindings',
    {
      schema: {
        params: RegionParams,
        body: BindingBody,
        tags: ['bindings'],
        summary:
          'Bind or unbind a key pair on many instances. on-restart (default): takes effect at the next start/restart; live: applied over SSH now and verified by login. Returns a task; wait=true waits for per-instance results.',
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const request = {
        regionId: req.params.regionId,
        kind: b.action,
        keyPairName: b.keyPairName,
        instanceIds: b.instanceIds,
        mode: b.mode ?? 'on-restart',
        credential: b.credential,
        options: { port: b.port, verify: b.verify, dryRun: b.dryRun },
        ...(b.expiresAt !== undefined ? { expiresAt: b.expiresAt } : {}),
        ...(b.expiresIn !== undefined ? { expiresIn: b.expiresIn } : {}),
        maxBatch,
      } as const;
      if (b.wait) {
        const { task, items } = await core.tasks.submitAndWait(caller, request);
        return reply.status(200).send({ task: taskView(task), items: items.map(taskItemView) });
      }
      const task = await core.tasks.submit(caller, request);
      return reply.status(202).send({ task: taskView(task) });
    },
  );

  app.post(
    '/instances/:id/expiry',
    {
      schema: {
        params: IdParams,
        body: ExtendExpiryBody,
        tags: ['bindings'],
        summary:
          "Extend (or shorten) the expiry of the instance's binding: its line is rewritten in the mode it was bound in (live now, or at the next start). To end it now, unbind. Returns a task; wait=true waits for its result.",
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const request = {
        instanceId: req.params.id,
        ...(b.expiresAt !== undefined ? { expiresAt: b.expiresAt } : {}),
        ...(b.expiresIn !== undefined ? { expiresIn: b.expiresIn } : {}),
        ...(b.credential ? { credential: b.credential } : {}),
      };
      if (b.wait) {
        const { task, items } = await core.tasks.extendExpiryAndWait(caller, request);
        return reply.status(200).send({ task: taskView(task), items: items.map(taskItemView) });
      }
      const task = await core.tasks.extendExpiry(caller, request);
      return reply.status(202).send({ task: taskView(task) });
    },
  );
}
