/**
 * Bind and unbind as faces call them. The request is authorized on its key pair (with its resource group) and, for
 * faces that refuse servers up front, on each instance; each item is authorized again when it runs
 * (item-eligibility.ts). The audit entry names the key pair — for an unbind that named none, the one removed — and
 * every instance of the batch.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import type { TaskService } from '../task/task-service.js';
import type { Task } from '../task/task.js';
import { type Check, ref, useCase } from '../usecase/use-case.js';
import type { BindRequest } from './bind-request.js';
import { keyPairOfRequest } from './bind-submit.js';
import type { BindingModule } from './binding-module.js';

export function bindingUseCases(binding: BindingModule, tasks: TaskService, store: Store) {
  const action = (req: BindRequest) => (req.kind === 'unbind' ? 'keypair:Unbind' : 'keypair:Bind');
  async function names(caller: Caller, req: BindRequest) {
    const kp = await keyPairOfRequest(store, caller, req);
    const keyPairRefs = kp
      ? [ref.keyPair(req.regionId, kp.name, kp.resourceGroupId)]
      : req.keyPairName
        ? [ref.keyPair(req.regionId, req.keyPairName)]
        : [];
    // Only strings name resources; anything else is refused by the request's validation (and a deeply nested
    // array from a face's JSON would overflow the stack when turned into a name).
    const ids = (Array.isArray(req.instanceIds) ? req.instanceIds : []).filter(
      (id): id is string => typeof id === 'string',
    );
    const refs: ResourceRef[] = [...keyPairRefs, ...ids.map((id) => ref.instance(req.regionId, id))];
    const checks: Check[] = kp ? [{ action: action(req), refs: keyPairRefs }] : [];
    if (req.require) {
      const found = new Map(
        (
          await store.instances.getMany(
            caller.accountId,
            ids.filter((id): id is string => typeof id === 'string'),
          )
        ).map((i) => [i.id, i]),
      );
      for (const id of ids) {
        const inst = found.get(String(id));
        checks.push({
          action: action(req),
          refs: [
            inst ? ref.instance(inst.regionId, inst.id, inst.resourceGroupId) : ref.instance(req.regionId, id),
            ...keyPairRefs,
          ],
        });
      }
    }
    return { refs, checks };
  }
  const namesAfter = (task: Task, req: BindRequest) =>
    !req.keyPairName && task.keyPairName ? [ref.keyPair(req.regionId, task.keyPairName)] : [];
  return {
    submit: useCase({
      action,
      access: 'policy',
      mutates: true,
      run: binding.submit,
      names,
      namesAfter,
      taskOf: (task) => task.id,
    }),
    /** Submits, then answers when every item has ended (the clouds' synchronous attach/detach). */
    submitAndWait: useCase({
      action,
      access: 'policy',
      mutates: true,
      run: async (caller: Caller, req: BindRequest) => tasks.finished(await binding.submit(caller, req)),
      names,
      namesAfter: (done, req) => namesAfter(done.task, req),
      taskOf: (done) => done.task.id,
    }),
  };
}
