/**
 * The KPS v3-compatible API (`/v3/{project_id}/…`), the Nova key pair calls of the ECS SDK (`/v2.1/{project_id}/
 * os-keypairs`, also under `/v2`) and the IAM calls a Huawei client makes first (`/v3/auth/tokens`, `/v3/projects`).
 * An encapsulated plugin: its own body parser (raw bytes kept for signatures), authentication (AK/SK or token),
 * error envelope and X-Request-Id on every answer. Every rule is the core's; this face translates.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticationHook } from './auth.js';
import type { KpsApp, KpsContext } from './context.js';
import { routeNotFoundFault, sendKpsError } from './errors.js';
import { installRawBodyParser } from './raw-body.js';
import { bindingRoutes } from './routes/binding.js';
import { iamRoutes } from './routes/iam.js';
import { keyPairRoutes } from './routes/keypairs.js';
import { novaRoutes } from './routes/nova.js';
import { privateKeyRoutes } from './routes/private-keys.js';
import { kpsResourceInstanceRoutes } from './routes/resource-instances.js';
import { kpsTagRoutes } from './routes/tags.js';
import { taskRoutes } from './routes/tasks.js';

export type { KpsContext } from './context.js';

export async function kpsApiPlugin(parent: FastifyInstance, ctx: KpsContext): Promise<void> {
  const app: KpsApp = parent.withTypeProvider<TypeBoxTypeProvider>();
  installRawBodyParser(app);
  // Set first, so that every answer carries it, refusals included: the SDK reports it as `requestId`.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
  app.setErrorHandler((err, req, reply) => sendKpsError(req, reply, err));
  app.addHook('preValidation', authenticationHook(ctx));

  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    sendKpsError(req, reply, routeNotFoundFault(req.method, req.url.split('?')[0] ?? ''));

  await app.register(
    async (v3: KpsApp) => {
      v3.setNotFoundHandler(notFound);
      iamRoutes(v3, ctx);
      keyPairRoutes(v3, ctx);
      bindingRoutes(v3, ctx);
      taskRoutes(v3, ctx);
      privateKeyRoutes(v3, ctx);
      kpsTagRoutes(v3, ctx);
      kpsResourceInstanceRoutes(v3, ctx);
    },
    { prefix: '/v3' },
  );

  // The SDK uses /v2.1; the ECS reference documents /v2 as well (API.md §9).
  for (const prefix of ['/v2.1', '/v2']) {
    await app.register(
      async (nova: KpsApp) => {
        nova.setNotFoundHandler(notFound);
        novaRoutes(nova, ctx);
      },
      { prefix },
    );
  }
}
