/**
 * Drift scan and repair of registered real hosts (issue 5; ADR 9). A scan logs in to each host with its sealed
 * management key (host key pinned), reads authorized_keys and keyfleet's sshd drop-in, and compares them with the
 * binding (drift.ts says what counts as drift). It never writes. A repair scans the hosts named, then submits a
 * LIVE bind of the key pair each drifted host has (or an unbind where none is bound) through the ordinary task
 * path, which rewrites only keyfleet's block and drop-in, proves the result by login and keeps hand-added lines.
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
import type { Instance } from '../instance/instance.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { LiveAccess, Logger, RemoteFile, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import type { Task } from '../task/task.js';
import { type BindRequest, validateInstanceIds } from './bind-request.js';
import { compareDrift, type DriftFinding, type KeyLine } from './drift.js';
import { desiredLoginMethods, renderSshdDropIn } from './sshd-drop-in.js';

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
}

export interface DriftScanInput {
  regionId: string;
  /** The hosts to scan; absent: every registered host of the caller's account in the region. */
  instanceIds?: unknown;
  /** Largest list of ids the calling face allows. */
  maxBatch: number;
}

export interface DriftRepairInput {
  regionId: string;
  instanceIds: unknown;
  maxBatch: number;
}

export type HostDriftStatus = 'in-sync' | 'drifted' | 'unreachable' | 'error' | 'skipped';

export interface HostDriftResult {
  instanceId: string;
  name: string;
  address: string;
  sshPort: number;
  /** The key pair keyfleet bound to this host (null: none). */
  keyPairName: string | null;
  status: HostDriftStatus;
  findings: DriftFinding[];
  unmanagedKeys: KeyLine[];
  /** Why a host was skipped (not a registered host, no management key held). */
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
    const groups = new Map<string | null, string[]>();
    for (const inst of hosts) {
      if (!drifted.has(inst.id)) continue;
      groups.set(inst.keyPairName, [...(groups.get(inst.keyPairName) ?? []), inst.id]);
    }
    const tasks: Task[] = [];
    for (const [keyPairName, instanceIds] of groups) {
      const kind = keyPairName ? 'bind' : 'unbind';
      tasks.push(
        await deps.submit(caller, {
          regionId: region.id,
          kind,
          ...(keyPairName ? { keyPairName } : {}),
          instanceIds,
          mode: 'live',
          options: { flavour: kind },
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

  async function allHosts(accountId: string, regionId: string): Promise<Instance[]> {
    const hosts: Instance[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.instances.list({ accountId, regionId, backend: 'host', offset, limit: PAGE });
      hosts.push(...page.items);
      if (page.items.length < PAGE) return hosts;
    }
  }

  async function scanHosts(accountId: string, regionId: string, hosts: Instance[]): Promise<HostDriftResult[]> {
    const keyPairNameOf = await keyPairNames(accountId, regionId);
    const slots = createSemaphore(concurrency);
    return Promise.all(hosts.map((host) => slots.run(() => scanHost(host, keyPairNameOf))));
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
    const base = {
      instanceId: inst.id,
      name: inst.name,
      address: inst.address,
      sshPort: inst.sshPort,
      keyPairName: inst.keyPairName,
      findings: [],
      unmanagedKeys: [],
    };
    const host = inst.backend === 'host' ? inst.host : null;
    if (!host)
      return {
        ...base,
        status: 'skipped',
        reason: 'Not a registered host: drift scans read registered hosts with their management key.',
      };
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
            ? { keyPairName: inst.keyPairName, publicKey: inst.desiredPublicKey }
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
      if (!isCoreError(err))
        deps.logger.error('drift scan of a host failed unexpectedly', {
          instanceId: inst.id,
          error: err instanceof Error ? err.message : String(err),
        });
      const e = isCoreError(err)
        ? err
        : new CoreError('Internal', 'An unexpected error stopped the scan of this host.');
      return {
        ...base,
        status: e.code === 'Live.Unreachable' ? 'unreachable' : 'error',
        errorCode: e.code,
        errorMessage: e.message,
      };
    }
  }

  /** Whether keyfleet has ever bound or unbound on this host: before that, it has written no drop-in there. */
  async function everManaged(inst: Instance): Promise<boolean> {
    return inst.keyPairName !== null || (await store.events.forInstance(inst.accountId, inst.id)).length > 0;
  }

  return { scan, repair };
}

export type DriftService = ReturnType<typeof createDriftService>;
