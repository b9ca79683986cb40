/**
 * User groups (account administrators): a group's members get the policies attached to it, in addition to their
 * own; an explicit Deny from any of them wins. Changes take effect on each member's next request.
 */
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { CreateGroupBody, GroupMemberParams, GroupParams, GroupPolicyParams, UserParams } from '../schemas.js';
import { groupDetailView, groupView } from '../views.js';

export function groupRoutes(app: NativeApp, { core }: NativeContext) {
  const id = core.identity;
  const tags = ['identity'];
  app.get('/groups', { schema: { tags } }, async (req) => ({
    groups: (await id.listGroups(callerOf(req))).map(groupView),
  }));
  app.post('/groups', { schema: { body: CreateGroupBody, tags } }, async (req, reply) =>
    reply.status(201).send({ group: groupView(await id.createGroup(callerOf(req), req.body)) }),
  );
  app.get(
    '/groups/:name',
    { schema: { params: GroupParams, tags, summary: 'A group with its members and attached policies.' } },
    async (req) => groupDetailView(await id.getGroup(callerOf(req), req.params.name)),
  );
  app.delete(
    '/groups/:name',
    { schema: { params: GroupParams, tags, summary: 'Delete a group with its memberships and policy attachments.' } },
    async (req, reply) => {
      await id.deleteGroup(callerOf(req), req.params.name);
      return reply.status(204).send();
    },
  );
  app.put('/groups/:name/members/:user', { schema: { params: GroupMemberParams, tags } }, async (req, reply) => {
    await id.addUserToGroup(callerOf(req), req.params.name, req.params.user);
    return reply.status(204).send();
  });
  app.delete('/groups/:name/members/:user', { schema: { params: GroupMemberParams, tags } }, async (req, reply) => {
    await id.removeUserFromGroup(callerOf(req), req.params.name, req.params.user);
    return reply.status(204).send();
  });
  app.put('/groups/:name/policies/:policy', { schema: { params: GroupPolicyParams, tags } }, async (req, reply) => {
    await id.attachGroupPolicy(callerOf(req), req.params.name, req.params.policy);
    return reply.status(204).send();
  });
  app.delete('/groups/:name/policies/:policy', { schema: { params: GroupPolicyParams, tags } }, async (req, reply) => {
    await id.detachGroupPolicy(callerOf(req), req.params.name, req.params.policy);
    return reply.status(204).send();
  });
  app.get('/users/:name/groups', { schema: { params: UserParams, tags } }, async (req) => ({
    groups: (await id.groupsOfUser(callerOf(req), req.params.name)).map(groupView),
  }));
}
