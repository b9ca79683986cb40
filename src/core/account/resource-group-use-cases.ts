/**
 * The resource group use cases as faces call them. A group is named `resourcegroup/{id}` (its own id as its
 * resourceGroupId too, so a policy conditioned on acs:ResourceGroupId may delegate one group); moving a resource
 * is checked on the resource (in its current group) and on the destination group.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { TaggableType } from '../ports.js';
import type { Store } from '../ports.js';
import { resourceRef } from '../tag/tag-use-cases.js';
import { useCase } from '../usecase/use-case.js';
import type { ResourceGroupService } from './resource-groups.js';

export const groupRef = (id: unknown): ResourceRef => ({
  type: 'resourcegroup',
  regionId: '*',
  id: String(id),
  ...(typeof id === 'string' && id !== '' && id !== '*' ? { resourceGroupId: id } : {}),
});

export function resourceGroupUseCases(svc: ResourceGroupService, store: Store) {
  return {
    list: useCase({
      action: 'resourcegroup:Describe',
      access: 'policy',
      mutates: false,
      names: () => [groupRef('*')],
      run: svc.list,
    }),
    get: useCase({
      action: 'resourcegroup:Describe',
      access: 'policy',
      mutates: false,
      names: (_c, id: string) => [groupRef(id)],
      run: svc.get,
    }),
    create: useCase({
      action: 'resourcegroup:Create',
      access: 'policy',
      mutates: true,
      names: () => [groupRef('*')],
      namesAfter: (g) => [groupRef(g.id)],
      run: svc.create,
    }),
    rename: useCase({
      action: 'resourcegroup:Update',
      access: 'policy',
      mutates: true,
      names: (_c, id: string, _input: { name: string }) => [groupRef(id)],
      run: svc.rename,
    }),
    delete: useCase({
      action: 'resourcegroup:Delete',
      access: 'policy',
      mutates: true,
      names: (_c, id: string) => [groupRef(id)],
      run: svc.delete,
    }),
    join: useCase({
      action: 'resourcegroup:Join',
      access: 'policy',
      mutates: true,
      names: async (
        c,
        input: { regionId: string; resourceType: TaggableType; resourceId: string; resourceGroupId: string },
      ) => [
        await resourceRef(store, c, input.regionId, input.resourceType, input.resourceId),
        groupRef(input.resourceGroupId),
      ],
      run: svc.join,
    }),
  };
}
