import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { IdParams, TaskItemsQuery, TaskListQuery } from '../schemas.js';
import { formatEvent } from '../event-stream.js';
import { taskItemView, taskView } from '../views.js';

export function taskRoutes(app: NativeApp, { core }: NativeContext) {
  app.get('/tasks', { schema: { querystring: TaskListQuery, tags: ['tasks'] } }, async (req) => {
    const q = req.query;
    const page = await core.tasks.list(callerOf(req), {
      regionId: q.regionId,
      statuses: q.status ? [q.status as never] : undefined,
      offset: q.offset,
      limit: q.limit,
    });
    return { tasks: page.items.map(taskView), total: page.total };
  });
  app.get('/tasks/:id', { schema: { params: IdParams, tags: ['tasks'] } }, async (req) => {
    const task = await core.tasks.get(callerOf(req), req.params.id);
    // Whether this process still holds a credential for the task (one given with a live request, or a host's
    // opened management key): an operator can see that a secret is gone once the task has ended.
    return { task: taskView(task), credentialHeld: core.holdsLiveCredential(task.id) };
  });
  app.get(
    '/tasks/:id/items',
    { schema: { params: IdParams, querystring: TaskItemsQuery, tags: ['tasks'] } },
    async (req) => {
      const page = await core.tasks.items(callerOf(req), req.params.id, {
        status: req.query.status as never,
        offset: req.query.offset,
        limit: req.query.limit,
      });
      return { items: page.items.map(taskItemView), total: page.total };
    },
  );
  // Server-sent events: `progress` with the task now and at each change, then `done` with the final task. The
  // CLI's progress bar reads it; a client that cannot keep a stream open polls GET /tasks/:id instead.
  app.get(
    '/tasks/:id/progress',
    {
      schema: {
        params: IdParams,
        tags: ['tasks'],
        summary: "Stream a task's progress as server-sent events (progress …, done).",
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      await core.tasks.get(caller, req.params.id); // a refusal or an unknown id answers as JSON, before the stream
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-request-id': String(req.id),
      });
      const send = (event: string, data: unknown) => res.write(formatEvent(event, data));
      const gone = new AbortController();
      req.raw.on('close', () => gone.abort());
      try {
        const last = await core.tasks.watch(
          caller,
          req.params.id,
          (t) => send('progress', { task: taskView(t) }),
          gone.signal,
        );
        if (last.finishedAt) send('done', { task: taskView(last) });
      } catch (err) {
        send('error', {
          code: (err as { code?: string }).code ?? 'Internal',
          message: 'The progress stream stopped; read the task instead.',
        });
      } finally {
        res.end();
      }
    },
  );
  app.delete('/tasks/:id', { schema: { params: IdParams, tags: ['tasks'] } }, async (req, reply) => {
    await core.tasks.delete(callerOf(req), [req.params.id]);
    return reply.status(204).send();
  });
}
