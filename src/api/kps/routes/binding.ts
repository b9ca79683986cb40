/**
 * AssociateKeypair, BatchAssociateKeypair, DisassociateKeypair (API.md §4.1–§4.3): each server becomes one core
 * task whose id is the KPS task_id; progress and failures are read through the task calls (routes/tasks.ts).
 * Answers are 202, as the current English reference documents for all three (API.md §2; the SDK accepts any 2xx).
 */
import { CoreError, isCoreError } from '../../../core/errors.js';
import { associateRequest, disassociateRequest } from '../binding-request.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { AssociateBody, BatchAssociateBody, DisassociateBody, ProjectParams } from '../schemas.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };

export function bindingRoutes(app: KpsApp, { core }: KpsContext) {
  app.post(
    '/:project_id/keypairs/associate',
    { schema: { params: ProjectParams, body: AssociateBody }, config: PROJECT },
    async (req, reply) => {
      const task = await core.tasks.submit(callerOf(req), associateRequest(projectOf(req).region.id, req.body));
      return reply.status(202).send({ task_id: task.id });
    },
  );

  // At most 10 servers, one key pair, every server Running and without a key pair (API.md §4.2). A server that
  // breaks the last two rules fails alone, before any task is made for it; the others get a task each.
  app.post(
    '/:project_id/keypairs/batch-associate',
    { schema: { params: ProjectParams, body: BatchAssociateBody }, config: PROJECT },
    async (req, reply) => {
      const caller = callerOf(req);
      const regionId = projectOf(req).region.id;
      const entries = req.body.batch_keypairs;
      const names = new Set(entries.map((e) => e.keypair_name));
      if (names.size > 1) {
        throw new CoreError(
          'Input.Invalid',
          `Every entry of a batch must use the same key pair; got ${[...names].slice(0, 3).join(', ')}.`,
          { parameter: 'batch_keypairs' },
        );
      }
      const ids = entries.map((e) => e.server.id);
      const dup = ids.find((id, n) => ids.indexOf(id) !== n);
      if (dup)
        throw new CoreError('Batch.DuplicateIds', `The server '${dup}' is given more than once.`, {
          parameter: 'batch_keypairs',
          instanceId: dup,
        });

      const tasks = [];
      for (const entry of entries) {
        const serverId = entry.server.id;
        try {
          const task = await core.tasks.submit(caller, {
            ...associateRequest(regionId, entry),
            require: { running: true, unbound: true },
          });
          tasks.push({ server_id: serverId, task_id: task.id, status: 'SUCCESS' });
        } catch (err) {
          // The one key pair of the batch does not exist: the whole call fails, as it did before any server.
          if (!isCoreError(err) || err.code === 'KeyPair.NotFound') throw err;
          tasks.push({ server_id: serverId, status: 'FAILED', error_code: err.code, error_msg: err.message });
        }
      }
      return reply.status(202).send({ tasks });
    },
  );

  // An unknown server is not refused here: its task fails with Instance.NotFound, like any other per-server failure.
  // The core records the key pair the server has now on the task (so the task lists can name it).
  app.post(
    '/:project_id/keypairs/disassociate',
    { schema: { params: ProjectParams, body: DisassociateBody }, config: PROJECT },
    async (req, reply) => {
      const task = await core.tasks.submit(callerOf(req), disassociateRequest(projectOf(req).region.id, req.body));
      return reply.status(202).send({ task_id: task.id });
    },
  );
}
