/**
 * Reads that belong to no one module: the regions, the compute catalog (images, instance types) and the audit
 * trail. Reads are audited only when denied.
 */
import type { AuditFilter } from './audit/audit.js';
import type { Caller } from './caller.js';
import type { ComputeBackend, Store } from './ports.js';
import type { Region } from './region.js';
import { useCase } from './usecase/use-case.js';
import { pageOf } from './paging.js';

const MAX_AUDIT_PAGE = 10_000;

export function catalogUseCases(regions: readonly Region[], compute: ComputeBackend) {
  return {
    regions: useCase({
      action: 'region:Describe',
      access: 'policy',
      mutates: false,
      run: async (_c: Caller): Promise<readonly Region[]> => regions,
      names: () => [{ type: 'region', regionId: '*', id: '*' }],
    }),
    images: useCase({
      action: 'image:Describe',
      access: 'policy',
      mutates: false,
      run: async (_c: Caller, _regionId?: string): Promise<ReturnType<ComputeBackend['images']>> => compute.images(),
      names: (_c, regionId) => [{ type: 'image', regionId: regionId ?? '*', id: '*' }],
    }),
    instanceTypes: useCase({
      action: 'image:Describe',
      access: 'policy',
      mutates: false,
      run: async (_c: Caller): Promise<ReturnType<ComputeBackend['instanceTypes']>> => compute.instanceTypes(),
      names: () => [{ type: 'image', regionId: '*', id: '*' }],
    }),
  };
}

export function auditUseCases(store: Store) {
  return {
    query: useCase({
      action: 'audit:Describe',
      access: 'policy',
      mutates: false,
      run: (caller: Caller, filter: Omit<AuditFilter, 'accountId'>) =>
        store.audit.query({
          ...filter,
          accountId: caller.accountId,
          ...pageOf(filter, { limit: filter.limit, max: MAX_AUDIT_PAGE }),
        }),
      names: () => [{ type: 'audit', regionId: '*', id: '*' }],
    }),
  };
}
