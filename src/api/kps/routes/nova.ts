/**
 * The Nova-compatible key pair calls of Huawei's ECS SDK (API.md §9): `/v2.1/{project_id}/os-keypairs` create
 * (generate or import), list (limit/marker), show, delete. They are the same key pairs as KPS's and the other
 * faces'. Errors keep the flat `{error_code, error_msg}` body, which the SDK understands (Nova's `{"itemNotFound":…}`
 * it does not, SDK-TRAFFIC.md §5), with OpenStack's statuses (404 unknown, 409 name taken or in use).
 */
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { createOrImportKeyPair } from '../keypair-create.js';
import { keyPairsAfter } from '../paging.js';
import { KeyPairParams, NovaCreateBody, NovaListQuery, ProjectParams } from '../schemas.js';
import { novaCreatedView, novaDetailView, novaListedView } from '../views.js';

const NOVA: KpsRouteConfig = { kpsAuth: 'project', novaStatuses: true };
const DEFAULT_LIST_LIMIT = 1000;

export function novaRoutes(app: KpsApp, { core }: KpsContext) {
  // Nova answers 200 here (capture 01); the private key is in this answer only.
  app.post(
    '/:project_id/os-keypairs',
    { schema: { params: ProjectParams, body: NovaCreateBody }, config: NOVA },
    async (req, reply) => {
      const caller = callerOf(req);
      const { name, public_key, type } = req.body.keypair;
      const { keyPair, privateKey } = await createOrImportKeyPair(core, caller, projectOf(req).region.id, {
        name,
        public_key,
        type,
      });
      if (privateKey !== undefined) reply.header('cache-control', 'no-store');
      return novaCreatedView(keyPair, caller.userId, privateKey);
    },
  );

  app.get(
    '/:project_id/os-keypairs',
    { schema: { params: ProjectParams, querystring: NovaListQuery }, config: NOVA },
    async (req) => {
      const page = await keyPairsAfter(
        core,
        callerOf(req),
        projectOf(req).region.id,
        req.query.marker,
        req.query.limit ?? DEFAULT_LIST_LIMIT,
      );
      return { keypairs: page.items.map(novaListedView) };
    },
  );

  app.get(
    '/:project_id/os-keypairs/:keypair_name',
    { schema: { params: KeyPairParams }, config: NOVA },
    async (req) => {
      const caller = callerOf(req);
      return novaDetailView(
        await core.keyPairs.get(caller, projectOf(req).region.id, req.params.keypair_name),
        caller.userId,
      );
    },
  );

  app.delete(
    '/:project_id/os-keypairs/:keypair_name',
    { schema: { params: KeyPairParams }, config: NOVA },
    async (req, reply) => {
      await core.keyPairs.delete(callerOf(req), projectOf(req).region.id, [req.params.keypair_name]);
      return reply.status(204).send();
    },
  );
}
