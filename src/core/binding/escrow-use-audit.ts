/**
 * The audit entry that says keyfleet logged in to a machine with an escrowed private key. A live unbind or replace
 * sent without a credential uses the private key kept for the key pair bound now (as Huawei's KPS does); the owner
 * of that key must be able to find every such use: action `keypair:UseEscrowedPrivateKey`, naming the key pair
 * and the instance, with the task and request that caused it, and the submitter as the user. It is written before
 * the login, so it is there whether or not the change then succeeds; the task's outcome entries say how it ended.
 */
import { resourceNames } from '../audit/auditor.js';
import type { Face } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { Instance } from '../instance/instance.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { Store } from '../ports.js';
import { ref } from '../usecase/use-case.js';
import type { ItemRun } from './item-record.js';

export const ESCROW_USE_ACTION = 'keypair:UseEscrowedPrivateKey';

export function createEscrowUseAudit(deps: { store: Pick<Store, 'audit'>; ids: IdGen; clock: Clock }) {
  return async function escrowUsed(run: ItemRun, inst: Instance, keyPair: KeyPair): Promise<void> {
    const { task, caller } = run;
    await deps.store.audit.append({
      id: deps.ids.next('ev-', 20),
      at: deps.clock.now(),
      accountId: task.accountId,
      userId: task.createdBy,
      userName: task.submitter?.userName ?? caller.userName,
      accessKeyId: task.submitter?.accessKeyId ?? null,
      sessionId: task.submitter?.sessionId ?? null,
      face: task.face as Face,
      sourceIp: task.submitter?.sourceIp ?? '',
      action: ESCROW_USE_ACTION,
      resources: resourceNames(task.accountId, [
        ref.keyPair(keyPair.regionId, keyPair.name, keyPair.resourceGroupId),
        ref.instance(inst.regionId, inst.id, inst.resourceGroupId),
      ]),
      requestId: task.requestId,
      result: 'success',
      errorCode: null,
      taskId: task.id,
      stage: 'outcome',
      detail: `The ${task.options.dryRun ? 'dry run of a ' : ''}live ${task.kind} gave no credential: keyfleet logged in to '${inst.id}' with the escrowed private key of key pair '${keyPair.name}'.`,
    });
  };
}
