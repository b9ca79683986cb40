/** Registered real hosts as faces call them (ADR 9): registration needs instance:Create, settings instance:UpdateHost. */
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { HostService } from './host-service.js';
import { instanceRef } from './instance-use-cases.js';

export function hostUseCases(svc: HostService, store: Store) {
  return {
    register: useCase({
      action: 'instance:Create',
      access: 'policy',
      mutates: true,
      run: svc.register,
      names: (_c, input) => ({
        refs: [ref.instance(input.regionId, input.name)],
        checks: [{ action: 'instance:Create', refs: [ref.instance(input.regionId, '*', input.resourceGroupId)] }],
      }),
    }),
    update: useCase({
      action: 'instance:UpdateHost',
      access: 'policy',
      mutates: true,
      run: svc.update,
      names: async (c, id) => [await instanceRef(store, c, id)],
    }),
  };
}
