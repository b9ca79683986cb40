import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import type { Static } from 'typebox';
import { AuditQuery } from '../schemas.js';
import { auditView } from '../views.js';

export function auditRoutes(app: NativeApp, { core }: NativeContext) {
  const filterOf = (q: Static<typeof AuditQuery>) => ({
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    userName: q.userName,
    action: q.action,
    resource: q.resource,
    result: q.result,
    stage: q.stage,
    taskId: q.taskId,
    requestId: q.requestId,
    offset: q.offset ?? 0,
    limit: q.limit ?? 100,
  });
  app.get(
    '/audit',
    {
      schema: {
        querystring: AuditQuery,
        tags: ['audit'],
        summary:
          "Who did what, when, through which face, and the result; newest first. A task's request entry (stage request) and its outcome entries (stage outcome: which instances failed and why) share its taskId and requestId.",
      },
    },
    async (req) => {
      const page = await core.audit.query(callerOf(req), filterOf(req.query));
      return { entries: page.items.map(auditView), total: page.total };
    },
  );
  app.get(
    '/audit/export',
    { schema: { querystring: AuditQuery, tags: ['audit'], summary: 'The same entries as JSON lines.' } },
    async (req, reply) => {
      const page = await core.audit.query(callerOf(req), { ...filterOf(req.query), limit: req.query.limit ?? 10_000 });
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="keyfleet-audit.jsonl"');
      return page.items.map((e) => JSON.stringify(auditView(e))).join('\n') + (page.items.length ? '\n' : '');
    },
  );
}
