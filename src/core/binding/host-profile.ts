/**
 * How keyfleet reaches one machine for a live change, and what it wants there: a simulated instance is managed as
 * its login user (root); a registered host through its management user (and sudo), with its own drop-in, reload
 * and validate commands and password-login policy (ADR 9).
 */
import { CoreError } from '../errors.js';
import type { Instance } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { HostKeyPolicy, LiveCredential } from '../ports.js';
import type { Task } from '../task/task.js';
import type { LiveHostProfile, LiveKeyState } from './live-apply.js';

export interface LivePlanInput {
  task: Task;
  instance: Instance;
  keyPair: KeyPair | null;
  /** The credential keyfleet logs in with: the request's, or the host's management key. */
  credential: LiveCredential;
  /** The host's opened management key, when it has one. */
  management: LiveCredential | undefined;
  keys: KeyMaterial;
  timeoutMs: number;
}

export function homeDirOf(loginUser: string): string {
  return loginUser === 'root' ? '/root' : `/home/${loginUser}`;
}

/** The profile and key state of a live change, or why it must not be made. */
export function planLiveChange(input: LivePlanInput): { profile: LiveHostProfile; desired: LiveKeyState } | CoreError {
  const { task, instance, keyPair, credential, management } = input;
  const desiredKey =
    task.kind === 'bind' && keyPair
      ? {
          keyPairName: keyPair.name,
          publicKey: keyPair.publicKey,
          expiresAt: task.options.expiresAt ? new Date(task.options.expiresAt) : null,
        }
      : null;
  const host = instance.host ?? null;
  const managesPassword = host?.passwordLogin !== 'unmanaged';
  if (host && managesPassword && credential.kind === 'password' && desiredKey !== null && !host.sealedManagementKey) {
    // Lock-out guard: password login off while keyfleet's only way in is a password.
    return new CoreError(
      'Live.LockoutRefused',
      `Binding would turn password login off on the registered host '${instance.id}', whose only management credential is a password; register a management key first. Nothing was changed.`,
      { instanceId: instance.id },
    );
  }
  const hostKey: HostKeyPolicy = instance.hostKeySha256
    ? { kind: 'pinned', sha256: instance.hostKeySha256 }
    : { kind: 'trust-on-first-use' };
  const removed =
    instance.appliedPublicKey && instance.appliedPublicKey !== desiredKey?.publicKey ? instance.appliedPublicKey : null;
  // Lock-out guard: only when keyfleet logs in with its management key as the managed user itself.
  const guardsManagementKey =
    host &&
    management?.kind === 'privateKey' &&
    credential === management &&
    host.managementUser === instance.loginUser;
  const profile: LiveHostProfile = {
    target: {
      host: instance.address,
      port: task.options.port ?? instance.sshPort,
      username: host?.managementUser ?? instance.loginUser,
    },
    loginUser: instance.loginUser,
    sudo: host?.sudo === true,
    hostKey,
    homeDir: host?.homeDir ?? homeDirOf(instance.loginUser),
    ...(host
      ? { dropInPath: host.dropInPath, reloadCommand: host.reloadCommand, validateCommand: host.validateCommand }
      : {}),
    managementPublicKey: guardsManagementKey ? input.keys.publicKeyOf(management.privateKey) : null,
    removedPublicKey: removed,
    timeoutMs: input.timeoutMs,
  };
  return { profile, desired: { key: desiredKey, passwordLogin: managesPassword ? desiredKey === null : null } };
}

/**
 * How keyfleet reaches a machine only to ask it what it does (publickey queries and the offered methods, no
 * credential): the same address, user and pinned host key as a live change to it (a re-observation, ADR 26).
 */
export function probeProfile(instance: Instance, port: number | null, timeoutMs: number): LiveHostProfile {
  const host = instance.host ?? null;
  return {
    target: {
      host: instance.address,
      port: port ?? instance.sshPort,
      username: host?.managementUser ?? instance.loginUser,
    },
    loginUser: instance.loginUser,
    sudo: host?.sudo === true,
    hostKey: instance.hostKeySha256
      ? { kind: 'pinned', sha256: instance.hostKeySha256 }
      : { kind: 'trust-on-first-use' },
    homeDir: host?.homeDir ?? homeDirOf(instance.loginUser),
    managementPublicKey: null,
    removedPublicKey: null,
    timeoutMs,
  };
}
