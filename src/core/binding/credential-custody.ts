/**
 * Custody of the credentials a live task uses: the one sent with the request (root password or private key) and
 * the management keys of registered hosts, opened from their seals.
 *
 * The request's credential is sealed by the SecretBox (envelope encryption with the key-encryption key, as escrow
 * is) and stored with the task when it is submitted, in the same transaction, so that a restarted keyfleet, or
 * another process sharing the store, can finish the task. The store wipes it in the transaction that marks the
 * task finished, and when the task is deleted (ADR 3). In memory it is held, opened, while this process runs the
 * task. It is never logged, audited or put in an error.
 *
 * A request with no credential on a machine with no management key falls back on escrow (as Huawei's KPS does): the
 * private key of the key pair bound to the machine now, if its owner chose to have it kept. It is opened from its
 * seal for the one item that needs it and not held: the seal stays the key pair's, and clearing the escrow stops
 * every later use, even by a task already running.
 */
import { managementKeyContext } from '../instance/host-service.js';
import { escrowContext } from '../keypair/keypair-service.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { Instance } from '../instance/instance.js';
import type { LiveCredential, SecretBox, Store } from '../ports.js';
import { fingerprints } from '../keypair/public-key.js';

/** The base64 key blob of an OpenSSH public key line (its second field), or null. */
function keyBlob(line: string): string | null {
  return line.trim().split(/\s+/)[1] ?? null;
}

/** Whether two public key lines hold the same key (the comment aside). */
function sameKey(a: string, b: string): boolean {
  const blob = keyBlob(a);
  return blob !== null && blob === keyBlob(b);
}

export type KeyCredential = { kind: 'privateKey'; privateKey: string };

/** The SecretBox context of a task's credential: a seal opens only for the task it was made for. */
export function taskCredentialContext(taskId: string): string {
  return `task-credential:${taskId}`;
}

export function createCredentialCustody(store: Store, secrets: SecretBox) {
  /** Opened credentials by task (undefined: the task has none); a promise so concurrent items read the store once. */
  const given = new Map<string, Promise<LiveCredential | undefined>>();
  /**
   * Opened management keys by task, then by key text: every host of a task that shares a management key gets the
   * same credential object, so the SSH adapter decodes that key once per task, not once per host (it caches by
   * credential object).
   */
  const management = new Map<string, Map<string, KeyCredential>>();

  function open(taskId: string, sealed: string): LiveCredential | undefined {
    const value = JSON.parse(secrets.open(sealed, taskCredentialContext(taskId))) as Partial<LiveCredential>;
    if (value.kind === 'password' && typeof value.password === 'string')
      return { kind: 'password', password: value.password };
    if (value.kind === 'privateKey' && typeof value.privateKey === 'string')
      return { kind: 'privateKey', privateKey: value.privateKey };
    return undefined;
  }

  /**
   * The key pair the machine accepts now. Usually the one recorded (keyPairId); while a change waits for a restart
   * the record already names the new key pair but the machine still has the earlier one's key (appliedPublicKey),
   * so that key pair is found by its fingerprint: the recorded one's private key would not log in.
   */
  async function keyPairOnMachine(inst: Instance): Promise<KeyPair | null> {
    const onMachine = inst.appliedPublicKey;
    if (!onMachine) return null;
    if (inst.keyPairId) {
      const recorded = await store.keyPairs.getById(inst.accountId, inst.keyPairId);
      if (recorded && sameKey(recorded.publicKey, onMachine)) return recorded;
    }
    const blob = keyBlob(onMachine);
    if (!blob) return null;
    const page = await store.keyPairs.list({
      accountId: inst.accountId,
      regionId: inst.regionId,
      fingerprint: fingerprints(Buffer.from(blob, 'base64')).sha256,
      offset: 0,
      limit: 20,
    });
    // Several key pairs may hold the same public key (imported twice): any one whose private key is kept will do.
    const same = page.items.filter((k) => sameKey(k.publicKey, onMachine));
    return same.find((k) => k.escrowedPrivateKey) ?? same[0] ?? null;
  }

  return {
    /** The sealed form of a task's credential, to store with the task; the opened one is held for this process. */
    seal(taskId: string, credential: LiveCredential | undefined): string | undefined {
      if (!credential) return undefined;
      given.set(taskId, Promise.resolve(credential));
      return secrets.seal(JSON.stringify(credential), taskCredentialContext(taskId));
    },
    /** The credential sent with the task: held here, or opened from the store after a restart or in another process. */
    given(taskId: string): Promise<LiveCredential | undefined> {
      let held = given.get(taskId);
      if (!held) {
        held = store.tasks.credential(taskId).then((sealed) => (sealed ? open(taskId, sealed) : undefined));
        given.set(taskId, held);
        // A failed read is not remembered: the next item asks the store again.
        held.catch(() => given.delete(taskId));
      }
      return held;
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
    /**
     * The escrowed private key of the key pair whose public key the machine has now (what its authorized_keys
     * accepts), opened, with that key pair; undefined when the machine has no key from keyfleet or that key pair's
     * private key is not kept.
     */
    async escrowedKey(inst: Instance): Promise<{ credential: KeyCredential; keyPair: KeyPair } | undefined> {
      const kp = await keyPairOnMachine(inst);
      if (!kp?.escrowedPrivateKey) return undefined;
      return {
        credential: { kind: 'privateKey', privateKey: secrets.open(kp.escrowedPrivateKey, escrowContext(kp)) },
        keyPair: kp,
      };
    },
    /** Called when the task ends, however it ended: drops what this process holds (the store wiped its seal). */
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
