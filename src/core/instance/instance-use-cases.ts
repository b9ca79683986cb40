/** The instance use cases as faces call them: each names its instance (region and resource group read from the store). */
import type { ResourceRef } from '../authz/actions.js';
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { InstanceQuery, InstanceService, LifecycleOptions, RunInstancesInput } from './instance-service.js';

/** Instance IDs are global; an instance is named with its region and group when it exists in the caller's account. */
export async function instanceRef(store: Store, caller: Caller, id: unknown): Promise<ResourceRef> {
  const inst = typeof id === 'string' && id !== '' ? await store.instances.get(caller.accountId, id) : null;
  return inst ? ref.instance(inst.regionId, inst.id, inst.resourceGroupId) : ref.instance('*', id);
}

export function instanceUseCases(svc: InstanceService, store: Store) {
  const one = async (c: Caller, id: unknown) => [await instanceRef(store, c, id)];
  const lifecycle = (
    action: string,
    run: (c: Caller, id: string, o?: LifecycleOptions) => ReturnType<InstanceService['start']>,
  ) =>
    useCase({
      action,
      access: 'policy',
      mutates: (_id: string, o: LifecycleOptions = {}) => !o.dryRun,
      names: (c, id: string, _o?: LifecycleOptions) => one(c, id),
      run,
    });
  return {
    run: useCase({
      action: 'instance:Create',
      access: 'policy',
      mutates: true,
      names: (_c, input: RunInstancesInput) => {
        const refs = [
          {
            ...ref.instance(input.regionId, '*'),
            ...(input.resourceGroupId ? { resourceGroupId: input.resourceGroupId } : {}),
          },
        ];
        // Creating with a key pair binds it: that needs keypair:Bind as well.
        const checks = [{ action: 'instance:Create' as const, refs }];
        if (input.keyPairName)
          checks.push({ action: 'keypair:Bind' as never, refs: [ref.keyPair(input.regionId, input.keyPairName)] });
        return { refs, checks };
      },
      run: svc.run,
    }),
    list: useCase({
      action: 'instance:Describe',
      access: 'policy',
      mutates: false,
      names: (_c, q: InstanceQuery) => [ref.instance(q.regionId, '*')],
      run: svc.list,
    }),
    get: useCase({
      action: 'instance:Describe',
      access: 'policy',
      mutates: false,
      names: (c, id: string) => one(c, id),
      run: svc.get,
    }),
    history: useCase({
      action: 'instance:Describe',
      access: 'policy',
      mutates: false,
      names: (c, id: string) => one(c, id),
      run: svc.history,
    }),
    start: lifecycle('instance:Start', svc.start),
    stop: lifecycle('instance:Stop', svc.stop),
    reboot: lifecycle('instance:Reboot', svc.reboot),
    resetPassword: useCase({
      action: 'instance:ResetPassword',
      access: 'policy',
      mutates: true,
      names: (c, id: string, _password: string) => one(c, id),
      run: svc.resetPassword,
    }),
    delete: useCase({
      action: 'instance:Delete',
      access: 'policy',
      mutates: true,
      names: (c, id: string, _o?: { force?: boolean }) => one(c, id),
      run: svc.delete,
    }),
  };
}
