/**
 * Resource groups (issue 20): an account's groups of key pairs and instances, which policies may name
 * (acs:ResourceGroupId). Every account has the group 'default', made with the account; it cannot be renamed or
 * deleted, and resources created without a group go there. A group is deleted only when empty.
 */
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { ResourceGroup } from './account.js';
import type { Store, TaggableType } from '../ports.js';

/** Groups per account: keyfleet's own bound (Alibaba's default quota is lower), so a tenant cannot grow the table. */
export const MAX_RESOURCE_GROUPS = 100;
export const DEFAULT_GROUP_NAME = 'default';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

export function validateGroupName(name: unknown): string {
  if (typeof name !== 'string' || name === '')
    throw new CoreError('Input.Missing', 'The resource group name is required.', { parameter: 'Name' });
  if (!NAME.test(name))
    throw new CoreError(
      'ResourceGroup.NameMalformed',
      `The resource group name '${name.slice(0, 64)}' is not valid: use 1-50 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      { parameter: 'Name' },
    );
  return name;
}

export interface ResourceGroupView extends ResourceGroup {
  isDefault: boolean;
}

export function createResourceGroupService(deps: { store: Store; clock: Clock; ids: IdGen }) {
  const { store, clock, ids } = deps;
  const view = (g: ResourceGroup): ResourceGroupView => ({ ...g, isDefault: g.name === DEFAULT_GROUP_NAME });

  async function require(caller: Caller, id: unknown, tx = store as Pick<Store, 'accounts'>) {
    const g = typeof id === 'string' && id !== '' ? await tx.accounts.getResourceGroup(caller.accountId, id) : null;
    if (!g)
      throw new CoreError('ResourceGroup.NotFound', `The resource group '${String(id).slice(0, 64)}' does not exist.`, {
        resourceGroupId: String(id).slice(0, 64),
      });
    return g;
  }

  function refuseDefault(g: ResourceGroup, what: string) {
    if (g.name === DEFAULT_GROUP_NAME)
      throw new CoreError('ResourceGroup.DefaultImmutable', `The default resource group cannot be ${what}.`, {
        resourceGroupId: g.id,
      });
  }

  async function taken(caller: Caller, name: string) {
    const all = await store.accounts.listResourceGroups(caller.accountId);
    if (all.some((g) => g.name === name))
      throw new CoreError('ResourceGroup.AlreadyExists', `A resource group named '${name}' already exists.`, { name });
    return all;
  }

  return {
    async list(caller: Caller): Promise<ResourceGroupView[]> {
      return (await store.accounts.listResourceGroups(caller.accountId)).map(view);
    },

    async get(caller: Caller, id: string): Promise<ResourceGroupView & { keyPairs: number; instances: number }> {
      const g = await require(caller, id);
      return { ...view(g), ...(await store.accounts.resourceGroupMembers(caller.accountId, g.id)) };
    },

    async create(caller: Caller, input: { name: string }): Promise<ResourceGroupView> {
      const name = validateGroupName(input.name);
      const all = await taken(caller, name);
      if (all.length >= MAX_RESOURCE_GROUPS)
        throw new CoreError(
          'ResourceGroup.QuotaExceeded',
          `An account may have at most ${MAX_RESOURCE_GROUPS} resource groups.`,
          {
            limit: MAX_RESOURCE_GROUPS,
          },
        );
      const g: ResourceGroup = { id: ids.next('rg-', 16), accountId: caller.accountId, name, createdAt: clock.now() };
      try {
        await store.accounts.insertResourceGroup(g);
      } catch (err) {
        // Two creates of one name at once: the unique index keeps the first.
        if ((await store.accounts.listResourceGroups(caller.accountId)).some((o) => o.name === name && o.id !== g.id))
          throw new CoreError('ResourceGroup.AlreadyExists', `A resource group named '${name}' already exists.`, {
            name,
          });
        throw err;
      }
      return view(g);
    },

    async rename(caller: Caller, id: string, input: { name: string }): Promise<ResourceGroupView> {
      const name = validateGroupName(input.name);
      const g = await require(caller, id);
      refuseDefault(g, 'renamed');
      // 'default' is always taken: the account's default group has it.
      if (name !== g.name) await taken(caller, name);
      try {
        await store.accounts.renameResourceGroup(caller.accountId, g.id, name);
      } catch (err) {
        if ((await store.accounts.listResourceGroups(caller.accountId)).some((o) => o.name === name && o.id !== g.id))
          throw new CoreError('ResourceGroup.AlreadyExists', `A resource group named '${name}' already exists.`, {
            name,
          });
        throw err;
      }
      return view({ ...g, name });
    },

    /** Deletes an empty group; a group that still holds key pairs or instances is refused (ResourceGroup.NotEmpty). */
    async delete(caller: Caller, id: string): Promise<void> {
      await store.transaction(async (tx) => {
        const g = await tx.accounts.lockResourceGroup(caller.accountId, id, 'update');
        if (!g) await require(caller, id, tx);
        refuseDefault(g!, 'deleted');
        const members = await tx.accounts.resourceGroupMembers(caller.accountId, g!.id);
        if (members.keyPairs + members.instances > 0)
          throw new CoreError(
            'ResourceGroup.NotEmpty',
            `The resource group '${g!.name}' still holds ${members.keyPairs} key pair(s) and ${members.instances} instance(s); move them first.`,
            { resourceGroupId: g!.id, keyPairs: members.keyPairs, instances: members.instances },
          );
        await tx.accounts.deleteResourceGroup(caller.accountId, g!.id);
      });
    },

    /**
     * Moves a key pair (named by region and name) or an instance (by id) into a group. The group is locked against
     * a concurrent delete until the move commits, so a deleted group never keeps a member.
     */
    async join(
      caller: Caller,
      input: { regionId: string; resourceType: TaggableType; resourceId: string; resourceGroupId: string },
    ): Promise<{ from: string; to: string }> {
      return store.transaction(async (tx) => {
        const g = await tx.accounts.lockResourceGroup(caller.accountId, input.resourceGroupId, 'share');
        if (!g) await require(caller, input.resourceGroupId, tx);
        let current: { id: string; resourceGroupId: string } | null = null;
        if (input.resourceType === 'keypair')
          current = await tx.keyPairs.get(caller.accountId, input.regionId, input.resourceId);
        else {
          const inst = await tx.instances.get(caller.accountId, input.resourceId);
          current = inst && inst.regionId === input.regionId ? inst : null;
        }
        if (!current)
          throw new CoreError(
            'Resource.NotFound',
            `No ${input.resourceType === 'keypair' ? 'key pair' : 'instance'} '${String(input.resourceId).slice(0, 64)}' in region '${input.regionId}'.`,
            { resourceType: input.resourceType, resourceIds: [String(input.resourceId).slice(0, 64)] },
          );
        await tx.accounts.moveToResourceGroup(caller.accountId, input.resourceType, current.id, g!.id);
        return { from: current.resourceGroupId, to: g!.id };
      });
    },
  };
}

export type ResourceGroupService = ReturnType<typeof createResourceGroupService>;
