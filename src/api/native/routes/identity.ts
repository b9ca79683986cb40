import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import {
  AccessKeyParams,
  AccessKeyPatchBody,
  CreateAccountBody,
  CreatePolicyBody,
  CreateUserBody,
  DeletePolicyQuery,
  PasswordBody,
  PolicyParams,
  UserParams,
  UserPolicyParams,
} from '../schemas.js';
import { accessKeyView, policyView, userView } from '../views.js';

export function identityRoutes(app: NativeApp, { core }: NativeContext) {
  const id = core.identity;
  app.get('/users', { schema: { tags: ['identity'] } }, async (req) => ({
    users: (await id.listUsers(callerOf(req))).map(userView),
  }));
  app.post('/users', { schema: { body: CreateUserBody, tags: ['identity'] } }, async (req, reply) =>
    reply.status(201).send({ user: userView(await id.createUser(callerOf(req), req.body)) }),
  );
  app.delete('/users/:name', { schema: { params: UserParams, tags: ['identity'] } }, async (req, reply) => {
    await id.deleteUser(callerOf(req), req.params.name);
    return reply.status(204).send();
  });
  app.put(
    '/users/:name/password',
    {
      schema: {
        params: UserParams,
        body: PasswordBody,
        tags: ['identity'],
        summary: 'Set (or, with null, turn off) the console password; signs the user out everywhere.',
      },
    },
    async (req, reply) => {
      await id.setPassword(callerOf(req), req.params.name, req.body.password);
      return reply.status(204).send();
    },
  );
  app.get('/users/:name/access-keys', { schema: { params: UserParams, tags: ['identity'] } }, async (req) => ({
    accessKeys: (await id.listAccessKeys(callerOf(req), req.params.name)).map(accessKeyView),
  }));
  app.post(
    '/users/:name/access-keys',
    {
      schema: {
        params: UserParams,
        tags: ['identity'],
        summary: 'Create an access key; the secret is in this response only.',
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(await id.createAccessKey(callerOf(req), req.params.name));
    },
  );
  app.patch(
    '/access-keys/:id',
    { schema: { params: AccessKeyParams, body: AccessKeyPatchBody, tags: ['identity'] } },
    async (req, reply) => {
      await id.setAccessKeyStatus(callerOf(req), req.params.id, req.body.status);
      return reply.status(204).send();
    },
  );
  app.delete('/access-keys/:id', { schema: { params: AccessKeyParams, tags: ['identity'] } }, async (req, reply) => {
    await id.deleteAccessKey(callerOf(req), req.params.id);
    return reply.status(204).send();
  });
  app.get('/policies', { schema: { tags: ['identity'] } }, async (req) => ({
    policies: (await id.listPolicies(callerOf(req))).map(policyView),
  }));
  app.post(
    '/policies',
    {
      schema: {
        body: CreatePolicyBody,
        tags: ['identity'],
        summary: 'Create a RAM-style policy (Effect, Action, Resource, Condition).',
      },
    },
    async (req, reply) =>
      reply.status(201).send({ policy: policyView(await id.createPolicy(callerOf(req), req.body)) }),
  );
  app.delete(
    '/policies/:policy',
    {
      schema: {
        params: PolicyParams,
        querystring: DeletePolicyQuery,
        tags: ['identity'],
        summary:
          'Delete a policy; refused (409 Policy.InUse) while it is attached, unless force=true detaches it from all.',
      },
    },
    async (req, reply) => {
      await id.deletePolicy(callerOf(req), req.params.policy, { force: req.query.force === true });
      return reply.status(204).send();
    },
  );
  app.get('/users/:name/policies', { schema: { params: UserParams, tags: ['identity'] } }, async (req) => ({
    policies: (await id.policiesOfUser(callerOf(req), req.params.name)).map(policyView),
  }));
  app.put(
    '/users/:name/policies/:policy',
    { schema: { params: UserPolicyParams, tags: ['identity'] } },
    async (req, reply) => {
      await id.attachPolicy(callerOf(req), req.params.name, req.params.policy);
      return reply.status(204).send();
    },
  );
  app.delete(
    '/users/:name/policies/:policy',
    { schema: { params: UserPolicyParams, tags: ['identity'] } },
    async (req, reply) => {
      await id.detachPolicy(callerOf(req), req.params.name, req.params.policy);
      return reply.status(204).send();
    },
  );
  app.get('/accounts', { schema: { tags: ['identity'] } }, async (req) => ({
    accounts: (await id.listAccounts(callerOf(req))).map((a) => ({
      id: a.id,
      name: a.name,
      createdAt: a.createdAt.toISOString(),
    })),
  }));
  app.post(
    '/accounts',
    {
      schema: {
        body: CreateAccountBody,
        tags: ['identity'],
        summary: 'System administrator: create a tenant with its administrator; secrets are in this response only.',
      },
    },
    async (req, reply) => {
      const made = await id.createAccount(callerOf(req), req.body);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        account: { id: made.account.id, name: made.account.name },
        admin: userView(made.admin),
        accessKeyId: made.accessKeyId,
        accessKeySecret: made.accessKeySecret,
        adminPassword: made.adminPassword,
      });
    },
  );
}
