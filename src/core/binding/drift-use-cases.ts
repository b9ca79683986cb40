/**
 * Drift scan and repair as faces call them. A scan is a read (recorded only when denied), though it logs in to
 * every host it names. A repair is one entry under the permission its tasks need: keypair:Bind when any named host
 * has a key pair (its block is restored), keypair:Unbind when none has; the entry names the hosts and key pairs.
 */
import type { ResourceRef } from '../authz/actions.js';
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import { type Check, ref, useCase } from '../usecase/use-case.js';
import type { DriftService } from './drift-service.js';

export function driftUseCases(svc: DriftService, store: Store) {
  const ids = (raw: unknown): string[] =>
    Array.isArray(raw) ? raw.filter((id): id is string => typeof id === 'string') : [];
  /** The named hosts of the caller's account, each with its region and group; unknown ids are named as given. */
  async function hostRefs(
    c: Caller,
    regionId: string,
    raw: unknown,
  ): Promise<Array<{ ref: ResourceRef; keyPairName: string | null }>> {
    if (!Array.isArray(raw)) return [{ ref: ref.instance(regionId, '*'), keyPairName: null }];
    const found = new Map((await store.instances.getMany(c.accountId, ids(raw))).map((i) => [i.id, i]));
    return raw.map((id) => {
      const inst = found.get(String(id));
      return inst && inst.regionId === regionId
        ? { ref: ref.instance(inst.regionId, inst.id, inst.resourceGroupId), keyPairName: inst.keyPairName }
        : { ref: ref.instance(regionId, id), keyPairName: null };
    });
  }
  return {
    scan: useCase({
      action: 'instance:DescribeKeys',
      access: 'policy',
      mutates: false,
      run: svc.scan,
      names: async (c, input) => (await hostRefs(c, input.regionId, input.instanceIds)).map((h) => h.ref),
    }),
    repair: useCase({
      action: 'keypair:Unbind',
      access: 'policy',
      mutates: true,
      run: svc.repair,
      names: async (c, input) => {
        const hosts = Array.isArray(input.instanceIds) ? await hostRefs(c, input.regionId, input.instanceIds) : [];
        const checks: Check[] = hosts.map((h) =>
          h.keyPairName
            ? { action: 'keypair:Bind', refs: [h.ref, ref.keyPair(input.regionId, h.keyPairName)] }
            : { action: 'keypair:Unbind', refs: [h.ref] },
        );
        const names = [...new Set(hosts.flatMap((h) => (h.keyPairName ? [h.keyPairName] : [])))];
        return {
          action: names.length > 0 ? 'keypair:Bind' : 'keypair:Unbind',
          refs: [...names.map((n) => ref.keyPair(input.regionId, n)), ...hosts.map((h) => h.ref)],
          checks,
        };
      },
    }),
  };
}
