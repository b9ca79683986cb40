import type { BootConfig } from '../ports.js';
import type { Instance } from './instance.js';

/** The product rule: a bound key pair turns password login off; no key pair turns the password method back on. */
export function desiredPasswordLogin(instance: Pick<Instance, 'desiredPublicKey'>): boolean {
  return instance.desiredPublicKey === null;
}

/** What the machine must apply at its next boot, as cloud-init would from the instance's metadata. */
export function bootConfigOf(instance: Instance): BootConfig {
  return {
    publicKey: instance.desiredPublicKey,
    keyPairName: instance.keyPairName,
    passwordLogin: desiredPasswordLogin(instance),
    newPasswordHash: instance.pendingPasswordHash,
    keyExpiresAt: instance.desiredPublicKey ? (instance.keyExpiresAt ?? null) : null,
  };
}

/** True while what the API says differs from what the machine has. */
export function isRestartPending(instance: Instance): boolean {
  return (
    instance.desiredPublicKey !== instance.appliedPublicKey ||
    (instance.desiredPublicKey !== null &&
      (instance.keyExpiresAt?.getTime() ?? null) !== (instance.appliedKeyExpiresAt?.getTime() ?? null)) ||
    desiredPasswordLogin(instance) !== instance.appliedPasswordLogin ||
    instance.pendingPasswordHash !== null
  );
}

/** Records that the machine now runs with `config`; returns the updated instance. */
export function withApplied(instance: Instance, config: BootConfig): Instance {
  const next: Instance = {
    ...instance,
    appliedPublicKey: config.publicKey,
    appliedKeyExpiresAt: config.keyExpiresAt ?? null,
    appliedPasswordLogin: config.passwordLogin,
    pendingPasswordHash: instance.pendingPasswordHash === config.newPasswordHash ? null : instance.pendingPasswordHash,
  };
  next.pendingRestart = isRestartPending(next);
  return next;
}
