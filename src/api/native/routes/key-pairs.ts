import { DEFAULT_KEY_TYPE } from '../../../common/key-types.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { tagFilterOf } from '../tag-filter.js';
import { KeyPairCreateBody, KeyPairListQuery, KeyPairParams, KeyPairPatchBody, RegionParams } from '../schemas.js';
import { keyPairView } from '../views.js';
import { escrowNeedsPrivateKey, privateKeyNeedsPublicKey } from './key-pair-escrow.js';

export function keyPairRoutes(app: NativeApp, { core }: NativeContext) {
  app.get(
    '/regions/:regionId/key-pairs',
    {
      schema: {
        params: RegionParams,
        querystring: KeyPairListQuery,
        tags: ['key pairs'],
        summary: 'List key pairs; name accepts * wildcards.',
      },
    },
    async (req) => {
      const q = req.query;
      const page = await core.keyPairs.list(callerOf(req), {
        regionId: req.params.regionId,
        namePattern: q.name,
        fingerprint: q.fingerprint,
        resourceGroupId: q.resourceGroupId,
        tags: tagFilterOf(q.tag),
        offset: q.offset,
        limit: q.limit,
      });
      return { keyPairs: page.items.map(keyPairView), total: page.total };
    },
  );

  app.post(
    '/regions/:regionId/key-pairs',
    {
      schema: {
        params: RegionParams,
        body: KeyPairCreateBody,
        tags: ['key pairs'],
        summary:
          'Create a key pair (the private key is in this response only; `escrow: true` keeps it sealed) or import a public key (with `privateKey` to escrow it).',
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const base = {
        regionId: req.params.regionId,
        name: b.name,
        resourceGroupId: b.resourceGroupId,
        tags: b.tags,
        description: b.description,
      };
      if (b.publicKey !== undefined) {
        if (b.escrow === true && b.privateKey === undefined) throw escrowNeedsPrivateKey();
        const kp = await core.keyPairs.import(caller, { ...base, publicKey: b.publicKey, privateKey: b.privateKey });
        return reply.status(201).send({ keyPair: keyPairView(kp) });
      }
      if (b.privateKey !== undefined) throw privateKeyNeedsPublicKey();
      const { keyPair, privateKey } = await core.keyPairs.create(caller, {
        ...base,
        type: b.type ?? DEFAULT_KEY_TYPE,
        escrow: b.escrow,
      });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ keyPair: keyPairView(keyPair), privateKey });
    },
  );

  app.get(
    '/regions/:regionId/key-pairs/:name',
    { schema: { params: KeyPairParams, tags: ['key pairs'] } },
    async (req) => {
      const caller = callerOf(req);
      const kp = await core.keyPairs.get(caller, req.params.regionId, req.params.name);
      const usage = await core.keyPairs.usage(caller, kp, 100);
      return { keyPair: keyPairView(kp), boundInstances: usage.instanceIds, boundCount: usage.total };
    },
  );

  app.patch(
    '/regions/:regionId/key-pairs/:name',
    { schema: { params: KeyPairParams, body: KeyPairPatchBody, tags: ['key pairs'] } },
    async (req) => {
      const kp = await core.keyPairs.updateDescription(
        callerOf(req),
        req.params.regionId,
        req.params.name,
        req.body.description,
      );
      return { keyPair: keyPairView(kp) };
    },
  );

  app.delete(
    '/regions/:regionId/key-pairs/:name',
    {
      schema: { params: KeyPairParams, tags: ['key pairs'], summary: 'Delete a key pair; refused while it is bound.' },
    },
    async (req, reply) => {
      await core.keyPairs.delete(callerOf(req), req.params.regionId, [req.params.name]);
      return reply.status(204).send();
    },
  );
}
