/** Key pair management (API.md §3, §5 BatchImportKeypair): create/import, batch import, list, show, update, delete. */
import { Value } from 'typebox/value';
import { isCoreError } from '../../../core/errors.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { createOrImportKeyPair } from '../keypair-create.js';
import { keyPairsAfter } from '../paging.js';
import {
  BatchImportBody,
  CreateKeypairAction,
  CreateKeypairBody,
  KeyPairParams,
  ListKeypairsQuery,
  ProjectParams,
  UpdateDescriptionBody,
} from '../schemas.js';
import { createdKeyPairView, keyPairDetailView, listedKeyPairView } from '../views.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };
/** The 2026 reference gives ListKeypairs a default page of 1000 (API.md §3.2). */
const DEFAULT_LIST_LIMIT = 1000;

export function keyPairRoutes(app: KpsApp, { core }: KpsContext) {
  app.post(
    '/:project_id/keypairs',
    { schema: { params: ProjectParams, body: CreateKeypairBody }, config: PROJECT },
    async (req, reply) => {
      const caller = callerOf(req);
      const { keyPair, privateKey } = await createOrImportKeyPair(
        core,
        caller,
        projectOf(req).region.id,
        req.body.keypair,
      );
      if (privateKey !== undefined) reply.header('cache-control', 'no-store');
      return { keypair: createdKeyPairView(keyPair, caller.userId, privateKey) };
    },
  );

  // Each entry is checked and imported on its own: one bad entry fails alone (capture 29).
  app.post(
    '/:project_id/keypairs/batch-import',
    { schema: { params: ProjectParams, body: BatchImportBody }, config: PROJECT },
    async (req) => {
      const caller = callerOf(req);
      const regionId = projectOf(req).region.id;
      const failed: Array<{ keypair_name: string; failed_reason: string }> = [];
      const succeeded: Array<{ keypair: ReturnType<typeof createdKeyPairView> }> = [];
      for (const entry of req.body) {
        const action = entry.keypair as unknown;
        const name = entry.keypair.name;
        if (!Value.Check(CreateKeypairAction, action)) {
          const first = Value.Errors(CreateKeypairAction, action)[0];
          failed.push({
            keypair_name: name,
            failed_reason: `Invalid key pair ${first ? `${first.instancePath || 'entry'}: ${first.message}` : 'entry'}.`,
          });
          continue;
        }
        if (action.public_key === undefined) {
          failed.push({
            keypair_name: name,
            failed_reason: 'public_key is required: batch-import imports existing public keys.',
          });
          continue;
        }
        try {
          const { keyPair } = await createOrImportKeyPair(core, caller, regionId, action);
          succeeded.push({ keypair: createdKeyPairView(keyPair, caller.userId) });
        } catch (err) {
          if (!isCoreError(err)) throw err;
          failed.push({ keypair_name: name, failed_reason: err.message });
        }
      }
      return { failed_keypairs: failed, succeeded_keypairs: succeeded };
    },
  );

  app.get(
    '/:project_id/keypairs',
    { schema: { params: ProjectParams, querystring: ListKeypairsQuery }, config: PROJECT },
    async (req) => {
      const { marker, limit } = req.query;
      const page = await keyPairsAfter(
        core,
        callerOf(req),
        projectOf(req).region.id,
        marker,
        limit ?? DEFAULT_LIST_LIMIT,
      );
      return {
        keypairs: page.items.map(listedKeyPairView),
        page_info: {
          next_marker: page.more ? page.items.at(-1)!.name : null,
          previous_marker: marker ?? null,
          current_count: page.items.length,
        },
      };
    },
  );

  app.get(
    '/:project_id/keypairs/:keypair_name',
    { schema: { params: KeyPairParams }, config: PROJECT },
    async (req) => {
      const caller = callerOf(req);
      const kp = await core.keyPairs.get(caller, projectOf(req).region.id, req.params.keypair_name);
      return { keypair: keyPairDetailView(kp, caller.userId) };
    },
  );

  app.put(
    '/:project_id/keypairs/:keypair_name',
    { schema: { params: KeyPairParams, body: UpdateDescriptionBody }, config: PROJECT },
    async (req, reply) => {
      await core.keyPairs.updateDescription(
        callerOf(req),
        projectOf(req).region.id,
        req.params.keypair_name,
        req.body.keypair.description,
      );
      return reply.status(200).send();
    },
  );

  app.delete(
    '/:project_id/keypairs/:keypair_name',
    { schema: { params: KeyPairParams }, config: PROJECT },
    async (req, reply) => {
      await core.keyPairs.delete(callerOf(req), projectOf(req).region.id, [req.params.keypair_name]);
      return reply.status(204).send();
    },
  );
}
