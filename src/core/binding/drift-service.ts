/**
 * Drift scan and repair of registered real hosts (issue 5; ADR 9) and of simulated instances (issue 16). A scan
 * reads authorized_keys and keyfleet's sshd drop-in and compares them with what keyfleet wrote (drift.ts says what
 * counts as drift); it never writes. A registered host is read over SSH with its sealed management key (host key
 * pinned). A simulated instance has no management key, so its backend reads its disk as a guest agent would
 * (drift-source.ts), and it is compared with its APPLIED key state (a change waiting for a restart is not drift).
 *
 * A repair scans the machines named, then submits a LIVE bind of the key pair each drifted machine has (or an
 * unbind where none is bound) through the ordinary task path, which rewrites only keyfleet's block and drop-in,
 * proves the result by a fresh login and keeps the lines outside the block. Hosts log in with their management
 * keys. Simulated instances are reached over SSH like any machine, with the credential given with the repair (the
 * bound key pair's private key, or the root password where none is bound), in tasks of their own so that
 * credential is never tried on a host. A live task was chosen over an on-restart one because an on-restart change
 * leaves the intruder's key working until somebody restarts the machine; a Stopped instance still takes it at its
 * next start (the live path does that by itself, without logging in). Without a credential a repair naming a
 * drifted simulated instance that is not Stopped is refused before anything is submitted.
 *
 * Authorization (drift-use-cases.ts): a scan needs instance:DescribeKeys (the keys a host really has say who can
 * log in). A repair is authorized up front, before any host is contacted, by the permission its task needs per
 * host — keypair:Bind on the host and its key pair, or keypair:Unbind on a host without one — and its tasks check
 * it again per item. A scan of "all hosts" leaves out the hosts a Deny hides (the one check made here).
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { ResourceRef } from '../authz/actions.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Caller } from '../caller.js';
import { CoreError, isCoreError } from '../errors.js';
import { instanceNotFound } from '../instance/instance-service.js';
import { managementKeyContext } from '../instance/host-service.js';
import { type Instance, TRANSITIONAL } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import { type Metrics, noMetrics } from '../metrics.js';
import type { LiveAccess, LiveCredential, Logger, RemoteFile, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import type { Task } from '../task/task.js';
import { type BindRequest, validateInstanceIds } from './bind-request.js';
import { compareDrift, type DriftFinding, type KeyLine } from './drift.js';
import type { DriftSource } from './drift-source.js';
import { homeDirOf } from './host-profile.js';
import { desiredLoginMethods, renderSshdDropIn, SSHD_DROP_IN_PATH } from './sshd-drop-in.js';

export interface DriftServiceDeps {
  store: Store;
  live: LiveAccess;
  secrets: SecretBox;
  keys: KeyMaterial;
  authz: Authorizer;
  regions: readonly Region[];
  logger: Logger;
  liveTimeoutMs: number;
  /** The binding module's submit (not through the gate again: the repair call is the audited one). */
  submit(caller: Caller, req: BindRequest): Promise<Task>;
  /** Hosts read at the same time by one scan (keyfleet passes its task concurrency, 64 by default). */
  concurrency?: number;
  /** Reads simulated instances' files; without it they are skipped by scans (and never repaired). */
  source?: DriftSource;
  /** Machines scanned by status and findings by code (default: none recorded). */
  metrics?: Metrics;
  /** Told each scan's results (the drift.found webhook event); absent: nothing is told. */
  onScanned?(accountId: string, regionId: string, results: HostDriftResult[]): Promise<void>;
}

export interface DriftScanInput {
  regionId: string;
  /** The machines to scan; absent: every registered host and simulated instance of the caller's account in the region. */
  instanceIds?: unknown;
  /** Largest list of ids the calling face allows. */
  maxBatch: number;
}

export interface DriftRepairInput {
  regionId: string;
  instanceIds: unknown;
  maxBatch: number;
  /**
   * How keyfleet logs in to drifted simulated instances (they have no management key): the private key of the key
   * pair bound there, or the root password where none is bound. Held for the repair's tasks only; never sent to a
   * registered host.
   */
  credential?: LiveCredential;
}

export type HostDriftStatus = 'in-sync' | 'drifted' | 'unreachable' | 'error' | 'skipped';

export interface HostDriftResult {
  instanceId: string;
  /** 'host': a registered host (repaired with its management key); 'sim': a simulated instance (needs a credential). */
  backend: Instance['backend'];
  name: string;
  address: string;
  sshPort: number;
  /** The key pair keyfleet bound to this host (null: none). */
  keyPairName: string | null;
  status: HostDriftStatus;
  findings: DriftFinding[];
  unmanagedKeys: KeyLine[];
  /** Why a machine was skipped (no management key held, not Running or Stopped, no SSH, …). */
  reason?: string;
  errorCode?: string;
  errorMessage?: string;
}

export interface DriftRepairResult {
  /** One live task per key pair (and one unbind task for hosts without a key pair). */
  tasks: Task[];
  /** The scan the repair acted on: hosts that were not drifted, or could not be read, are not repaired. */
  results: HostDriftResult[];
}

type ScanBase = Omit<HostDriftResult, 'status'>;

const DEFAULT_CONCURRENCY = 16;
const PAGE = 1000;

export function createDriftService(deps: DriftServiceDeps) {
  const { store, authz, regions } = deps;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const ref = (i: Instance): ResourceRef => ({
    type: 'instance',
    regionId: i.regionId,
    id: i.id,
    resourceGroupId: i.resourceGroupId,
  });

  async function scan(caller: Caller, input: DriftScanInput): Promise<HostDriftResult[]> {
    const region = requireRegion(regions, input.regionId);
    if (input.instanceIds === undefined) {
      // A Deny on some hosts still hides them from a scan of "all".
      const hosts = (await allHosts(caller.accountId, region.id)).filter((i) =>
        authz.allows(caller, 'instance:DescribeKeys', [ref(i)]),
      );
      return scanHosts(caller.accountId, region.id, hosts);
    }
    const hosts = await load(caller, region.id, input.instanceIds, input.maxBatch);
    return scanHosts(caller.accountId, region.id, hosts);
  }

  async function repair(caller: Caller, input: DriftRepairInput): Promise<DriftRepairResult> {
    const region = requireRegion(regions, input.regionId);
    const hosts = await load(caller, region.id, input.instanceIds, input.maxBatch);
    const results = await scanHosts(caller.accountId, region.id, hosts);
    const drifted = new Set(results.filter((r) => r.status === 'drifted').map((r) => r.instanceId));
    // A Stopped instance takes the repair at its next start (the live path records it for boot): no login needed.
    const needsCredential = hosts
      .filter((i) => drifted.has(i.id) && i.backend !== 'host' && i.status !== 'Stopped')
      .map((i) => i.id);
    if (needsCredential.length > 0 && !input.credential) {
      throw new CoreError(
        'Live.CredentialRequired',
        `Repairing the simulated instance(s) ${needsCredential.join(', ')} logs in to them over SSH: give a credential (the private key of the key pair bound there, or the root password where none is bound). Nothing was submitted.`,
        { instanceIds: needsCredential },
      );
    }
    // One task per key pair and kind of machine: hosts log in with their own management keys, simulated instances
    // with the credential given, which must never be offered to a host.
    // A binding that expires is repaired with its expiry (issue 19), so one task per expiry too.
    const groups = new Map<
      string,
      { keyPairName: string | null; sim: boolean; expiresAt: string | null; instanceIds: string[] }
    >();
    for (const inst of hosts) {
      if (!drifted.has(inst.id)) continue;
      const sim = inst.backend !== 'host';
      const expiresAt = inst.keyPairName ? (inst.keyExpiresAt?.toISOString() ?? null) : null;
      const key = JSON.stringify([sim, inst.keyPairName, expiresAt]);
      const group = groups.get(key) ?? { keyPairName: inst.keyPairName, sim, expiresAt, instanceIds: [] };
      group.instanceIds.push(inst.id);
      groups.set(key, group);
    }
    const tasks: Task[] = [];
    for (const { keyPairName, sim, expiresAt, instanceIds } of groups.values()) {
      const kind = keyPairName ? 'bind' : 'unbind';
      tasks.push(
        await deps.submit(caller, {
          regionId: region.id,
          kind,
          ...(keyPairName ? { keyPairName } : {}),
          instanceIds,
          mode: 'live',
          ...(sim && input.credential ? { credential: input.credential } : {}),
          options: { flavour: kind, ...(expiresAt ? { expiresAt } : {}) },
          maxBatch: input.maxBatch,
        }),
      );
    }
    return { tasks, results };
  }

  /** The named instances of the caller's account in the region; any other id answers like one that does not exist. */
  async function load(caller: Caller, regionId: string, raw: unknown, maxBatch: number): Promise<Instance[]> {
    const ids = validateInstanceIds(raw, maxBatch);
    const found = new Map((await store.instances.getMany(caller.accountId, ids)).map((i) => [i.id, i]));
    return ids.map((id) => {
      const inst = found.get(id);
      if (!inst || inst.regionId !== regionId) throw instanceNotFound(id);
      return inst;
    });
  }

  /** Every machine a scan can read: the registered hosts, and the machines of the backend a source reads. */
  async function allHosts(accountId: string, regionId: string): Promise<Instance[]> {
    const hosts: Instance[] = [];
    const backends = deps.source ? (['host', deps.source.backend] as const) : (['host'] as const);
    for (const backend of new Set(backends)) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.instances.list({ accountId, regionId, backend, offset, limit: PAGE });
        hosts.push(...page.items);
        if (page.items.length < PAGE) break;
      }
    }
    return hosts;
  }

  async function scanHosts(accountId: string, regionId: string, hosts: Instance[]): Promise<HostDriftResult[]> {
    const keyPairNameOf = await keyPairNames(accountId, regionId);
    const slots = createSemaphore(concurrency);
    const results = await Promise.all(hosts.map((host) => slots.run(() => scanHost(host, keyPairNameOf))));
    const metrics = deps.metrics ?? noMetrics;
    for (const r of results) {
      metrics.inc('drift_scans_total', { status: r.status });
      for (const f of r.findings) metrics.inc('drift_findings_total', { code: f.code });
    }
    await deps.onScanned?.(accountId, regionId, results);
    return results;
  }

  /** The account's key pair names in the region by public key body, to name the keys a scan finds. */
  async function keyPairNames(accountId: string, regionId: string): Promise<(base64: string) => string | null> {
    const names = new Map<string, string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.keyPairs.list({ accountId, regionId, offset, limit: PAGE });
      for (const kp of page.items) {
        const body = kp.publicKey.trim().split(/\s+/)[1];
        if (body && !names.has(body)) names.set(body, kp.name);
      }
      if (page.items.length < PAGE) break;
    }
    return (base64) => names.get(base64) ?? null;
  }

  async function scanHost(inst: Instance, keyPairNameOf: (base64: string) => string | null): Promise<HostDriftResult> {
    const base: ScanBase = {
      instanceId: inst.id,
      backend: inst.backend,
      name: inst.name,
      address: inst.address,
      sshPort: inst.sshPort,
      keyPairName: inst.keyPairName,
      findings: [],
      unmanagedKeys: [],
    };
    if (inst.backend !== 'host') return scanGuest(inst, base, keyPairNameOf);
    const host = inst.host;
    if (!host) return { ...base, status: 'skipped', reason: 'The host has no access settings to log in with.' };
    if (!host.sealedManagementKey)
      return {
        ...base,
        status: 'skipped',
        reason:
          'No management key is held for this host, so keyfleet cannot log in to read it; register it with a management key.',
      };
    if (!inst.hostKeySha256) return { ...base, status: 'skipped', reason: 'No host key is pinned for this host.' };
    try {
      const privateKey = deps.secrets.open(host.sealedManagementKey, managementKeyContext(inst.id));
      // Every step of the session (connect, login, each read) is bounded by the live timeout.
      const session = await deps.live.openSession(
        { host: inst.address, port: inst.sshPort, username: host.managementUser },
        { kind: 'privateKey', privateKey },
        { kind: 'pinned', sha256: inst.hostKeySha256 },
        { timeoutMs: deps.liveTimeoutMs, ...(host.sudo ? { sudo: true } : {}) },
      );
      const managesSshd = host.passwordLogin !== 'unmanaged';
      let authorizedKeys: RemoteFile | null;
      let dropIn: RemoteFile | null;
      try {
        // Both reads share one round trip on the SFTP channel.
        [authorizedKeys, dropIn] = await Promise.all([
          session.readFile(`${host.homeDir}/.ssh/authorized_keys`),
          managesSshd ? session.readFile(host.dropInPath) : Promise.resolve(null),
        ]);
      } finally {
        session.close();
      }
      const report = compareDrift({
        authorizedKeys: authorizedKeys?.content ?? null,
        bound:
          inst.keyPairName && inst.desiredPublicKey
            ? { keyPairName: inst.keyPairName, publicKey: inst.desiredPublicKey, expiresAt: inst.keyExpiresAt }
            : null,
        dropIn: dropIn?.content ?? null,
        expectedDropIn:
          managesSshd && (await everManaged(inst))
            ? renderSshdDropIn(desiredLoginMethods(inst.keyPairName !== null))
            : null,
        keyPairNameOf,
        managementPublicKey: deps.keys.publicKeyOf(privateKey),
      });
      return { ...base, ...report };
    } catch (err) {
      return failed(inst, base, err);
    }
  }

  /**
   * A simulated instance, read from its disk through the source. Compared with what keyfleet last wrote there (the
   * applied key and password-login state): a bind or unbind waiting for a restart is not drift.
   */
  async function scanGuest(
    inst: Instance,
    base: ScanBase,
    keyPairNameOf: (base64: string) => string | null,
  ): Promise<HostDriftResult> {
    const source = deps.source?.backend === inst.backend ? deps.source : null;
    if (!source)
      return { ...base, status: 'skipped', reason: `keyfleet cannot read machines of the '${inst.backend}' backend.` };
    if (inst.osType !== 'linux')
      return { ...base, status: 'skipped', reason: 'A Windows instance has no SSH and takes no key pair.' };
    if (TRANSITIONAL.includes(inst.status))
      return {
        ...base,
        status: 'skipped',
        reason: `The instance is ${inst.status}; it is scanned Running or Stopped.`,
      };
    try {
      const files = await source.filesOf(inst);
      if (!files) return { ...base, status: 'skipped', reason: 'The instance has no disk yet.' };
      const [authorizedKeys, dropIn] = await Promise.all([
        files.read(`${homeDirOf(inst.loginUser)}/.ssh/authorized_keys`),
        files.read(SSHD_DROP_IN_PATH),
      ]);
      const applied = inst.appliedPublicKey;
      const appliedName =
        applied === null
          ? null
          : applied === inst.desiredPublicKey && inst.keyPairName
            ? inst.keyPairName
            : (keyPairNameOf(applied.trim().split(/\s+/)[1] ?? '') ?? 'key');
      // Every boot writes the drop-in; a machine never started has none, and with nothing bound needs none.
      const neverWritten = dropIn === null && applied === null && inst.appliedPasswordLogin;
      const report = compareDrift({
        authorizedKeys,
        bound:
          applied !== null && appliedName !== null
            ? { keyPairName: appliedName, publicKey: applied, expiresAt: inst.appliedKeyExpiresAt }
            : null,
        dropIn,
        expectedDropIn: neverWritten ? null : renderSshdDropIn({ passwordAuthentication: inst.appliedPasswordLogin }),
        keyPairNameOf,
        managementPublicKey: null,
      });
      return { ...base, ...report };
    } catch (err) {
      return failed(inst, base, err);
    }
  }

  function failed(inst: Instance, base: ScanBase, err: unknown): HostDriftResult {
    if (!isCoreError(err))
      deps.logger.error('drift scan of a machine failed unexpectedly', {
        instanceId: inst.id,
        error: err instanceof Error ? err.message : String(err),
      });
    const e = isCoreError(err)
      ? err
      : new CoreError('Internal', 'An unexpected error stopped the scan of this machine.');
    return {
      ...base,
      status: e.code === 'Live.Unreachable' ? 'unreachable' : 'error',
      errorCode: e.code,
      errorMessage: e.message,
    };
  }

  /** Whether keyfleet has ever bound or unbound on this host: before that, it has written no drop-in there. */
  async function everManaged(inst: Instance): Promise<boolean> {
    return inst.keyPairName !== null || (await store.events.forInstance(inst.accountId, inst.id)).length > 0;
  }

  return { scan, repair };
}

export type DriftService = ReturnType<typeof createDriftService>;
