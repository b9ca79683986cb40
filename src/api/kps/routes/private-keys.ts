/**
 * Private-key escrow ("hosting", API.md §5): import, export, batch export (a zip), clear. The core seals escrowed
 * keys with the configured key-encryption key (envelope encryption) and opens them only to answer an export;
 * answers that carry a private key are marked `Cache-Control: no-store`.
 */
import { CoreError } from '../../../core/errors.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { BatchExportBody, ImportPrivateKeyBody, KeyPairParams, KeypairNameBody, ProjectParams } from '../schemas.js';
import { zipPrivateKeys } from '../zip.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };
/** ClearPrivateKey documents 404 for an unknown key pair (API.md §2, op 16). */
const CLEAR: KpsRouteConfig = {
  kpsAuth: 'project',
  kpsErrors: { 'KeyPair.NotFound': { status: 404, code: 'KPS.6004' } },
};

export function privateKeyRoutes(app: KpsApp, { core }: KpsContext) {
  app.post(
    '/:project_id/keypairs/private-key/export',
    { schema: { params: ProjectParams, body: KeypairNameBody }, config: PROJECT },
    async (req, reply) => {
      const name = req.body.keypair.name;
      const privateKey = await core.keyPairs.exportPrivateKey(callerOf(req), projectOf(req).region.id, name);
      reply.header('cache-control', 'no-store');
      return { keypair: { name, private_key: privateKey } };
    },
  );

  app.post(
    '/:project_id/keypairs/private-key/import',
    { schema: { params: ProjectParams, body: ImportPrivateKeyBody }, config: PROJECT },
    async (req) => {
      const { name, key_protection } = req.body.keypair;
      await core.keyPairs.importPrivateKey(callerOf(req), projectOf(req).region.id, name, key_protection.private_key);
      return { keypair: { name } };
    },
  );

  // All or nothing: an archive missing a requested key would be easy to overlook.
  app.post(
    '/:project_id/keypairs/private-key/batch-export',
    { schema: { params: ProjectParams, body: BatchExportBody }, config: PROJECT },
    async (req, reply) => {
      const caller = callerOf(req);
      const regionId = projectOf(req).region.id;
      const names = req.body.map((e) => e.keypair.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup)
        throw new CoreError('Input.Invalid', `The key pair '${dup}' is given more than once.`, {
          parameter: 'keypair.name',
        });
      const keys = [];
      for (const name of names)
        keys.push({ name, privateKey: await core.keyPairs.exportPrivateKey(caller, regionId, name) });
      return reply
        .status(200)
        .header('content-type', 'application/zip')
        .header('content-disposition', 'attachment; filename="keypairs.zip"')
        .header('cache-control', 'no-store')
        .send(zipPrivateKeys(keys));
    },
  );

  app.delete(
    '/:project_id/keypairs/:keypair_name/private-key',
    { schema: { params: KeyPairParams }, config: CLEAR },
    async (req, reply) => {
      await core.keyPairs.clearPrivateKey(callerOf(req), projectOf(req).region.id, req.params.keypair_name);
      return reply.status(200).send();
    },
  );
}
