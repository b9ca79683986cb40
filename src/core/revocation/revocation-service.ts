/**
 * Revoke a key everywhere (issue 19): plan, then apply; the worker (revocation-worker.ts) does the rest.
 *
 * The plan reads every managed machine of the account's region that the caller may revoke on (registered hosts
 * over SSH with their management keys, simulated instances from their disks, as drift scans do): the managed
 * user's and root's authorized_keys. It records, per machine, whether the store binds the key there and each line
 * that authorises it, inside keyfleet's block or outside it. Nothing is changed; the plan is stored so it can be
 * read before it is applied.
 *
 * Applying submits one live unbind task per key pair (and kind of machine: simulated instances log in with the
 * credential given, hosts with their management keys) for the machines where the store binds the key — the
 * ordinary durable task path, which rewrites only keyfleet's block and proves the result — and hands the
 * revocation to the worker, which removes copies outside the block when `includeUnmanaged` was asked and proves
 * each machine refuses the key.
 */
import { createSemaphore } from '../../common/concurrency.js';
import type { ResourceRef } from '../authz/actions.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { BindRequest } from '../binding/bind-request.js';
import type { DriftSource } from '../binding/drift-source.js';
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { Instance } from '../instance/instance.js';
import type { LiveAccess, LiveCredential, Logger, SecretBox, Store } from '../ports.js';
import { requireRegion, type Region } from '../region.js';
import type { Task } from '../task/task.js';
import { findCopies, type KeyMatch } from './key-copies.js';
import { filesOf, openMachine, reasonOf, unsupported } from './machine-access.js';
import {
  emptyCounts,
  type MachineState,
  REVOCATION_LIMITS,
  type Revocation,
  type RevocationMachine,
  type RevokedKey,
} from './revocation.js';
import { keyOfBody, nameKey, type RevokeWhat } from './revoked-key.js';

export interface RevocationServiceDeps {
  store: Store;
  live: LiveAccess;
  secrets: SecretBox;
  authz: Authorizer;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  logger: Logger;
  liveTimeoutMs: number;
  /** Machines read at the same time by one plan (the task concurrency). */
  concurrency: number;
  source?: DriftSource;
  /** The binding module's submit: unbinds go through the ordinary task path. */
  submit(caller: Caller, req: BindRequest): Promise<Task>;
  /** Tells the worker there is work now. */
  wake(): void;
}

export interface PlanInput extends RevokeWhat {
  regionId: string;
}

export interface ApplyInput {
  revocationId: string;
  /** Remove copies outside keyfleet's block too (hand-added lines); default false. */
  includeUnmanaged?: unknown;
  /** Unreachable machines are retried until then (ISO time); or for `retryForSeconds`; default 24 h. */
  retryUntil?: unknown;
  retryForSeconds?: unknown;
  /** For simulated instances where the key is bound and that are Running: how to log in (they have no management key). */
  credential?: LiveCredential;
}

const PAGE = 1000;

export function createRevocationService(deps: RevocationServiceDeps) {
  const { store, clock } = deps;
  const access = { live: deps.live, secrets: deps.secrets, source: deps.source, timeoutMs: deps.liveTimeoutMs };
  const instRef = (i: Instance): ResourceRef => ({
    type: 'instance',
    regionId: i.regionId,
    id: i.id,
    resourceGroupId: i.resourceGroupId,
  });

  async function plan(caller: Caller, input: PlanInput): Promise<{ revocation: Revocation }> {
    const region = requireRegion(deps.regions, input.regionId);
    const named = nameKey(input);
    let key: RevokedKey | null = null;
    const fingerprint = 'fingerprint' in named ? named.fingerprint : null;
    if (named.target.kind === 'keyPair') {
      const kp = await store.keyPairs.get(caller.accountId, region.id, named.target.keyPairName);
      if (!kp)
        throw new CoreError('KeyPair.NotFound', `The key pair '${named.target.keyPairName}' does not exist.`, {
          keyPairName: named.target.keyPairName,
        });
      key = keyOfPublicKey(kp.publicKey);
    } else if ('key' in named) {
      key = named.key;
    } else if (fingerprint) {
      const page = await store.keyPairs.list({
        accountId: caller.accountId,
        regionId: region.id,
        fingerprint,
        offset: 0,
        limit: 1,
      });
      const kp = page.items[0];
      if (kp) key = keyOfPublicKey(kp.publicKey);
    }

    const machines = (await allMachines(caller.accountId, region.id)).filter((i) =>
      deps.authz.allows(caller, 'keypair:Revoke', [instRef(i)]),
    );
    if (machines.length > REVOCATION_LIMITS.machines)
      throw new CoreError(
        'Batch.TooLarge',
        `The region has ${machines.length} machines; one revocation covers at most ${REVOCATION_LIMITS.machines}.`,
        { limit: REVOCATION_LIMITS.machines },
      );
    const match: KeyMatch = key ? { base64: key.base64 } : { fingerprint: fingerprint ?? '' };
    const slots = createSemaphore(deps.concurrency);
    const id = deps.ids.next('rv-', 20);
    const now = clock.now();
    const scanned = await Promise.all(
      machines.map((inst, i) => slots.run(() => scanMachine(id, i + 1, inst, match, now))),
    );

    if (!key) {
      // Found by fingerprint on some machine: the line gives the key itself, which the proofs need.
      const found = scanned.find((s) => s.found)?.found;
      if (!found)
        throw new CoreError(
          'Revocation.KeyUnknown',
          `No key pair and no machine of region '${region.id}' has a key with the fingerprint '${fingerprint}'; paste the public key to prove every machine refuses it.`,
          {},
        );
      key = keyOfBody(found.type, found.base64);
    }
    const keyPairNames = await keyPairsWith(caller.accountId, region.id, key.base64);
    const rows = scanned.map((s) => s.machine);
    for (const m of rows) {
      const inst = machines[m.seq - 1]!;
      m.boundKeyPairName = boundHere(inst, key.base64);
    }
    const counts = emptyCounts();
    for (const m of rows) counts[m.state] += 1;
    const revocation: Revocation = {
      id,
      accountId: caller.accountId,
      regionId: region.id,
      status: 'planned',
      target: named.target,
      key,
      keyPairNames,
      includeUnmanaged: false,
      retryUntil: null,
      createdBy: caller.userId,
      submitter: {
        userName: caller.userName,
        accessKeyId: caller.accessKeyId,
        sessionId: caller.sessionId,
        sourceIp: caller.sourceIp,
      },
      face: caller.face,
      requestId: caller.requestId,
      createdAt: now,
      appliedAt: null,
      finishedAt: null,
      nextRunAt: null,
      machineCount: rows.length,
      counts,
    };
    await store.transaction((tx) => tx.revocations.insert(revocation, rows));
    return { revocation };
  }

  async function scanMachine(
    revocationId: string,
    seq: number,
    inst: Instance,
    match: KeyMatch,
    now: Date,
  ): Promise<{ machine: RevocationMachine; found: { type: string; base64: string } | null }> {
    const files = filesOf(inst);
    const machine: RevocationMachine = {
      revocationId,
      seq,
      instanceId: inst.id,
      backend: inst.backend,
      name: inst.name,
      address: inst.address,
      sshPort: inst.sshPort,
      boundKeyPairName: null,
      copies: [],
      users: [...new Set(files.map((f) => f.user))],
      files,
      scanError: null,
      state: 'planned',
      detail: null,
      verifiedAt: null,
      attempts: 0,
      nextAttemptAt: null,
      unbindTaskId: null,
      removedLines: 0,
      updatedAt: now,
    };
    const why = unsupported(inst, deps.source);
    if (why) return { machine: { ...machine, state: 'skipped', detail: why }, found: null };
    let found: { type: string; base64: string } | null = null;
    try {
      const m = await openMachine(access, inst);
      try {
        for (const file of files) {
          for (const c of findCopies(file, await m.read(file.path), match)) {
            const { type, base64, ...copy } = c;
            found ??= { type, base64 };
            machine.copies.push(copy);
          }
        }
      } finally {
        m.close();
      }
    } catch (err) {
      // The plan still lists the machine: applying tries it again (and retries it until the deadline).
      machine.scanError = reasonOf(err);
    }
    return { machine, found };
  }

  async function apply(caller: Caller, input: ApplyInput): Promise<{ revocation: Revocation }> {
    const r = await get(caller, input.revocationId);
    if (r.status !== 'planned')
      throw new CoreError('Revocation.IncorrectState', `The revocation '${r.id}' was already applied.`, {
        revocationId: r.id,
      });
    const includeUnmanaged = input.includeUnmanaged ?? false;
    if (typeof includeUnmanaged !== 'boolean')
      throw new CoreError('Input.Invalid', 'includeUnmanaged must be true or false.', {
        parameter: 'includeUnmanaged',
      });
    const now = clock.now();
    const retryUntil = deadline(input, now);
    const machines = await allRows(r.id);
    const bound = machines.filter((m) => m.boundKeyPairName && m.state === 'planned');
    const instances = new Map(
      (
        await store.instances.getMany(
          r.accountId,
          bound.map((m) => m.instanceId),
        )
      ).map((i) => [i.id, i]),
    );
    const simNeedingLogin = bound.filter((m) => {
      const inst = instances.get(m.instanceId);
      return inst && inst.backend !== 'host' && inst.status !== 'Stopped';
    });
    if (simNeedingLogin.length > 0 && !input.credential)
      throw new CoreError(
        'Live.CredentialRequired',
        `The key is bound to the running simulated instance(s) ${simNeedingLogin
          .slice(0, 10)
          .map((m) => m.instanceId)
          .join(
            ', ',
          )}${simNeedingLogin.length > 10 ? ' …' : ''}; unbinding it logs in to them: give a credential (the key pair's private key, or the root password). Nothing was changed.`,
        { count: simNeedingLogin.length },
      );

    const simBound = bound.some((m) => m.backend !== 'host');
    // One live unbind task per key pair and kind of machine: the credential must never be offered to a host.
    const groups = new Map<string, { keyPairName: string; sim: boolean; rows: RevocationMachine[] }>();
    for (const m of bound) {
      const sim = m.backend !== 'host';
      const k = JSON.stringify([sim, m.boundKeyPairName]);
      const g = groups.get(k) ?? { keyPairName: m.boundKeyPairName!, sim, rows: [] };
      g.rows.push(m);
      groups.set(k, g);
    }
    for (const g of groups.values()) {
      const task = await deps.submit(caller, {
        regionId: r.regionId,
        kind: 'unbind',
        keyPairName: g.keyPairName,
        instanceIds: g.rows.map((m) => m.instanceId),
        mode: 'live',
        ...(g.sim && input.credential ? { credential: input.credential } : {}),
        options: { flavour: 'unbind' },
        maxBatch: REVOCATION_LIMITS.machines,
      });
      for (const m of g.rows) m.unbindTaskId = task.id;
    }

    const next: Revocation = { ...r, status: 'applying', includeUnmanaged, retryUntil, appliedAt: now, nextRunAt: now };
    const counts = emptyCounts();
    await store.transaction(async (tx) => {
      if (!(await tx.revocations.update(next, null, 'planned')))
        throw new CoreError('Revocation.IncorrectState', `The revocation '${r.id}' was already applied.`, {
          revocationId: r.id,
        });
      if (input.credential && simBound)
        await tx.revocations.putCredential(
          r.id,
          deps.secrets.seal(JSON.stringify(input.credential), credentialContext(r.id)),
        );
      for (const m of machines) {
        const state: MachineState = m.state === 'skipped' ? 'skipped' : 'pending';
        counts[state] += 1;
        await tx.revocations.updateMachine({ ...m, state, nextAttemptAt: now, updatedAt: now }, null);
      }
    });
    deps.wake();
    return { revocation: { ...next, counts } };
  }

  function deadline(input: ApplyInput, now: Date): Date {
    const { minRetryMs, maxRetryMs, defaultRetryMs } = REVOCATION_LIMITS;
    if (input.retryUntil !== undefined && input.retryForSeconds !== undefined)
      throw new CoreError('Input.Invalid', 'Give retryUntil or retryForSeconds, not both.', {
        parameter: 'retryUntil',
      });
    let ms = defaultRetryMs;
    if (input.retryForSeconds !== undefined) {
      if (typeof input.retryForSeconds !== 'number' || !Number.isFinite(input.retryForSeconds))
        throw new CoreError('Input.Invalid', 'retryForSeconds must be a number of seconds.', {
          parameter: 'retryForSeconds',
        });
      ms = input.retryForSeconds * 1000;
    } else if (input.retryUntil !== undefined) {
      const at = typeof input.retryUntil === 'string' ? Date.parse(input.retryUntil) : Number.NaN;
      if (Number.isNaN(at))
        throw new CoreError('Input.Invalid', 'retryUntil must be an ISO 8601 time.', { parameter: 'retryUntil' });
      ms = at - now.getTime();
    }
    if (ms < minRetryMs || ms > maxRetryMs)
      throw new CoreError(
        'Input.Invalid',
        `The retry deadline must be between ${minRetryMs / 1000} s and ${maxRetryMs / 86_400_000} days from now.`,
        { parameter: 'retryUntil', min: minRetryMs / 1000, max: maxRetryMs / 1000 },
      );
    return new Date(now.getTime() + ms);
  }

  async function get(caller: Caller, id: unknown): Promise<Revocation> {
    const r = typeof id === 'string' && id.length <= 64 ? await store.revocations.get(caller.accountId, id) : null;
    if (!r)
      throw new CoreError('Revocation.NotFound', `The revocation '${String(id).slice(0, 80)}' does not exist.`, {
        revocationId: String(id).slice(0, 80),
      });
    return { ...r, counts: await store.revocations.countStates(r.id) };
  }

  async function machines(
    caller: Caller,
    id: unknown,
    page: { state?: unknown; offset?: unknown; limit?: unknown },
  ): Promise<{ revocation: Revocation; items: RevocationMachine[]; total: number }> {
    const r = await get(caller, id);
    const offset = page.offset === undefined ? 0 : Number(page.offset);
    const limit = page.limit === undefined ? 100 : Number(page.limit);
    if (!Number.isInteger(offset) || offset < 0)
      throw new CoreError('Input.Invalid', 'offset must be a whole number, 0 or more.', { parameter: 'offset' });
    if (!Number.isInteger(limit) || limit < 1 || limit > REVOCATION_LIMITS.pageSize)
      throw new CoreError('Input.Invalid', `limit must be between 1 and ${REVOCATION_LIMITS.pageSize}.`, {
        parameter: 'limit',
        limit: REVOCATION_LIMITS.pageSize,
      });
    const state = page.state;
    if (state !== undefined && !Object.keys(emptyCounts()).includes(String(state)))
      throw new CoreError('Input.Invalid', `Unknown machine state '${String(state).slice(0, 40)}'.`, {
        parameter: 'state',
      });
    const found = await store.revocations.machines(r.id, {
      ...(state !== undefined ? { state: state as MachineState } : {}),
      offset,
      limit,
    });
    return { revocation: r, ...found };
  }

  async function list(
    caller: Caller,
    input: { regionId: string; offset?: number; limit?: number },
  ): Promise<{ items: Revocation[]; total: number }> {
    const region = requireRegion(deps.regions, input.regionId);
    const limit = Math.min(Math.max(1, input.limit ?? 50), 100);
    return store.revocations.list(caller.accountId, region.id, Math.max(0, input.offset ?? 0), limit);
  }

  async function allRows(id: string): Promise<RevocationMachine[]> {
    const rows: RevocationMachine[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.revocations.machines(id, { offset, limit: PAGE });
      rows.push(...page.items);
      if (page.items.length < PAGE) return rows;
    }
  }

  /** Every machine a revocation covers: the registered hosts, and the machines of the backend a source reads. */
  async function allMachines(accountId: string, regionId: string): Promise<Instance[]> {
    const found: Instance[] = [];
    const backends = deps.source ? (['host', deps.source.backend] as const) : (['host'] as const);
    for (const backend of new Set(backends)) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.instances.list({ accountId, regionId, backend, offset, limit: PAGE });
        found.push(...page.items);
        if (page.items.length < PAGE || found.length > REVOCATION_LIMITS.machines) break;
      }
    }
    return found;
  }

  async function keyPairsWith(accountId: string, regionId: string, base64: string): Promise<string[]> {
    const names: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.keyPairs.list({ accountId, regionId, offset, limit: PAGE });
      for (const kp of page.items) if (bodyOf(kp.publicKey) === base64) names.push(kp.name);
      if (page.items.length < PAGE) return names;
    }
  }

  return { plan, apply, get, machines, list };
}

export type RevocationService = ReturnType<typeof createRevocationService>;

/** The SecretBox context of a revocation's credential: it opens for this revocation only. */
export const credentialContext = (revocationId: string) => `revocation-credential:${revocationId}`;

const bodyOf = (publicKey: string | null): string | null => publicKey?.trim().split(/\s+/)[1] ?? null;

function keyOfPublicKey(publicKey: string): RevokedKey {
  const [type, base64] = publicKey.trim().split(/\s+/);
  return keyOfBody(type ?? '', base64 ?? '');
}

/** The key pair the store binds here with this key (what it wants, or what the machine has while a change waits). */
function boundHere(inst: Instance, base64: string): string | null {
  if (!inst.keyPairName) return null;
  return bodyOf(inst.desiredPublicKey) === base64 || bodyOf(inst.appliedPublicKey) === base64 ? inst.keyPairName : null;
}
