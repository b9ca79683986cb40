import { CoreError } from '../errors.js';
import type { Tag } from '../keypair/keypair.js';
import {
  INSTANCE_PASSWORD_MAX,
  INSTANCE_PASSWORD_MIN,
  INSTANCE_PASSWORD_SPECIALS,
  instancePasswordClasses,
  isInstanceName,
  usesOnlyInstancePasswordCharacters,
} from '../../common/names.js';

export type InstanceStatus = 'Pending' | 'Starting' | 'Running' | 'Stopping' | 'Stopped';
export type OsType = 'linux' | 'windows';
/** Which compute backend owns the machine: the simulated fleet, or a real host reached over SSH. */
export type BackendKind = 'sim' | 'host';

export interface Image {
  id: string;
  name: string;
  osType: OsType;
  osName: string;
  description: string;
}

export interface InstanceType {
  id: string;
  cpu: number;
  memoryGiB: number;
  /** Generation I types without I/O optimisation cannot take SSH key pairs (Alibaba's rule). */
  ioOptimized: boolean;
}

/**
 * Instance is a machine of the fleet. The key state is kept twice, as Nova keeps a copy of the key on the instance:
 * `desired*` is what the API says (DescribeInstances shows it at once), `applied*` is what the machine really
 * has. They differ while a change waits for the next start or restart (`pendingRestart`).
 */
export interface Instance {
  id: string;
  accountId: string;
  regionId: string;
  zoneId: string;
  name: string;
  hostName: string;
  description: string;
  imageId: string;
  instanceType: string;
  osType: OsType;
  osName: string;
  status: InstanceStatus;
  backend: BackendKind;
  address: string;
  sshPort: number;
  loginUser: string;
  resourceGroupId: string;
  tags: Tag[];
  createdAt: Date;
  /** Key pair bound by the API (null: none). */
  keyPairId: string | null;
  keyPairName: string | null;
  /** Snapshot of the public key bound, so a later change to the key pair record cannot change what a machine trusts. */
  desiredPublicKey: string | null;
  /** A new root password hash waiting for the next start (ModifyInstanceAttribute Password semantics). */
  pendingPasswordHash: string | null;
  /** What the machine has now. */
  appliedPublicKey: string | null;
  appliedPasswordLogin: boolean;
  /** True while the desired key state or password waits for a start or restart. */
  pendingRestart: boolean;
  /** Whether the machine has a root password at all (after unbind the user must reset it to log in). */
  hasPassword: boolean;
  /**
   * What a Pending machine does once its disk is ready: start (RunInstances) or rest Stopped (created with
   * start=false). Kept with the machine so a keyfleet restarted mid-provisioning finishes each one as asked.
   */
  startAfterProvision: boolean;
  /** Host key fingerprint pinned on first contact (real hosts) or known from the simulator. */
  hostKeySha256: string | null;
  /**
   * When a fresh login (a publickey probe and the methods offered) last proved that the machine does what the
   * applied key state says; null while unproven (a change waiting for a boot, a change interrupted and not yet
   * observed, a proof that failed), with `verification` saying why. Set to null whenever the key state changes.
   */
  verifiedAt?: Date | null;
  /** What the last proof showed ("key 'k' logs in; password login off"), or why the state is not verified. */
  verification?: string | null;
  updatedAt: Date;
  /** How keyfleet reaches and changes a registered real host (backend 'host'); absent for simulated machines. */
  host?: HostAccess | null;
  /**
   * When the binding recorded (keyPairId) ends, in whole seconds (issue 19); null/absent: it does not expire. The
   * line keyfleet writes carries it as OpenSSH's `expiry-time`, so the machine refuses the key after it on its own.
   */
  keyExpiresAt?: Date | null;
  /** The mode the binding was made in ('live' or 'on-restart'): an extension and the expiry's unbind follow it. */
  bindingMode?: 'live' | 'on-restart' | null;
  /** The expiry on the line the machine has now (differs from keyExpiresAt while an extension waits for a boot). */
  appliedKeyExpiresAt?: Date | null;
}

/** Where a real host keeps what keyfleet changes, and how keyfleet logs in to it (ADR 9). */
export interface HostAccess {
  /** Home directory of the login user whose authorized_keys keyfleet manages. */
  homeDir: string;
  /** Root's authorized_keys as this host's sshd reads it (issue 19: revocations look there); absent: /root/.ssh/authorized_keys. */
  rootKeysFile?: string | null;
  dropInPath: string;
  reloadCommand: string;
  /** Checks sshd's configuration before a reload (default `sshd -t`). */
  validateCommand: string;
  /** The user keyfleet logs in as to make changes (often the login user itself, or root). */
  managementUser: string;
  /** The management private key, sealed by the SecretBox (context `host-management:<instance id>`); null: a credential is given per operation. */
  sealedManagementKey: string | null;
  /**
   * 'managed' (default): binding turns password login off and unbinding turns it back on, through keyfleet's sshd
   * drop-in. 'unmanaged': keyfleet edits authorized_keys only and never touches sshd — for fleets whose password
   * policy is set elsewhere (turning password login back on at an unbind would weaken them).
   */
  passwordLogin: PasswordLoginPolicy;
  /**
   * Run every file operation and command on the host through `sudo -n` (a management user that is not root, with
   * passwordless sudo): reads, atomic writes with owner and mode, sshd -t and the reload.
   */
  sudo: boolean;
}

export type PasswordLoginPolicy = 'managed' | 'unmanaged';

export const TRANSITIONAL: readonly InstanceStatus[] = ['Pending', 'Starting', 'Stopping'];

/** Password rule of the ECS API: 8-30 characters with at least three of upper, lower, digit, special. */
const PASSWORD_SPECIALS = INSTANCE_PASSWORD_SPECIALS;

export function validatePassword(password: unknown, osType: OsType): string {
  if (
    typeof password !== 'string' ||
    password.length < INSTANCE_PASSWORD_MIN ||
    password.length > INSTANCE_PASSWORD_MAX
  ) {
    throw new CoreError('Instance.PasswordMalformed', 'The password must be 8 to 30 characters long.', {
      parameter: 'Password',
    });
  }
  const classes = instancePasswordClasses(password);
  const onlyAllowed = usesOnlyInstancePasswordCharacters(password);
  if (classes < 3 || !onlyAllowed || (osType === 'windows' && password.startsWith('/'))) {
    throw new CoreError(
      'Instance.PasswordMalformed',
      `The password must use at least three of: upper-case letters, lower-case letters, digits, and the special characters ${PASSWORD_SPECIALS}`,
      { parameter: 'Password' },
    );
  }
  return password;
}

export function validateInstanceName(name: unknown): string {
  if (typeof name !== 'string' || !isInstanceName(name)) {
    throw new CoreError(
      'Instance.NameMalformed',
      `The instance name '${String(name).slice(0, 64)}' is not valid: use 2-128 characters starting with a letter or digit.`,
      { parameter: 'InstanceName' },
    );
  }
  return name;
}

/** Why no instance of this image can take a key pair, or null if they can (the one rule, also for listings). */
export function imageKeyPairRefusal(image: Pick<Image, 'osType'>): string | null {
  return image.osType === 'windows' ? 'Windows, which cannot use an SSH key pair' : null;
}

/** Why no instance of this type can take a key pair, or null if they can (the one rule, also for listings). */
export function instanceTypeKeyPairRefusal(type: Pick<InstanceType, 'ioOptimized'> | undefined): string | null {
  return type?.ioOptimized === false ? 'non-I/O-optimized, which cannot use an SSH key pair' : null;
}

/** Why an instance cannot take a key pair, or null if it can. */
export function keyPairRefusal(instance: Instance, types: readonly InstanceType[]): CoreError | null {
  if (imageKeyPairRefusal(instance) !== null) {
    return new CoreError(
      'Instance.WindowsNotSupported',
      `The instance '${instance.id}' runs Windows, which cannot use an SSH key pair.`,
      { instanceId: instance.id },
    );
  }
  if (instanceTypeKeyPairRefusal(types.find((t) => t.id === instance.instanceType)) !== null) {
    return new CoreError(
      'Instance.NotIoOptimized',
      `The instance '${instance.id}' is a non-I/O-optimized type (${instance.instanceType}), which cannot use an SSH key pair.`,
      { instanceId: instance.id },
    );
  }
  return null;
}
