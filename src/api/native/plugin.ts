/**
 * The native API (`/api/v1`): JSON, validated by schema, documented at /api/v1/openapi.json, authenticated by a
 * bearer token from POST /api/v1/sessions (user password or access key). The console and the CLI use it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { CoreError } from '../../core/errors.js';
import { type NativeContext, setCaller } from './context.js';
import { sendNativeError } from './errors.js';
import { auditRoutes } from './routes/audit.js';
import { bindingRoutes } from './routes/bindings.js';
import { identityRoutes } from './routes/identity.js';
import { catalogRoutes } from './routes/catalog.js';
import { driftRoutes } from './routes/drift.js';
import { groupRoutes } from './routes/groups.js';
import { hostImportRoutes } from './routes/host-imports.js';
import { instanceRoutes } from './routes/instances.js';
import { keyPairRoutes } from './routes/key-pairs.js';
import { keyPairEscrowRoutes } from './routes/key-pair-escrow.js';
import { sessionRoutes } from './routes/sessions.js';
import { taskRoutes } from './routes/tasks.js';
import { revocationRoutes } from './routes/revocations.js';
import { webhookRoutes } from './routes/webhooks.js';
import { rotationRoutes } from './routes/rotations.js';
import { resourceGroupRoutes } from './routes/resource-groups.js';
import { tagRoutes } from './routes/tags.js';

export async function nativeApiPlugin(parent: FastifyInstance, ctx: NativeContext): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err, req, reply) => sendNativeError(req, reply, err));
  app.setNotFoundHandler((req, reply) =>
    sendNativeError(
      req,
      reply,
      new CoreError('Input.Invalid', `No such API route: ${req.method} ${req.url.split('?')[0]}`),
    ),
  );
  app.addHook('onRequest', async (req) => {
    if ((req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const header = req.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : null;
    const resolved = token
      ? await ctx.core.accounts.resolveToken(token, {
          face: faceOf(req.headers['x-keyfleet-client']),
          sourceIp: req.ip,
          requestId: req.id,
        })
      : null;
    if (!resolved)
      throw new CoreError(
        'Auth.Unauthenticated',
        'Sign in first: POST /api/v1/sessions, then send Authorization: Bearer <token>.',
      );
    // A token scoped to one project (an IAM token of the KPS face) is valid for that face and project only.
    if (resolved.regionId !== null)
      throw new CoreError(
        'Auth.Unauthenticated',
        'This token is scoped to a KPS project; sign in with POST /api/v1/sessions for the native API.',
      );
    setCaller(req, resolved.caller);
  });
  sessionRoutes(app, ctx);
  catalogRoutes(app, ctx);
  keyPairRoutes(app, ctx);
  keyPairEscrowRoutes(app, ctx);
  instanceRoutes(app, ctx);
  hostImportRoutes(app, ctx);
  bindingRoutes(app, ctx);
  taskRoutes(app, ctx);
  driftRoutes(app, ctx);
  revocationRoutes(app, ctx);
  identityRoutes(app, ctx);
  groupRoutes(app, ctx);
  auditRoutes(app, ctx);
  webhookRoutes(app, ctx);
  rotationRoutes(app, ctx);
  tagRoutes(app, ctx);
  resourceGroupRoutes(app, ctx);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    (parent as unknown as { swagger(): unknown }).swagger(),
  );
}

function faceOf(client: string | string[] | undefined): 'native' | 'console' | 'cli' {
  return client === 'console' ? 'console' : client === 'cli' ? 'cli' : 'native';
}
