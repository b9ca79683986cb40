/**
 * Extending a binding's expiry (issue 19), as faces call it. An extension is a bind of the key pair the instance
 * has, with the new expiry, in the mode the binding was made in: live rewrites the machine's line now (and proves
 * it), on-restart records it for the next start (until then the machine keeps the old expiry and refuses the key
 * after it; the record shows the extension as pending). It needs keypair:Bind on the instance and the key pair.
 * Ending a binding early is an unbind, with its proof, as ever.
 */
import type { Caller } from '../caller.js';
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import type { LiveCredential, Store } from '../ports.js';
import type { TaskService } from '../task/task-service.js';
import type { Task } from '../task/task.js';
import { ref, useCase } from '../usecase/use-case.js';
import type { BindingModule } from './binding-module.js';
import { requestedExpiry } from './expiry.js';

export interface ExtendExpiryRequest {
  /** When given, the instance must be in this region (the native API names the instance alone). */
  regionId?: string;
  instanceId: string;
  expiresAt?: unknown;
  expiresIn?: unknown;
  /** A live extension of a simulated instance logs in with it (the bound key's private key or the root password). */
  credential?: LiveCredential;
}

export function expiryUseCases(binding: BindingModule, tasks: TaskService, store: Store, clock: Clock) {
  async function extend(caller: Caller, req: ExtendExpiryRequest): Promise<Task> {
    const inst = await store.instances.get(caller.accountId, req.instanceId);
    if (!inst || (req.regionId !== undefined && inst.regionId !== req.regionId)) throw instanceNotFound(req.instanceId);
    if (!inst.keyPairName)
      throw new CoreError(
        'Binding.NotBound',
        `The instance '${inst.id}' has no key pair bound; bind one with an expiry.`,
        {
          instanceId: inst.id,
        },
      );
    const now = clock.now();
    if (inst.keyExpiresAt && inst.keyExpiresAt.getTime() <= now.getTime())
      throw new CoreError(
        'Binding.Expired',
        `The binding of key pair '${inst.keyPairName}' on '${inst.id}' expired at ${inst.keyExpiresAt.toISOString()} and is being unbound; bind it again.`,
        { instanceId: inst.id },
      );
    if (req.expiresAt === undefined && req.expiresIn === undefined)
      throw new CoreError('Input.Missing', 'Give the new expiry: expiresAt or expiresIn.', { parameter: 'expiresAt' });
    const expiresAt = requestedExpiry(req, now)!;
    const mode = inst.bindingMode ?? (inst.backend === 'host' ? 'live' : 'on-restart');
    if (mode === 'live' && inst.backend !== 'host' && inst.status === 'Running' && !req.credential)
      throw new CoreError(
        'Live.CredentialRequired',
        `The binding on '${inst.id}' was made live, so its line is rewritten live: give a credential (the private key of key pair '${inst.keyPairName}' or the root password).`,
        { instanceId: inst.id, parameter: 'credential' },
      );
    return binding.submit(caller, {
      regionId: inst.regionId,
      kind: 'bind',
      keyPairName: inst.keyPairName,
      instanceIds: [inst.id],
      mode,
      ...(req.credential ? { credential: req.credential } : {}),
      options: { flavour: 'bind' },
      expiresAt: expiresAt.toISOString(),
      maxBatch: 1,
    });
  }

  const names = async (c: Caller, req: ExtendExpiryRequest) => {
    const inst = typeof req.instanceId === 'string' ? await store.instances.get(c.accountId, req.instanceId) : null;
    const found = inst && (req.regionId === undefined || inst.regionId === req.regionId) ? inst : null;
    const instRef = found
      ? ref.instance(found.regionId, found.id, found.resourceGroupId)
      : ref.instance(req.regionId, req.instanceId);
    const kp = found?.keyPairName ? await store.keyPairs.get(c.accountId, found.regionId, found.keyPairName) : null;
    const refs = [instRef, ...(kp ? [ref.keyPair(kp.regionId, kp.name, kp.resourceGroupId)] : [])];
    return { refs, checks: [{ action: 'keypair:Bind' as const, refs }] };
  };
  return {
    extendExpiry: useCase({
      action: 'keypair:Bind',
      access: 'policy',
      mutates: true,
      run: extend,
      names,
      taskOf: (task) => task.id,
    }),
    /** Extends, then answers when the task has ended (the native API's wait=true). */
    extendExpiryAndWait: useCase({
      action: 'keypair:Bind',
      access: 'policy',
      mutates: true,
      run: async (caller: Caller, req: ExtendExpiryRequest) => tasks.finished(await extend(caller, req)),
      names,
      taskOf: (done) => done.task.id,
    }),
  };
}
