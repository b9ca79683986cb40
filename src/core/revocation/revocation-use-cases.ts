/**
 * Revocations as faces call them. Planning reads every machine (recorded only when denied, like a drift scan) and
 * needs keypair:Revoke on the key named; machines a Deny hides are left out of the plan. Applying is the audited
 * request (it names the revocation as its task, so its outcome entry is found with it); reading a report needs
 * keypair:Describe.
 */
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { RevocationService } from './revocation-service.js';

export function revocationUseCases(svc: RevocationService, store: Store) {
  /** The key pairs a stored revocation is about, and the revocation itself; unknown ids are named as given. */
  async function revocationRefs(c: Caller, id: unknown) {
    const r = typeof id === 'string' && id.length <= 64 ? await store.revocations.get(c.accountId, id) : null;
    if (!r) return [ref.task(id)];
    const keyPairs = r.keyPairNames.map((n) => ref.keyPair(r.regionId, n));
    return [
      ...(keyPairs.length > 0 ? keyPairs : [ref.keyPair(r.regionId, r.key.fingerprintSha256)]),
      ref.task(r.id, r.regionId),
    ];
  }
  return {
    plan: useCase({
      action: 'keypair:Revoke',
      access: 'policy',
      mutates: false,
      run: svc.plan,
      names: (_c, input) => [
        ref.keyPair(
          input.regionId,
          typeof input.keyPairName === 'string'
            ? input.keyPairName
            : typeof input.fingerprint === 'string'
              ? input.fingerprint
              : '*',
        ),
      ],
    }),
    apply: useCase({
      action: 'keypair:Revoke',
      access: 'policy',
      mutates: true,
      run: svc.apply,
      names: (c, input) => revocationRefs(c, input.revocationId),
      taskOf: (result) => result.revocation.id,
    }),
    get: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      run: svc.get,
      names: (c, id) => revocationRefs(c, id),
    }),
    machines: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      run: svc.machines,
      names: (c, id) => revocationRefs(c, id),
    }),
    list: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      run: svc.list,
      names: (_c, input) => [ref.keyPair(input.regionId, '*')],
    }),
  };
}
