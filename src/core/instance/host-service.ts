/**
 * Registered real hosts (ADR 9): existing Linux machines reached over SSH become instances with backend 'host'.
 * keyfleet does not power them; it manages one login user's authorized_keys block and its sshd drop-in, through the
 * same bind/unbind tasks as the simulated fleet. The host key is given up front or pinned on first contact (TOFU)
 * and returned so the user can compare it; the management private key, if given, is sealed by the SecretBox.
 *
 * Registration is per account (issue 18): the address is put in canonical form (common/address.ts) before any check
 * or store, and is unique per account and port only, so whether another account holds it never changes the answer;
 * every failure of the first contact before the host shows its key is one answer at one time, so registration is
 * no port scanner; the operator's allowlist of networks (KEYFLEET_HOST_NETWORKS) is checked before any contact.
 */
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError, isCoreError } from '../errors.js';
import { SSHD_DROP_IN_PATH } from '../binding/sshd-drop-in.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { HostKeyPolicy, LiveAccess, Logger, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import { type HostAccess, type Instance, type PasswordLoginPolicy, validateInstanceName } from './instance.js';
import { type HostAddress, inNetwork, type Network, normalizeHostAddress, parseNetwork } from '../../common/address.js';
import {
  HOST_ADDRESS,
  HOST_COMMAND_MAX,
  HOST_KEY_FINGERPRINT,
  isPort,
  isSafeAbsolutePath,
  LINUX_USER,
} from '../../common/names.js';

export const DEFAULT_RELOAD_COMMAND = 'systemctl reload ssh';
export const DEFAULT_VALIDATE_COMMAND = 'sshd -t';

export interface HostServiceDeps {
  store: Store;
  live: LiveAccess;
  keys: KeyMaterial;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  liveTimeoutMs: number;
  /** Where the detail of a failed first contact goes (the caller is only told it failed). */
  logger?: Logger;
  /**
   * The networks hosts may be registered in, as CIDRs (KEYFLEET_HOST_NETWORKS); absent or empty: any address.
   * When set, a host is registered by IP address only: a name could resolve anywhere.
   */
  hostNetworks?: readonly string[];
}

export interface RegisterHostInput {
  regionId: string;
  name: string;
  address: string;
  port?: number;
  /** The user whose authorized_keys keyfleet manages (root or any user). */
  loginUser: string;
  homeDir?: string;
  /** Root's authorized_keys file, when sshd reads it elsewhere than /root/.ssh/authorized_keys (revocations scan it). */
  rootKeysFile?: string;
  /** The user keyfleet logs in as to make changes; default: the login user. */
  managementUser?: string;
  /** An unencrypted private key keyfleet keeps sealed and logs in with; without it each operation needs a credential. */
  managementPrivateKey?: string;
  /** The host key fingerprint given up front ('SHA256:…'); without it the key seen on first contact is pinned. */
  hostKeySha256?: string;
  dropInPath?: string;
  reloadCommand?: string;
  validateCommand?: string;
  /** Whether keyfleet turns password login off/on with the key (default 'managed'); see HostAccess. */
  passwordLogin?: PasswordLoginPolicy;
  /** Run file operations and commands through `sudo -n` (management user is not root). */
  sudo?: boolean;
  resourceGroupId?: string;
  description?: string;
}

export interface RegisteredHost {
  instance: Instance;
  hostKeySha256: string;
  /** True when the host key was pinned on first contact rather than given: show it to the user. */
  pinnedOnFirstUse: boolean;
}

/** The SecretBox context of a host's management key: a sealed key cannot be moved to another instance. */
export function managementKeyContext(instanceId: string): string {
  return `host-management:${instanceId}`;
}

const USER = LINUX_USER;
const HOST_KEY = HOST_KEY_FINGERPRINT;

/** A host key fingerprint given to pin, as `ssh-keygen -l` prints it. */
function checkHostKeyFingerprint(value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || !HOST_KEY.test(value))) {
    throw invalid(
      'hostKeySha256',
      "The host key fingerprint must look like 'SHA256:' followed by 43 base64 characters, as ssh-keygen -l prints it.",
    );
  }
}

function invalid(parameter: string, message: string): CoreError {
  return new CoreError('Input.Invalid', message, { parameter });
}

function absolutePath(value: string | undefined, parameter: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isSafeAbsolutePath(value)) {
    throw invalid(
      parameter,
      `'${String(value).slice(0, 80)}' is not a valid absolute path (no spaces, quotes or '..').`,
    );
  }
  return value.replace(/\/+$/, '') || '/';
}

function command(value: string | undefined, parameter: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '' || value.length > HOST_COMMAND_MAX || /[\r\n]/.test(value)) {
    throw invalid(parameter, `The ${parameter} must be one line of at most ${HOST_COMMAND_MAX} characters.`);
  }
  return value.trim();
}

/**
 * The answer to every failure of a first contact before the host has shown an SSH host key that keyfleet accepts:
 * refused, filtered, timed out, not SSH, handshake broken. One code and one message, so a registration cannot tell
 * a closed port from an open one (it would scan every network keyfleet reaches); the detail is logged.
 */
function unverified(address: string, port: number): CoreError {
  return new CoreError(
    'Live.Unreachable',
    `Could not verify an SSH host at ${address}:${port}; nothing was registered.`,
    { host: address, port },
  );
}

/** Failures that come after the host showed its key (so after it proved it is an SSH server): told as they are. */
const AFTER_HOST_KEY: ReadonlySet<string> = new Set(['Live.HostKeyChanged', 'Live.CredentialRejected']);

/** The allowlist from its setting, checked once when the service is made (the config checked it already). */
function networksOf(cidrs: readonly string[] | undefined): Network[] | null {
  if (!cidrs || cidrs.length === 0) return null;
  return cidrs.map((cidr) => {
    const network = parseNetwork(cidr);
    if (!network) throw new Error(`'${cidr}' is not a network (address/prefix).`);
    return network;
  });
}

export function createHostService(deps: HostServiceDeps) {
  const { store, live, keys, secrets, clock, ids, regions } = deps;
  const networks = networksOf(deps.hostNetworks);

  /** The address as stored and compared (common/address.ts), inside the operator's networks; else Input.Invalid. */
  function hostAddress(value: unknown): HostAddress {
    const address = typeof value === 'string' && HOST_ADDRESS.test(value) ? normalizeHostAddress(value) : null;
    if (!address)
      throw invalid(
        'address',
        `'${String(value).slice(0, 80)}' is not a valid host address (an IPv4 or IPv6 address, or a host name).`,
      );
    if (networks && address.kind === 'hostname')
      throw invalid(
        'address',
        `Hosts are registered by IP address here: '${address.text}' is a name, and a name could lead anywhere.`,
      );
    if (networks && !networks.some((n) => inNetwork(address, n)))
      throw invalid('address', `${address.text} is outside the networks hosts may be registered in.`);
    return address;
  }

  /** Whether the account already has an instance at this address and port (addresses compared in canonical form). */
  async function registeredInAccount(accountId: string, address: string, port: number): Promise<boolean> {
    const same = await store.instances.list({ accountId, search: address, offset: 0, limit: 1000 });
    return same.items.some(
      (i) => i.sshPort === port && (normalizeHostAddress(i.address)?.text ?? i.address.toLowerCase()) === address,
    );
  }

  function alreadyRegistered(address: string, port: number): CoreError {
    return new CoreError(
      'Instance.AlreadyRegistered',
      `${address}:${port} is already an instance; delete that registration first.`,
      { host: address, port },
    );
  }

  /**
   * The first contact, whose failures before the host key are all `unverified` and answered no sooner than the live
   * timeout after the contact began: a refused port would otherwise answer at once and a filtered one only then.
   */
  async function firstContact<T>(address: string, port: number, contact: () => Promise<T>): Promise<T> {
    const started = clock.now().getTime();
    try {
      return await contact();
    } catch (err) {
      if (isCoreError(err) && AFTER_HOST_KEY.has(err.code)) throw err;
      deps.logger?.warn('host registration: first contact failed', {
        host: address,
        port,
        code: isCoreError(err) ? err.code : 'unexpected',
        detail: err instanceof Error ? err.message : String(err),
      });
      const left = deps.liveTimeoutMs - (clock.now().getTime() - started);
      if (left > 0) await clock.sleep(left);
      throw unverified(address, port);
    }
  }

  /**
   * Checks a registration's input without contacting anything or reading the store (an inventory import checks
   * every row this way before it makes its task); throws the first problem. The management key is checked only
   * when `checkKey` (an import checks its one key once).
   */
  function validate(input: RegisterHostInput, checkKey = true) {
    const region: Region = requireRegion(regions, input.regionId);
    const name = validateInstanceName(input.name);
    const address = hostAddress(input.address).text;
    const port = input.port ?? 22;
    if (!isPort(port)) throw invalid('port', `The SSH port '${String(port)}' is not valid.`);
    if (typeof input.loginUser !== 'string' || !USER.test(input.loginUser))
      throw invalid('loginUser', `'${String(input.loginUser).slice(0, 40)}' is not a valid user name.`);
    const managementUser = input.managementUser ?? input.loginUser;
    if (typeof managementUser !== 'string' || !USER.test(managementUser))
      throw invalid('managementUser', `'${String(managementUser).slice(0, 40)}' is not a valid user name.`);
    checkHostKeyFingerprint(input.hostKeySha256);
    const homeDir =
      absolutePath(input.homeDir, 'homeDir') ?? (input.loginUser === 'root' ? '/root' : `/home/${input.loginUser}`);
    const dropInPath = absolutePath(input.dropInPath, 'dropInPath') ?? SSHD_DROP_IN_PATH;
    const rootKeysFile = absolutePath(input.rootKeysFile, 'rootKeysFile');
    const reloadCommand = command(input.reloadCommand, 'reloadCommand', DEFAULT_RELOAD_COMMAND);
    const validateCommand = command(input.validateCommand, 'validateCommand', DEFAULT_VALIDATE_COMMAND);
    const passwordLogin = input.passwordLogin ?? 'managed';
    if (passwordLogin !== 'managed' && passwordLogin !== 'unmanaged')
      throw invalid('passwordLogin', "passwordLogin must be 'managed' or 'unmanaged'.");
    const sudo = input.sudo ?? false;
    if (typeof sudo !== 'boolean') throw invalid('sudo', 'sudo must be true or false.');
    // Throws PrivateKey.Malformed (never quoting the key) before anything is contacted or stored.
    if (checkKey && input.managementPrivateKey !== undefined) keys.publicKeyOf(input.managementPrivateKey);
    const access: Omit<HostAccess, 'sealedManagementKey'> = {
      homeDir,
      ...(rootKeysFile ? { rootKeysFile } : {}),
      dropInPath,
      reloadCommand,
      validateCommand,
      managementUser,
      passwordLogin,
      sudo,
    };
    return { region, name, address, port, access };
  }

  /**
   * Registration up to storing: the input checked, the address not yet an instance, the host contacted once (host
   * key checked or pinned, management key tried by a login) and the instance made, with its management key sealed
   * under its id (`id`: one chosen by the caller, else a new one). Nothing is stored: the caller inserts it.
   */
  async function prepare(caller: Caller, input: RegisterHostInput, id = ids.next('i-', 20)): Promise<RegisteredHost> {
    const { region, name, address, port, access } = validate(input);
    const { managementUser } = access;
    const groups = await store.accounts.listResourceGroups(caller.accountId);
    const group = input.resourceGroupId
      ? groups.find((g) => g.id === input.resourceGroupId)
      : (groups.find((g) => g.name === 'default') ?? groups[0]);
    if (!group)
      throw new CoreError(
        'ResourceGroup.NotFound',
        `The resource group '${String(input.resourceGroupId)}' does not exist.`,
        { resourceGroupId: String(input.resourceGroupId) },
      );

    // A host is registered once per account, on its canonical address. Other accounts are not looked at: whether
    // they hold this address must not change the answer (issue 18); each keeps its own record, and still needs the
    // host's own credentials to change anything on it.
    if (await registeredInAccount(caller.accountId, address, port)) throw alreadyRegistered(address, port);

    // First contact: the host key is checked against the one given, or pinned as seen (TOFU).
    const target = { host: address, port, username: managementUser };
    const given: HostKeyPolicy = input.hostKeySha256
      ? { kind: 'pinned', sha256: input.hostKeySha256 }
      : { kind: 'trust-on-first-use' };
    const opts = { timeoutMs: deps.liveTimeoutMs };
    let hostKeySha256: string;
    if (input.managementPrivateKey !== undefined) {
      const privateKey = input.managementPrivateKey;
      const login = await firstContact(address, port, () =>
        live.tryLogin(target, { kind: 'privateKey', privateKey }, given, opts),
      );
      if (!login.ok) {
        throw new CoreError(
          'Live.CredentialRejected',
          `${address}:${port} refused the management key for '${managementUser}'; nothing was registered.`,
          { host: address },
        );
      }
      hostKeySha256 = login.hostKeySha256;
    } else {
      hostKeySha256 = (await firstContact(address, port, () => live.probeLogin(target, given, null, opts)))
        .hostKeySha256;
    }

    const now = clock.now();
    const host: HostAccess = {
      ...access,
      sealedManagementKey:
        input.managementPrivateKey !== undefined
          ? secrets.seal(input.managementPrivateKey, managementKeyContext(id))
          : null,
    };
    const instance: Instance = {
      id,
      accountId: caller.accountId,
      regionId: region.id,
      zoneId: `${region.id}-a`,
      name,
      hostName: name,
      description: (input.description ?? '').slice(0, 256),
      imageId: 'host',
      instanceType: 'host',
      osType: 'linux',
      osName: 'Linux (registered host)',
      status: 'Running',
      backend: 'host',
      address,
      sshPort: port,
      loginUser: input.loginUser,
      resourceGroupId: group.id,
      tags: [],
      createdAt: now,
      keyPairId: null,
      keyPairName: null,
      desiredPublicKey: null,
      pendingPasswordHash: null,
      appliedPublicKey: null,
      // What the host does today is unknown until keyfleet changes it; the first bind or unbind sets it.
      appliedPasswordLogin: true,
      pendingRestart: false,
      hasPassword: true,
      hostKeySha256,
      // A registered host is never provisioned by keyfleet; it is Running from the start.
      startAfterProvision: false,
      updatedAt: now,
      host,
    };
    return { instance, hostKeySha256, pinnedOnFirstUse: input.hostKeySha256 === undefined };
  }

  async function register(caller: Caller, input: RegisterHostInput): Promise<RegisteredHost> {
    const registered = await prepare(caller, input);
    const { address, sshPort } = registered.instance;
    try {
      await store.transaction((tx) => tx.instances.insert(registered.instance));
    } catch (err) {
      // Two registrations of one address at once in one account: the unique index keeps one, the other is told so.
      if (await registeredInAccount(caller.accountId, address, sshPort)) throw alreadyRegistered(address, sshPort);
      throw err;
    }
    return registered;
  }

  /**
   * Changes how keyfleet reaches a registered host: re-pin its host key after a deliberate change (the new key given
   * up front and checked, or pinned as seen now and shown), replace or drop the management key, or change the
   * settings. The host is contacted when the key or the management key changes, so nothing unproven is stored.
   */
  async function update(caller: Caller, id: string, input: UpdateHostInput): Promise<UpdatedHost> {
    const inst = typeof id === 'string' ? await store.instances.get(caller.accountId, id) : null;
    if (!inst || inst.backend !== 'host' || !inst.host)
      throw new CoreError('Instance.NotFound', `The registered host '${String(id).slice(0, 80)}' does not exist.`, {
        instanceId: String(id).slice(0, 80),
      });
    if (input.hostKeySha256 !== undefined && input.repinHostKey)
      throw invalid('hostKeySha256', 'Give either the new host key fingerprint or repinHostKey, not both.');
    checkHostKeyFingerprint(input.hostKeySha256);
    const host: HostAccess = { ...inst.host };
    if (input.dropInPath !== undefined) host.dropInPath = absolutePath(input.dropInPath, 'dropInPath')!;
    if (input.reloadCommand !== undefined)
      host.reloadCommand = command(input.reloadCommand, 'reloadCommand', DEFAULT_RELOAD_COMMAND);
    if (input.validateCommand !== undefined)
      host.validateCommand = command(input.validateCommand, 'validateCommand', DEFAULT_VALIDATE_COMMAND);
    if (input.passwordLogin !== undefined) {
      if (input.passwordLogin !== 'managed' && input.passwordLogin !== 'unmanaged')
        throw invalid('passwordLogin', "passwordLogin must be 'managed' or 'unmanaged'.");
      host.passwordLogin = input.passwordLogin;
    }
    if (input.sudo !== undefined) {
      if (typeof input.sudo !== 'boolean') throw invalid('sudo', 'sudo must be true or false.');
      host.sudo = input.sudo;
    }
    if (typeof input.managementPrivateKey === 'string') keys.publicKeyOf(input.managementPrivateKey); // PrivateKey.Malformed, never quoting it

    // Contact the host when trust changes: a new pin, or a new management key that must really log in.
    const previous = inst.hostKeySha256;
    let hostKeySha256 = previous;
    const repin = input.hostKeySha256 !== undefined || input.repinHostKey === true;
    if (repin || typeof input.managementPrivateKey === 'string') {
      const policy: HostKeyPolicy =
        input.hostKeySha256 !== undefined
          ? { kind: 'pinned', sha256: input.hostKeySha256 }
          : input.repinHostKey
            ? { kind: 'trust-on-first-use' }
            : previous
              ? { kind: 'pinned', sha256: previous }
              : { kind: 'trust-on-first-use' };
      const target = { host: inst.address, port: inst.sshPort, username: host.managementUser };
      const opts = { timeoutMs: deps.liveTimeoutMs };
      const key =
        typeof input.managementPrivateKey === 'string'
          ? input.managementPrivateKey
          : host.sealedManagementKey
            ? secrets.open(host.sealedManagementKey, managementKeyContext(inst.id))
            : null;
      if (key !== null) {
        const login = await live.tryLogin(target, { kind: 'privateKey', privateKey: key }, policy, opts);
        if (!login.ok)
          throw new CoreError(
            'Live.CredentialRejected',
            `${inst.address}:${inst.sshPort} refused the management key for '${host.managementUser}'; nothing was changed.`,
            { host: inst.address },
          );
        hostKeySha256 = login.hostKeySha256;
      } else {
        hostKeySha256 = (await live.probeLogin(target, policy, null, opts)).hostKeySha256;
      }
    }
    if (typeof input.managementPrivateKey === 'string')
      host.sealedManagementKey = secrets.seal(input.managementPrivateKey, managementKeyContext(inst.id));
    else if (input.managementPrivateKey === null) host.sealedManagementKey = null;

    const updated: Instance = { ...inst, host, hostKeySha256, updatedAt: clock.now() };
    await store.transaction((tx) => tx.instances.update(updated));
    return {
      instance: updated,
      hostKeySha256: hostKeySha256 ?? '',
      previousHostKeySha256: previous,
      pinnedOnFirstUse: input.repinHostKey === true,
    };
  }

  return { register, update, validate, prepare };
}

export interface UpdateHostInput {
  /** The host's new key, checked against what it presents now. */
  hostKeySha256?: string;
  /** Pin the key the host presents now (trust on first use again), after a deliberate change; it is returned. */
  repinHostKey?: boolean;
  /** A new management key (tried by a real login first); null forgets the one held. */
  managementPrivateKey?: string | null;
  dropInPath?: string;
  reloadCommand?: string;
  validateCommand?: string;
  passwordLogin?: PasswordLoginPolicy;
  sudo?: boolean;
}

export interface UpdatedHost {
  instance: Instance;
  hostKeySha256: string;
  previousHostKeySha256: string | null;
  pinnedOnFirstUse: boolean;
}

export type HostService = ReturnType<typeof createHostService>;
