/**
 * Private-key escrow in the native API: keep a key pair's private key sealed (PUT), read it back (POST …/export,
 * under its own permission keypair:ExportPrivateKey, so a policy may allow reading key pairs without it), stop
 * keeping it (DELETE). Opting in at create or import is part of POST /key-pairs (key-pairs.ts). Answers that carry
 * a private key are marked `Cache-Control: no-store`. The export is a POST: it is audited like a change, and a
 * GET would be cached, prefetched or logged with its answer by proxies more readily.
 */
import { CoreError } from '../../../core/errors.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { EscrowPutBody, KeyPairParams } from '../schemas.js';
import { keyPairView } from '../views.js';

export const escrowNeedsPrivateKey = () =>
  new CoreError(
    'Input.Missing',
    'To escrow an imported key pair, give its private key (privateKey); keyfleet never sees it otherwise.',
    { parameter: 'privateKey' },
  );
export const privateKeyNeedsPublicKey = () =>
  new CoreError(
    'Input.Invalid',
    'privateKey is given with publicKey (an import); a created key pair is escrowed with escrow: true.',
    {
      parameter: 'privateKey',
    },
  );

export function keyPairEscrowRoutes(app: NativeApp, { core }: NativeContext) {
  app.put(
    '/regions/:regionId/key-pairs/:name/escrow',
    {
      schema: {
        params: KeyPairParams,
        body: EscrowPutBody,
        tags: ['key pairs'],
        summary:
          "Escrow the key pair's private key (sealed at rest); refused unless it matches the public key. Replaces a key kept before.",
      },
    },
    async (req) => {
      const { regionId, name } = req.params;
      const kp = await core.keyPairs.importPrivateKey(callerOf(req), regionId, name, req.body.privateKey);
      return { keyPair: keyPairView(kp) };
    },
  );

  app.post(
    '/regions/:regionId/key-pairs/:name/escrow/export',
    {
      schema: {
        params: KeyPairParams,
        tags: ['key pairs'],
        summary: 'Read the escrowed private key (permission keypair:ExportPrivateKey; audited). 404 when none is kept.',
      },
    },
    async (req, reply) => {
      const { regionId, name } = req.params;
      const privateKey = await core.keyPairs.exportPrivateKey(callerOf(req), regionId, name);
      reply.header('cache-control', 'no-store');
      return { name, privateKey };
    },
  );

  app.delete(
    '/regions/:regionId/key-pairs/:name/escrow',
    {
      schema: {
        params: KeyPairParams,
        tags: ['key pairs'],
        summary: 'Stop keeping the private key: the sealed copy is deleted. Live changes then need a credential again.',
      },
    },
    async (req, reply) => {
      await core.keyPairs.clearPrivateKey(callerOf(req), req.params.regionId, req.params.name);
      return reply.status(204).send();
    },
  );
}
