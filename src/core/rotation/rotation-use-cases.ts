/**
 * Rotations as faces call them. Starting, pausing, resuming and cancelling one needs keypair:Rotate on both key
 * pairs it names (A, replaced, and B, replacing it); each wave's items are then authorized one by one as any bind
 * is (keypair:Bind on the instance and B), so a rotation changes only the machines its user may bind. All four are
 * audited as `keypair:Rotate`, the permission they exercise (the entry names the rotation; the rotation itself keeps
 * who paused or cancelled it in its reason). Reading rotations is task:Describe, as
 * reading tasks is: a rotation is a task of tasks.
 */
import type { Caller } from '../caller.js';
import type { Store } from '../ports.js';
import { type Named, ref, useCase } from '../usecase/use-case.js';
import type { RotationRequest, RotationService } from './rotation-service.js';

export const ROTATE_ACTION = 'keypair:Rotate';

export function rotationUseCases(svc: RotationService, store: Store) {
  const pair = (regionId: string, from: unknown, to: unknown): Named => {
    const a = ref.keyPair(regionId, from);
    const b = ref.keyPair(regionId, to);
    return {
      refs: [a, b],
      checks: [{ action: 'keypair:Rotate', refs: [a, b] }],
    };
  };
  /** The stored rotation's key pairs; one that does not exist is named as given (and answered NotFound). */
  const ofRotation = async (c: Caller, id: unknown): Promise<Named> => {
    const r = typeof id === 'string' && id.length <= 64 ? await store.rotations.get(c.accountId, id) : null;
    if (!r) return { refs: [ref.task(id)], checks: [] };
    const named = pair(r.regionId, r.fromKeyPairName, r.toKeyPairName);
    return { ...named, refs: [...named.refs, ref.task(r.id, r.regionId)] };
  };
  const one = (_c: unknown, id: unknown) => [ref.task(id)];
  return {
    create: useCase({
      action: ROTATE_ACTION,
      access: 'policy',
      mutates: true,
      run: svc.create,
      names: (_c, req: RotationRequest) => pair(req.regionId, req.fromKeyPairName, req.toKeyPairName),
    }),
    pause: useCase({
      action: ROTATE_ACTION,
      access: 'policy',
      mutates: true,
      run: svc.pause,
      names: ofRotation,
    }),
    resume: useCase({
      action: ROTATE_ACTION,
      access: 'policy',
      mutates: true,
      run: svc.resume,
      names: ofRotation,
    }),
    cancel: useCase({
      action: ROTATE_ACTION,
      access: 'policy',
      mutates: true,
      run: svc.cancel,
      names: ofRotation,
    }),
    get: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.detail, names: one }),
    machines: useCase({ action: 'task:Describe', access: 'policy', mutates: false, run: svc.machines, names: one }),
    list: useCase({
      action: 'task:Describe',
      access: 'policy',
      mutates: false,
      run: svc.list,
      names: (_c, q) => [ref.task('*', q.regionId)],
    }),
  };
}
