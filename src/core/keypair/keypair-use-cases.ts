/** The key pair use cases as faces call them: each names its key pairs for the gate (authorization, audit). */
import type { GeneratedKeyType } from './key-material.js';
import type { KeyPairInput, KeyPairQuery, KeyPairService } from './keypair-service.js';
import { ref, useCase } from '../usecase/use-case.js';

const named = (regionId: string, names: unknown) =>
  Array.isArray(names) ? [...new Set(names)].map((n) => ref.keyPair(regionId, n)) : [];

export function keyPairUseCases(svc: KeyPairService) {
  return {
    create: useCase({
      action: 'keypair:Create',
      access: 'policy',
      mutates: true,
      names: (_c, input: KeyPairInput & { type?: GeneratedKeyType; escrow?: boolean }) => [
        ref.keyPair(input.regionId, input.name, input.resourceGroupId),
      ],
      run: svc.create,
    }),
    import: useCase({
      action: 'keypair:Import',
      access: 'policy',
      mutates: true,
      names: (_c, input: KeyPairInput & { publicKey: string; privateKey?: string }) => [
        ref.keyPair(input.regionId, input.name, input.resourceGroupId),
      ],
      run: svc.import,
    }),
    list: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      names: (_c, q: KeyPairQuery) => [ref.keyPair(q.regionId, '*')],
      run: svc.list,
    }),
    get: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      names: (_c, regionId: string, name: string) => [ref.keyPair(regionId, name)],
      run: svc.get,
    }),
    updateDescription: useCase({
      action: 'keypair:Update',
      access: 'policy',
      mutates: true,
      names: (_c, regionId: string, name: string, _description: string) => [ref.keyPair(regionId, name)],
      run: svc.updateDescription,
    }),
    delete: useCase({
      action: 'keypair:Delete',
      access: 'policy',
      mutates: true,
      names: (_c, regionId: string, names: string[]) => named(regionId, names),
      run: svc.delete,
    }),
    exportPrivateKey: useCase({
      action: 'keypair:ExportPrivateKey',
      access: 'policy',
      mutates: true,
      names: (_c, regionId: string, name: string) => [ref.keyPair(regionId, name)],
      run: svc.exportPrivateKey,
    }),
    importPrivateKey: useCase({
      action: 'keypair:ImportPrivateKey',
      access: 'policy',
      mutates: true,
      names: (_c, regionId: string, name: string, _privateKey: string) => [ref.keyPair(regionId, name)],
      run: svc.importPrivateKey,
    }),
    clearPrivateKey: useCase({
      action: 'keypair:ClearPrivateKey',
      access: 'policy',
      mutates: true,
      names: (_c, regionId: string, name: string) => [ref.keyPair(regionId, name)],
      run: svc.clearPrivateKey,
    }),
  };
}
