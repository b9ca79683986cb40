/**
 * Registered real hosts as faces call them (ADR 9): registration needs instance:Create, settings
 * instance:UpdateHost. An inventory import registers many hosts, so it needs what one registration needs:
 * instance:Create in the region (and resource group); it is audited once, for the submission, naming the region's
 * instances, and its task then registers each host without asking again.
 */
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { HostService } from './host-service.js';
import { instanceRef } from './instance-use-cases.js';
import type { InventoryImport } from './inventory-import.js';

export function hostUseCases(svc: HostService, imports: InventoryImport, store: Store) {
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
    importInventory: useCase({
      action: 'instance:Create',
      access: 'policy',
      mutates: true,
      run: imports.submit,
      names: (_c, req) => ({
        refs: [ref.instance(req.regionId, '*', req.defaults?.resourceGroupId)],
        checks: [{ action: 'instance:Create', refs: [ref.instance(req.regionId, '*', req.defaults?.resourceGroupId)] }],
      }),
      namesAfter: (task) => [ref.task(task.id, task.regionId)],
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
