/**
 * Importing an inventory of real hosts (ADR 9) as one durable task with one item per host. Every row is checked
 * before anything is made, so a malformed inventory changes nothing and its answer lists every bad line; then each
 * item registers its host exactly as a single registration does (host-service.ts: first contact pins the host key,
 * the management key is sealed under the new instance's id), and succeeds or fails on its own.
 *
 * The management private key is one secret for the whole task, kept by credential custody: sealed with the
 * key-encryption key and stored with the task until it ends, then wiped (ADR 3); never logged or put in an error.
 * Each item stores its row and settings (never the key) as its payload, so a task resumed after a restart still
 * knows what to register, and opens the key from its seal. An item whose key is not there fails with
 * Live.CredentialLost.
 */
import { createCredentialCustody } from '../binding/credential-custody.js';
import { createItemRecorder } from '../binding/item-record.js';
import { LeaseLost } from '../binding/live-change.js';
import { recordTaskOutcome } from '../binding/task-outcome-audit.js';
import { type Caller, systemCaller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError, isCoreError } from '../errors.js';
import type { KeyMaterial } from '../keypair/key-material.js';
import type { Logger, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import type { TaskExecutor, TaskRunner } from '../task/task-runner.js';
import { IMPORT_KIND, type ItemPayload, pendingItem, queuedTask, type Task, type TaskItem } from '../task/task.js';
import type { HostService, RegisterHostInput } from './host-service.js';
import type { InventoryLine } from '../../common/inventory.js';

/** Hosts per import: each is one SSH login now and one instance; a larger fleet is imported in parts. */
export const MAX_IMPORT_HOSTS = 1000;
/** Bad lines named in a refusal; the count says how many more there were. */
const MAX_LISTED_PROBLEMS = 50;

/** One host line of an inventory as read (an unreadable line carries the reason instead). */
export type InventoryRow = InventoryLine;

/** What every host of the inventory is registered with, unless its own line says otherwise (port, user; home and host key are per line only). */
export type ImportDefaults = Pick<
  RegisterHostInput,
  'managementUser' | 'dropInPath' | 'reloadCommand' | 'validateCommand' | 'passwordLogin' | 'sudo' | 'resourceGroupId'
> & {
  loginUser?: string;
  port?: number;
};

export interface ImportRequest {
  regionId: string;
  rows: InventoryRow[];
  /** Logged in with on every host and sealed for each one registered; kept sealed with the task while it runs. */
  managementPrivateKey?: string;
  defaults?: ImportDefaults;
}

export interface InventoryImportDeps {
  store: Store;
  runner: TaskRunner;
  hosts: HostService;
  keys: KeyMaterial;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  logger: Logger;
}

/** An item's payload: the registration without its secret, and once registered the host key pinned. */
type HostPayload = Omit<RegisterHostInput, 'managementPrivateKey' | 'regionId'> & {
  line: number;
  withManagementKey: boolean;
  hostKeyPinned?: string;
  pinnedOnFirstUse?: boolean;
};

const toPayload = (p: HostPayload): ItemPayload =>
  Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as ItemPayload;

export function createInventoryImport(deps: InventoryImportDeps) {
  const { store, runner, hosts, clock, logger } = deps;
  const custody = createCredentialCustody(store, deps.secrets);
  const recorder = createItemRecorder(store, clock);

  /** Every row checked as a registration would check it; the problems, by line, of the rows that fail. */
  function checkRows(
    region: Region,
    rows: InventoryRow[],
    defaults: ImportDefaults,
    withKey: boolean,
  ): { payloads: HostPayload[]; problems: string[] } {
    const payloads: HostPayload[] = [];
    const problems: string[] = [];
    const seen = new Map<string, number>();
    for (const row of rows) {
      if ('problem' in row) {
        problems.push(`line ${row.line}: ${row.problem}`);
        continue;
      }
      const p: HostPayload = {
        line: row.line,
        name: row.name,
        address: row.address,
        port: row.port ?? defaults.port ?? 22,
        loginUser: row.user ?? defaults.loginUser ?? 'root',
        managementUser: defaults.managementUser,
        hostKeySha256: row.hostKeySha256,
        homeDir: row.homeDir,
        dropInPath: defaults.dropInPath,
        reloadCommand: defaults.reloadCommand,
        validateCommand: defaults.validateCommand,
        passwordLogin: defaults.passwordLogin,
        sudo: defaults.sudo,
        resourceGroupId: defaults.resourceGroupId,
        withManagementKey: withKey,
      };
      let where: string;
      try {
        // The address in canonical form: two spellings of one host on two lines are one host.
        const checked = hosts.validate({ ...p, regionId: region.id }, false);
        where = `${checked.address}:${checked.port}`;
      } catch (err) {
        if (!isCoreError(err)) throw err;
        problems.push(`line ${row.line} (${String(row.name).slice(0, 64)}): ${err.message}`);
        continue;
      }
      const first = seen.get(where);
      if (first !== undefined)
        problems.push(
          `line ${row.line} (${row.name}): ${where} is already on line ${first}; a host is registered once.`,
        );
      else seen.set(where, row.line);
      payloads.push(p);
    }
    return { payloads, problems };
  }

  async function submit(caller: Caller, req: ImportRequest): Promise<Task> {
    const region = requireRegion(deps.regions, req.regionId);
    const rows = Array.isArray(req.rows) ? req.rows : [];
    if (rows.length === 0) throw new CoreError('Batch.Empty', 'The inventory names no hosts.');
    if (rows.length > MAX_IMPORT_HOSTS) {
      throw new CoreError(
        'Batch.TooLarge',
        `The inventory names ${rows.length} hosts; import at most ${MAX_IMPORT_HOSTS} at a time.`,
        { limit: MAX_IMPORT_HOSTS },
      );
    }
    const key = req.managementPrivateKey;
    // Throws PrivateKey.Malformed (never quoting the key), once for the whole inventory.
    if (key !== undefined) deps.keys.publicKeyOf(key);
    const defaults = req.defaults ?? {};
    const { payloads, problems } = checkRows(region, rows, defaults, key !== undefined);
    if (problems.length > 0) {
      const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
      const more = problems.length - listed.length;
      throw new CoreError(
        'Input.Invalid',
        `The inventory has ${problems.length} bad line(s); nothing was registered. ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
        {
          parameter: 'inventory',
          lines: listed,
          badLines: problems.length,
        },
      );
    }
    if (
      defaults.resourceGroupId !== undefined &&
      !(await store.accounts.listResourceGroups(caller.accountId)).some((g) => g.id === defaults.resourceGroupId)
    ) {
      throw new CoreError(
        'ResourceGroup.NotFound',
        `The resource group '${String(defaults.resourceGroupId).slice(0, 64)}' does not exist.`,
        { resourceGroupId: String(defaults.resourceGroupId).slice(0, 64) },
      );
    }
    const task = queuedTask(
      caller,
      {
        id: deps.ids.uuid(),
        regionId: region.id,
        kind: IMPORT_KIND,
        mode: 'live',
        keyPairId: null,
        keyPairName: null,
        total: payloads.length,
        options: {},
      },
      clock.now(),
    );
    // No instance until the host is registered (''); the item then records the new instance's id.
    const items = payloads.map((p, seq) => pendingItem(task.id, seq, '', toPayload(p)));
    // The management key is sealed and stored with the task, so a restarted keyfleet finishes the import.
    const sealed = custody.seal(task.id, key !== undefined ? { kind: 'privateKey', privateKey: key } : undefined);
    await store.transaction(async (tx) => {
      await tx.tasks.insert(task, items);
      if (sealed) await tx.tasks.putCredential(task.id, sealed, task.createdAt);
    });
    runner.kick(task.id);
    return task;
  }

  /** Registers one item's host: contacted and made by host-service, stored with the item's success in one transaction. */
  async function registerItem(task: Task, item: TaskItem, owner: string): Promise<void> {
    const p = item.payload as unknown as HostPayload | null;
    if (!p) throw new CoreError('Internal', 'This import item has no host to register.');
    const given = await custody.given(task.id);
    if (p.withManagementKey && given?.kind !== 'privateKey') {
      const why =
        'The management key given for this import is no longer held (the task was created without it, or it was wiped); import this host again.';
      return recorder.fail(item, new CoreError('Live.CredentialLost', why, { host: p.address }), owner);
    }
    const { line: _line, withManagementKey: _with, hostKeyPinned: _pinned, pinnedOnFirstUse: _first, ...input } = p;
    const managementPrivateKey = given?.kind === 'privateKey' ? given.privateKey : undefined;
    const out = await hosts.prepare(systemCaller(task.accountId, task.requestId), {
      ...input,
      regionId: task.regionId,
      managementPrivateKey,
    });
    const note = out.pinnedOnFirstUse
      ? `registered; host key ${out.hostKeySha256} pinned on first use`
      : `registered; host key ${out.hostKeySha256} as given`;
    const done: TaskItem = {
      ...item,
      instanceId: out.instance.id,
      status: 'succeeded',
      finishedAt: clock.now(),
      note,
      payload: toPayload({ ...p, hostKeyPinned: out.hostKeySha256, pinnedOnFirstUse: out.pinnedOnFirstUse }),
    };
    await store.transaction(async (tx) => {
      await tx.instances.insert(out.instance);
      // Lease lost to another worker: the transaction is rolled back, so the host is registered once.
      if (!(await tx.tasks.finishItem(done, owner))) throw new LeaseLost();
    });
  }

  const executor: TaskExecutor = {
    async execute(task: Task, item: TaskItem, owner: string): Promise<void> {
      try {
        await registerItem(task, item, owner);
      } catch (err) {
        // Another runner holds the item now and records it.
        if (err instanceof LeaseLost) return;
        if (!isCoreError(err))
          logger.error('import item failed unexpectedly', {
            taskId: task.id,
            seq: item.seq,
            error: err instanceof Error ? err.message : String(err),
          });
        await recorder.fail(
          item,
          isCoreError(err) ? err : new CoreError('Internal', 'An unexpected error stopped this registration.'),
          owner,
        );
      }
    },
    finished(task: Task): void {
      custody.release(task.id);
    },
    recordOutcome: (tx, task) => recordTaskOutcome(tx, task, { ids: deps.ids, clock }),
  };
  runner.register('import', executor);

  return {
    submit,
    /** Whether the import's management key is held by this process; false once the task has ended. */
    holdsCredential: (taskId: string): boolean => custody.holds(taskId),
  };
}

export type InventoryImport = ReturnType<typeof createInventoryImport>;
