/** Reading and deleting tasks as faces call them: task:Describe and task:Delete, on the task's id. */
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { TaskService } from './task-service.js';

export function taskUseCases(svc: TaskService, store: Store) {
  const one = (_c: unknown, id: unknown) => [ref.task(id)];
  return {
    get: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.get, names: one }),
    items: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.items, names: one }),
    waitFor: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.waitFor, names: one }),
    watch: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.watch, names: one }),
    list: useCase({
      action: 'task:Describe',
      access: 'policy',
      mutates: false,
      run: svc.list,
      names: (_c, q) => [ref.task('*', q.regionId)],
    }),
    overview: useCase({
      action: 'task:Describe',
      access: 'policy',
      mutates: false,
      run: svc.overview,
      names: (_c, q) => [ref.task('*', q.regionId)],
    }),
    /** Each task is named in its own region, so a policy that limits deletions to a region holds. */
    delete: useCase({
      action: 'task:Delete',
      access: 'policy',
      mutates: true,
      run: svc.delete,
      names: async (c, ids) => {
        if (!Array.isArray(ids)) return [];
        const tasks = await Promise.all(
          ids.map((id) => (typeof id === 'string' ? store.tasks.get(c.accountId, id) : null)),
        );
        return ids.map((id, n) => ref.task(id, tasks[n]?.regionId));
      },
    }),
    deleteAll: useCase({
      action: 'task:Delete',
      access: 'policy',
      mutates: true,
      run: svc.deleteAll,
      names: (_c, scope) => [ref.task('*', scope.regionId)],
    }),
  };
}
