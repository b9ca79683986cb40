/**
 * The task model (API.md §4.5): ListKeypairTask, ListRunningTask, ListFailedTask, DeleteFailedTask,
 * DeleteAllFailedTask. Tasks are the core's; every task of the project's region shows, whichever face made it.
 */
import type { Caller } from '../../../core/caller.js';
import { CoreError } from '../../../core/errors.js';
import type { Core } from '../../../core/index.js';
import type { Task, TaskItem, TaskKind, TaskStatus } from '../../../core/task/task.js';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig, projectOf } from '../context.js';
import { ProjectParams, TaskPageQuery, TaskParams } from '../schemas.js';
import { FAILED_STATUSES, isFailed, RUNNING_STATUSES } from '../task-status.js';
import { taskRowView, taskStatusView } from '../task-views.js';

const PROJECT: KpsRouteConfig = { kpsAuth: 'project' };
/** DeleteFailedTask documents KPS.0005 "Failed task is not found" for an unknown task (API.md §4.5). */
const FAILED_TASK: KpsRouteConfig = {
  kpsAuth: 'project',
  kpsErrors: { 'Task.NotFound': { status: 400, code: 'KPS.0005' } },
};
/** ListRunningTask documents a default page of 1000 (API.md §4.5). */
const DEFAULT_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function taskRoutes(app: KpsApp, { core }: KpsContext) {
  app.get('/:project_id/tasks/:task_id', { schema: { params: TaskParams }, config: PROJECT }, async (req) => {
    const caller = callerOf(req);
    const task = await taskIn(core, caller, projectOf(req).region.id, req.params.task_id);
    return taskStatusView(task, await representativeItem(core, caller, task));
  });

  /** The running and the failed tasks are one listing filtered by status. */
  for (const [path, statuses] of [
    ['running-tasks', RUNNING_STATUSES],
    ['failed-tasks', FAILED_STATUSES],
  ] as const) {
    app.get(
      `/:project_id/${path}`,
      { schema: { params: ProjectParams, querystring: TaskPageQuery }, config: PROJECT },
      async (req) =>
        taskRows(
          core,
          callerOf(req),
          projectOf(req).region.id,
          statuses,
          req.query.offset ?? 0,
          req.query.limit ?? DEFAULT_LIMIT,
        ),
    );
  }

  app.delete(
    '/:project_id/failed-tasks/:task_id',
    { schema: { params: TaskParams }, config: FAILED_TASK },
    async (req, reply) => {
      const id = req.params.task_id;
      if (!UUID.test(id)) throw unknownTask(id);
      await core.tasks.delete(callerOf(req), [id.toLowerCase()], {
        regionId: projectOf(req).region.id,
        statuses: FAILED_STATUSES,
        kinds: KEY_PAIR_TASKS,
      });
      return reply.status(200).send();
    },
  );

  app.delete(
    '/:project_id/failed-tasks',
    { schema: { params: ProjectParams }, config: PROJECT },
    async (req, reply) => {
      await core.tasks.deleteAll(callerOf(req), {
        regionId: projectOf(req).region.id,
        statuses: FAILED_STATUSES,
        kinds: KEY_PAIR_TASKS,
      });
      return reply.status(200).send();
    },
  );
}

/** KPS shows key pair tasks only: keyfleet's own tasks (an inventory import) are not part of Huawei's API. */
const KEY_PAIR_TASKS: TaskKind[] = ['bind', 'unbind'];

const unknownTask = (id: string) =>
  new CoreError('Task.NotFound', `The task '${id.slice(0, 64)}' does not exist in this project.`, {
    taskId: id.slice(0, 64),
  });

/** A task of this project; anything else — malformed id, another region, unknown — is "taskId is illegal". */
async function taskIn(core: Core, caller: Caller, regionId: string, id: string): Promise<Task> {
  if (!UUID.test(id)) throw unknownTask(id);
  const task = await core.tasks.get(caller, id.toLowerCase());
  if (task.regionId !== regionId || !KEY_PAIR_TASKS.includes(task.kind)) throw unknownTask(id);
  return task;
}

async function representativeItem(core: Core, caller: Caller, task: Task): Promise<TaskItem | null> {
  if (isFailed(task)) {
    const failed = await core.tasks.items(caller, task.id, { status: 'failed', limit: 1 });
    if (failed.items[0]) return failed.items[0];
  }
  return (await core.tasks.items(caller, task.id, { limit: 1 })).items[0] ?? null;
}

async function taskRows(
  core: Core,
  caller: Caller,
  regionId: string,
  statuses: TaskStatus[],
  offset: number,
  limit: number,
) {
  const page = await core.tasks.overview(caller, { regionId, statuses, kinds: KEY_PAIR_TASKS, offset, limit });
  return { total: page.total, tasks: page.items.map((o) => taskRowView(o.task, o.item, o.instanceName ?? '')) };
}
