import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { IdParams, TaskItemsQuery, TaskListQuery } from '../schemas.js';
import { taskItemView, taskView } from '../views.js';

export function taskRoutes(app: NativeApp, { core }: NativeContext) {
  app.get('/tasks', { schema: { querystring: TaskListQuery, tags: ['tasks'] } }, async (req) => {
    const q = req.query;
    const page = await core.tasks.list(callerOf(req), { regionId: q.regionId, statuses: q.status ? [q.status as never] : undefined, offset: q.offset, limit: q.limit });
    return { tasks: page.items.map(taskView), total: page.total };
  });
  app.get('/tasks/:id', { schema: { params: IdParams, tags: ['tasks'] } }, async (req) => ({ task: taskView(await core.tasks.get(callerOf(req), req.params.id)) }));
  app.get('/tasks/:id/items', { schema: { params: IdParams, querystring: TaskItemsQuery, tags: ['tasks'] } }, async (req) => {
    const page = await core.tasks.items(callerOf(req), req.params.id, { status: req.query.status as never, offset: req.query.offset, limit: req.query.limit });
    return { items: page.items.map(taskItemView), total: page.total };
  });
  app.delete('/tasks/:id', { schema: { params: IdParams, tags: ['tasks'] } }, async (req, reply) => {
    await core.tasks.delete(callerOf(req), [req.params.id]);
    return reply.status(204).send();
  });
}
