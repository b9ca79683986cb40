/**
 * Custody of the credentials a live task uses: the one sent with the request (root password or private key) and
 * the management keys of registered hosts, opened from their seals. Memory only, held from submission until the
 * task ends, then dropped (ADR 3); nothing here is ever stored, logged or put in an error.
 */
import { managementKeyContext } from '../instance/host-service.js';
import type { Instance } from '../instance/instance.js';
import type { LiveCredential, SecretBox } from '../ports.js';

export type KeyCredential = { kind: 'privateKey'; privateKey: string };

export function createCredentialCustody(secrets: SecretBox) {
  const given = new Map<string, LiveCredential>();
  /**
   * Opened management keys by task, then by key text: every host of a task that shares a management key gets the
   * same credential object, so the SSH adapter decodes that key once per task, not once per host (it caches by
   * credential object).
   */
  const management = new Map<string, Map<string, KeyCredential>>();

  return {
    /** Holds the credential sent with a task's request. */
    hold(taskId: string, credential: LiveCredential | undefined): void {
      if (credential) given.set(taskId, credential);
    },
    /** The credential sent with the task, if it is still held. */
    given(taskId: string): LiveCredential | undefined {
      return given.get(taskId);
    },
    /** The management key of a registered host, opened from the SecretBox; one object per key and task. */
    managementKey(taskId: string, inst: Instance): KeyCredential | undefined {
      const sealed = inst.host?.sealedManagementKey;
      if (!sealed) return undefined;
      const privateKey = secrets.open(sealed, managementKeyContext(inst.id));
      let byKey = management.get(taskId);
      if (!byKey) management.set(taskId, (byKey = new Map()));
      let credential = byKey.get(privateKey);
      if (!credential) byKey.set(privateKey, (credential = { kind: 'privateKey', privateKey }));
      return credential;
    },
    /** Called when the task ends, however it ended. */
    release(taskId: string): void {
      given.delete(taskId);
      management.delete(taskId);
    },
    holds(taskId: string): boolean {
      return given.has(taskId) || management.has(taskId);
    },
  };
}

export type CredentialCustody = ReturnType<typeof createCredentialCustody>;
