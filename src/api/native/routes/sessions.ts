import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { SignInBody } from '../schemas.js';

export function sessionRoutes(app: NativeApp, { core }: NativeContext) {
  app.post(
    '/sessions',
    {
      schema: {
        body: SignInBody,
        tags: ['sessions'],
        summary: 'Sign in with a user password or an access key; returns a bearer token.',
      },
      config: { public: true },
    },
    async (req, reply) => {
      const client = req.headers['x-keyfleet-client'];
      const face = client === 'console' ? 'console' : client === 'cli' ? 'cli' : 'native';
      const { token, caller, expiresAt } = await core.accounts.signIn(req.body, {
        face,
        sourceIp: req.ip,
        requestId: req.id,
      });
      // The answer carries a bearer token: no cache, shared or private, may keep it.
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        token,
        expiresAt: expiresAt.toISOString(),
        user: { id: caller.userId, name: caller.userName, isAccountAdmin: caller.isAccountAdmin },
        accountId: caller.accountId,
      });
    },
  );
  app.delete('/sessions/current', { schema: { tags: ['sessions'] } }, async (req, reply) => {
    await core.identity.signOut(callerOf(req));
    return reply.status(204).send();
  });
  app.get('/whoami', { schema: { tags: ['sessions'] } }, async (req) => {
    const c = callerOf(req);
    const account = await core.accounts.account(c);
    return {
      accountId: c.accountId,
      accountName: account.name,
      userId: c.userId,
      userName: c.userName,
      isAccountAdmin: c.isAccountAdmin,
      accessKeyId: c.accessKeyId,
    };
  });
}
