/**
 * The driver moves rotations forward from what the store says, so any process may run it and a restarted one
 * continues where the last one stopped:
 *   - a wave whose task has finished is closed: its machines' results recorded, then the rotation stopped (its
 *     failures exceeded the threshold), completed (no wave left) or given its next start time (now + pause);
 *   - a running rotation whose next wave is due starts it: one bind task of B for the wave's machines, created in
 *     the transaction that claims the wave (pending → running) and bumps the rotation's version. Two processes
 *     that both see the wave due both try; one claim succeeds, the other's transaction rolls back with its task,
 *     so a wave starts exactly once.
 * One rotation has at most one wave running. The driver looks every `pollMs` and when told (kick): a rotation was
 * created or resumed, or a wave this process started has finished.
 */
import type { AuditResult, NewAuditEntry } from '../audit/audit.js';
import { resourceNames } from '../audit/auditor.js';
import type { Caller, Face } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { isCoreError } from '../errors.js';
import type { LiveCredential, Logger, Repos, SecretBox, Store } from '../ports.js';
import type { BindRequest } from '../binding/bind-request.js';
import type { Task, TaskItem } from '../task/task.js';
import { ref } from '../usecase/use-case.js';
import { type MachineResult, ROTATION_LIMITS, type Rotation, type RotationWave } from './rotation.js';
import { rotationCredentialContext } from './rotation-service.js';

/** Makes a bind task and starts it; `within` runs in the transaction that creates the task (and may refuse it). */
export type SubmitWithin = (
  caller: Caller,
  req: BindRequest,
  within: (tx: Repos, task: Task) => Promise<void>,
) => Promise<Task>;

export interface RotationDriverDeps {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  submit: SubmitWithin;
  /** The rotation's submitter as they stand now (null: the user no longer exists). */
  callerOf: (r: Rotation) => Promise<Caller | null>;
  /** Resolves when a task has finished (tasks this process runs end sooner than the next poll). */
  waitFor: (accountId: string, taskId: string) => Promise<Task>;
  pollMs: number;
}

/** Another process claimed the wave (or changed the rotation) first: this attempt's task is rolled back. */
class ClaimLost extends Error {}

const ITEM_PAGE = 1000;

export function createRotationDriver(deps: RotationDriverDeps) {
  const { store, clock, logger } = deps;
  let running: Promise<void> | null = null;
  let again = false;
  let stopTimer: (() => void) | null = null;
  let closed = false;

  function kick(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await tick().catch((err: unknown) => logger.warn('rotation round failed', { error: String(err) }));
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
  }

  async function tick(): Promise<void> {
    for (const r of await store.rotations.active()) {
      try {
        await advance(r);
      } catch (err) {
        logger.warn('rotation could not be advanced', { rotationId: r.id, error: String(err) });
      }
    }
  }

  async function advance(r: Rotation): Promise<void> {
    const waves = await store.rotations.waves(r.id);
    const inFlight = waves.find((w) => w.status === 'running');
    if (inFlight) {
      const task = inFlight.taskId ? await store.tasks.get(r.accountId, inFlight.taskId) : null;
      if (task?.finishedAt) await closeWave(r, waves, inFlight, task);
      else if (task) watch(task);
      return;
    }
    if (r.status !== 'running') return;
    const next = waves.find((w) => w.status === 'pending');
    if (!next) {
      await end(r, { ...r, status: 'completed', reason: null }, 'success', null);
      return;
    }
    if (r.nextWaveAt && r.nextWaveAt.getTime() > clock.now().getTime()) return;
    await startWave(r, next);
  }

  function watch(task: Task): void {
    void deps.waitFor(task.accountId, task.id).then(kick, () => undefined);
  }

  async function startWave(r: Rotation, wave: RotationWave): Promise<void> {
    const pending = await store.rotations.machines(r.id, {
      wave: wave.n,
      status: 'pending',
      offset: 0,
      limit: ROTATION_LIMITS.maxWaveSize,
    });
    const caller = await deps.callerOf(r);
    if (!caller) {
      await stop(r, `the user who started it no longer exists`);
      return;
    }
    // A machine no longer bound to A (unbound, or bound to another key pair since) is left as it is.
    const now = clock.now();
    const instances = new Map(
      (
        await store.instances.getMany(
          r.accountId,
          pending.items.map((m) => m.instanceId),
        )
      ).map((i) => [i.id, i]),
    );
    const stale: MachineResult[] = [];
    const ids: string[] = [];
    for (const m of pending.items) {
      const kp = instances.get(m.instanceId)?.keyPairName ?? null;
      if (kp === r.fromKeyPairName || kp === r.toKeyPairName) ids.push(m.instanceId);
      else
        stale.push({
          instanceId: m.instanceId,
          status: 'skipped',
          taskId: null,
          errorCode: null,
          detail: kp
            ? `now bound to '${kp}', not '${r.fromKeyPairName}': left as it is`
            : `no longer bound to '${r.fromKeyPairName}': left as it is`,
          finishedAt: now,
        });
    }
    if (ids.length === 0) {
      // Nothing left to change in this wave: close it without a task.
      await store
        .transaction(async (tx) => {
          if (!(await tx.rotations.claimWave(r.id, wave.n, wave.attempt, '', now))) throw new ClaimLost();
          await tx.rotations.setMachines(r.id, stale);
          await tx.rotations.finishWave(r.id, wave.n, '', { succeeded: 0, failed: 0 }, now);
          if (!(await tx.rotations.update({ ...r, updatedAt: now }))) throw new ClaimLost();
        })
        .catch((err: unknown) => {
          if (!(err instanceof ClaimLost)) throw err;
        });
      kick();
      return;
    }
    let credential: LiveCredential | undefined;
    if (r.mode === 'live') {
      const sealed = await store.rotations.credential(r.id);
      if (sealed) credential = JSON.parse(deps.secrets.open(sealed, rotationCredentialContext(r.id))) as LiveCredential;
    }
    const req: BindRequest = {
      regionId: r.regionId,
      kind: 'bind',
      keyPairName: r.toKeyPairName,
      instanceIds: ids,
      mode: r.mode,
      credential,
      options: r.port === null ? {} : { port: r.port },
      maxBatch: ROTATION_LIMITS.maxWaveSize,
    };
    try {
      const task = await deps.submit(caller, req, async (tx, task) => {
        if (!(await tx.rotations.claimWave(r.id, wave.n, wave.attempt, task.id, now))) throw new ClaimLost();
        await tx.rotations.setMachines(r.id, [
          ...stale,
          ...ids.map((instanceId) => ({
            instanceId,
            status: 'running' as const,
            taskId: task.id,
            errorCode: null,
            detail: null,
            finishedAt: null,
          })),
        ]);
        if (!(await tx.rotations.update({ ...r, nextWaveAt: null, updatedAt: now }))) throw new ClaimLost();
      });
      logger.info('rotation wave started', { rotationId: r.id, wave: wave.n, attempt: wave.attempt, taskId: task.id });
      watch(task);
    } catch (err) {
      if (err instanceof ClaimLost) return;
      // The wave cannot be made at all (B was deleted, the region is gone): say so and stop; nothing was changed.
      if (isCoreError(err)) await stop(r, `wave ${wave.n} could not start: ${err.message}`);
      else throw err;
    }
  }

  async function closeWave(r: Rotation, waves: RotationWave[], wave: RotationWave, task: Task): Promise<void> {
    const items: TaskItem[] = [];
    for (let offset = 0; ; offset += ITEM_PAGE) {
      const page = await store.tasks.items(task.id, { offset, limit: ITEM_PAGE });
      items.push(...page.items);
      if (page.items.length < ITEM_PAGE) break;
    }
    const results: MachineResult[] = items.map((i) => ({
      instanceId: i.instanceId,
      status: i.status === 'succeeded' ? 'succeeded' : 'failed',
      taskId: task.id,
      errorCode: i.status === 'succeeded' ? null : (i.errorCode ?? 'Internal'),
      detail: i.status === 'succeeded' ? i.note : (i.errorMessage ?? 'the change failed'),
      finishedAt: i.finishedAt,
    }));
    const succeeded = results.filter((m) => m.status === 'succeeded').length;
    const failed = results.length - succeeded;
    const now = clock.now();
    const totals = { ...r, succeeded: r.succeeded + succeeded, failed: r.failed + failed, updatedAt: now };
    const more = waves.some((w) => w.status === 'pending');
    let next: Rotation;
    let outcome: [AuditResult, string | null] | null = null;
    if (r.status === 'cancelled') {
      next = { ...totals, finishedAt: now };
      outcome = ['failure', 'Rotation.Cancelled'];
    } else if (failed > r.maxFailures) {
      next = {
        ...totals,
        status: 'stopped',
        nextWaveAt: null,
        reason: `wave ${wave.n} had ${failed} failed machine${failed === 1 ? '' : 's'}, more than the threshold of ${r.maxFailures}`,
      };
      outcome = ['failure', 'Rotation.Stopped'];
    } else if (!more) {
      next = { ...totals, status: 'completed', reason: null, nextWaveAt: null, finishedAt: now };
      outcome = ['success', null];
    } else next = { ...totals, nextWaveAt: new Date(now.getTime() + r.pauseMs) };

    const closed = await store
      .transaction(async (tx) => {
        if (!(await tx.rotations.finishWave(r.id, wave.n, task.id, { succeeded, failed }, now))) return false;
        await tx.rotations.setMachines(r.id, results);
        if (!(await tx.rotations.update(next))) throw new ClaimLost();
        if (next.finishedAt) await tx.rotations.wipeCredential(r.id);
        if (outcome) await tx.audit.append(outcomeEntry(next, outcome[0], outcome[1]));
        return true;
      })
      .catch((err: unknown) => {
        if (err instanceof ClaimLost) return false;
        throw err;
      });
    if (closed) {
      logger.info('rotation wave finished', { rotationId: r.id, wave: wave.n, succeeded, failed, status: next.status });
      kick();
    }
  }

  async function stop(r: Rotation, reason: string): Promise<void> {
    await end(r, { ...r, status: 'stopped', reason, nextWaveAt: null }, 'failure', 'Rotation.Stopped');
  }

  /** Moves the rotation to a state of its own making (stopped or completed) from the version read; audited. */
  async function end(r: Rotation, next: Rotation, result: AuditResult, code: string | null): Promise<void> {
    const now = clock.now();
    const final = { ...next, updatedAt: now, finishedAt: next.status === 'completed' ? now : null };
    await store.transaction(async (tx) => {
      if (!(await tx.rotations.update(final))) return;
      if (final.finishedAt) await tx.rotations.wipeCredential(r.id);
      await tx.audit.append(outcomeEntry(final, result, code));
    });
  }

  /** The audit entry of what a rotation came to, in its submitter's name, as a task's outcome is recorded. */
  function outcomeEntry(r: Rotation, result: AuditResult, errorCode: string | null): NewAuditEntry {
    const detail =
      r.status === 'completed'
        ? `rotation ${r.id} from '${r.fromKeyPairName}' to '${r.toKeyPairName}' completed: ${r.succeeded} of ${r.total} machines replaced, ${r.failed} failed`
        : `rotation ${r.id} ${r.status}: ${r.reason ?? ''} (${r.succeeded} of ${r.total} machines replaced so far)`;
    return {
      id: deps.ids.next('ev-', 20),
      at: clock.now(),
      accountId: r.accountId,
      userId: r.createdBy,
      userName: r.submitter?.userName ?? r.createdBy,
      accessKeyId: r.submitter?.accessKeyId ?? null,
      sessionId: r.submitter?.sessionId ?? null,
      face: r.face as Face,
      sourceIp: r.submitter?.sourceIp ?? '',
      action: 'keypair:Rotate',
      resources: resourceNames(r.accountId, [
        ref.keyPair(r.regionId, r.fromKeyPairName),
        ref.keyPair(r.regionId, r.toKeyPairName),
      ]),
      requestId: r.requestId,
      result,
      errorCode,
      stage: 'outcome',
      detail,
    };
  }

  return {
    kick,
    /** Runs one round now and waits for it (tests and the start of a process). */
    async round(): Promise<void> {
      kick();
      while (running) await running;
    },
    start(): void {
      stopTimer = clock.every(deps.pollMs, kick);
      kick();
    },
    async close(): Promise<void> {
      closed = true;
      stopTimer?.();
      stopTimer = null;
      await running;
    },
  };
}

export type RotationDriver = ReturnType<typeof createRotationDriver>;
