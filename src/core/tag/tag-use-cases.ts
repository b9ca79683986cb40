/**
 * The tag use cases as faces call them. Each names the resources it touches with their region and resource group
 * (read from the store), so a policy conditioned on acs:ResourceGroupId governs tags as it governs the resources.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { Caller } from '../caller.js';
import type { Tag } from '../keypair/keypair.js';
import type { Store, TaggableType } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { KeyPairTagFilter, KeyPairTagQuery } from './keypair-tag-filter.js';
import { MAX_TAG_RESOURCES, type TagListQuery, type TagService, type TagTarget } from './tag-service.js';

/** A key pair (by name) or an instance (by id), named with its group when the account has it in that region. */
export async function resourceRef(
  store: Store,
  caller: Caller,
  regionId: string,
  type: TaggableType | string,
  id: unknown,
): Promise<ResourceRef> {
  const key = typeof id === 'string' && id !== '' ? id : null;
  if (type === 'keypair') {
    const kp = key ? await store.keyPairs.get(caller.accountId, regionId, key) : null;
    return ref.keyPair(regionId, id, kp?.resourceGroupId);
  }
  const inst = key ? await store.instances.get(caller.accountId, key) : null;
  return ref.instance(regionId, id, inst && inst.regionId === regionId ? inst.resourceGroupId : undefined);
}

/** The refs of a tag call: each named resource once; none for a malformed list (the service refuses it). */
async function targetRefs(store: Store, caller: Caller, t: TagTarget): Promise<ResourceRef[]> {
  if (!Array.isArray(t.resourceIds) || t.resourceIds.length > MAX_TAG_RESOURCES) return [];
  const refs: ResourceRef[] = [];
  for (const id of new Set(t.resourceIds)) refs.push(await resourceRef(store, caller, t.regionId, t.resourceType, id));
  return refs;
}

export function tagUseCases(svc: TagService, store: Store) {
  return {
    tag: useCase({
      action: 'tag:Create',
      access: 'policy',
      mutates: true,
      names: (c, t: TagTarget & { tags: Tag[] }) => targetRefs(store, c, t),
      run: svc.tag,
    }),
    untag: useCase({
      action: 'tag:Delete',
      access: 'policy',
      mutates: true,
      names: (c, t: TagTarget & { keys?: string[]; all?: boolean }) => targetRefs(store, c, t),
      run: svc.untag,
    }),
    list: useCase({
      action: 'tag:Describe',
      access: 'policy',
      mutates: false,
      names: (_c, q: TagListQuery) => [
        q.resourceType === 'keypair' ? ref.keyPair(q.regionId, '*') : ref.instance(q.regionId, '*'),
      ],
      run: svc.list,
    }),
  };
}

/**
 * Key pairs selected by tags (Huawei's resource-instances filter and count): a key pair listing, so it needs what
 * every key pair listing needs, keypair:Describe in the region (the tags come with the key pairs, as in
 * DescribeKeyPairs).
 */
export function keyPairTagFilterUseCases(f: KeyPairTagFilter) {
  const names = (_c: Caller, q: KeyPairTagQuery) => [ref.keyPair(q.regionId, '*')];
  return {
    filterKeyPairs: useCase({ action: 'keypair:Describe', access: 'policy', mutates: false, names, run: f.filter }),
    countKeyPairs: useCase({ action: 'keypair:Describe', access: 'policy', mutates: false, names, run: f.count }),
  };
}
