/**
 * Rotations, their waves and per-machine results. Every change a driver or a user makes is conditional on what it
 * read: the rotation on its version, a wave's claim on its status (pending → running) and its close on its task, so
 * of two processes that act on the same read exactly one writes (on PostgreSQL the second UPDATE waits for the
 * first to commit, then finds its condition false).
 */
import type { Page } from '../../core/ports.js';
import type {
  MachineStatus,
  Rotation,
  RotationMachine,
  RotationRepo,
  RotationStatus,
  RotationWave,
  WaveStatus,
} from '../../core/rotation/rotation.js';
import type { TaskMode, TaskSubmitter } from '../../core/task/task.js';
import type { RotationMachinesTable, RotationsTable, RotationWavesTable } from '../schema.js';
import { fromMs, fromMsOrNull, type RepoContext, toMs } from './common.js';

const msOrNull = (d: Date | null): number | null => (d ? toMs(d) : null);
/** Rows per INSERT: well under SQLite's bound on parameters of one statement. */
const INSERT_CHUNK = 500;

function rotationFromRow(r: RotationsTable): Rotation {
  return {
    id: r.id,
    accountId: r.account_id,
    regionId: r.region_id,
    fromKeyPairId: r.from_key_pair_id,
    fromKeyPairName: r.from_key_pair_name,
    toKeyPairId: r.to_key_pair_id,
    toKeyPairName: r.to_key_pair_name,
    mode: r.mode as TaskMode,
    port: r.port === null ? null : Number(r.port),
    canarySize: Number(r.canary_size),
    waveSize: Number(r.wave_size),
    pauseMs: Number(r.pause_ms),
    maxFailures: Number(r.max_failures),
    status: r.status as RotationStatus,
    reason: r.reason,
    total: Number(r.total),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    waveCount: Number(r.wave_count),
    nextWaveAt: fromMsOrNull(r.next_wave_at),
    face: r.face,
    requestId: r.request_id,
    createdBy: r.created_by,
    submitter: r.submitter ? (JSON.parse(r.submitter) as TaskSubmitter) : null,
    createdAt: fromMs(r.created_at),
    updatedAt: fromMs(r.updated_at),
    finishedAt: fromMsOrNull(r.finished_at),
    version: Number(r.version),
  };
}

/** The columns a change of state writes (never the plan, the owner or the credential). */
function stateOf(r: Rotation) {
  return {
    status: r.status,
    reason: r.reason,
    succeeded: r.succeeded,
    failed: r.failed,
    next_wave_at: msOrNull(r.nextWaveAt),
    updated_at: toMs(r.updatedAt),
    finished_at: msOrNull(r.finishedAt),
  };
}

function waveFromRow(r: RotationWavesTable): RotationWave {
  return {
    rotationId: r.rotation_id,
    n: Number(r.n),
    attempt: Number(r.attempt),
    size: Number(r.size),
    status: r.status as WaveStatus,
    taskId: r.task_id,
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    startedAt: fromMsOrNull(r.started_at),
    finishedAt: fromMsOrNull(r.finished_at),
  };
}

function machineFromRow(r: RotationMachinesTable): RotationMachine {
  return {
    rotationId: r.rotation_id,
    instanceId: r.instance_id,
    position: Number(r.position),
    wave: Number(r.wave),
    status: r.status as MachineStatus,
    taskId: r.task_id,
    errorCode: r.error_code,
    detail: r.detail,
    finishedAt: fromMsOrNull(r.finished_at),
  };
}

export function createRotationRepo({ db }: RepoContext): RotationRepo {
  return {
    async insert(r, waves, machines, sealedCredential) {
      await db
        .insertInto('rotations')
        .values({
          id: r.id,
          account_id: r.accountId,
          region_id: r.regionId,
          from_key_pair_id: r.fromKeyPairId,
          from_key_pair_name: r.fromKeyPairName,
          to_key_pair_id: r.toKeyPairId,
          to_key_pair_name: r.toKeyPairName,
          mode: r.mode,
          port: r.port,
          canary_size: r.canarySize,
          wave_size: r.waveSize,
          pause_ms: r.pauseMs,
          max_failures: r.maxFailures,
          total: r.total,
          wave_count: r.waveCount,
          face: r.face,
          request_id: r.requestId,
          created_by: r.createdBy,
          submitter: r.submitter ? JSON.stringify(r.submitter) : null,
          sealed_credential: sealedCredential,
          created_at: toMs(r.createdAt),
          version: r.version,
          ...stateOf(r),
        })
        .execute();
      for (let i = 0; i < waves.length; i += INSERT_CHUNK)
        await db
          .insertInto('rotation_waves')
          .values(
            waves.slice(i, i + INSERT_CHUNK).map((w) => ({
              rotation_id: w.rotationId,
              n: w.n,
              attempt: w.attempt,
              size: w.size,
              status: w.status,
              task_id: w.taskId,
              succeeded: w.succeeded,
              failed: w.failed,
              started_at: msOrNull(w.startedAt),
              finished_at: msOrNull(w.finishedAt),
            })),
          )
          .execute();
      for (let i = 0; i < machines.length; i += INSERT_CHUNK)
        await db
          .insertInto('rotation_machines')
          .values(
            machines.slice(i, i + INSERT_CHUNK).map((m) => ({
              rotation_id: m.rotationId,
              instance_id: m.instanceId,
              position: m.position,
              wave: m.wave,
              status: m.status,
              task_id: m.taskId,
              error_code: m.errorCode,
              detail: m.detail,
              finished_at: msOrNull(m.finishedAt),
            })),
          )
          .execute();
    },

    async get(accountId, id) {
      const r = await db
        .selectFrom('rotations')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? rotationFromRow(r) : null;
    },

    async list(f): Promise<Page<Rotation>> {
      let q = db.selectFrom('rotations').where('account_id', '=', f.accountId);
      if (f.regionId) q = q.where('region_id', '=', f.regionId);
      if (f.statuses?.length) q = q.where('status', 'in', f.statuses);
      const total = await q.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .offset(f.offset)
        .limit(f.limit)
        .execute();
      return { items: rows.map(rotationFromRow), total: Number(total.n) };
    },

    async waves(rotationId) {
      const rows = await db
        .selectFrom('rotation_waves')
        .selectAll()
        .where('rotation_id', '=', rotationId)
        .orderBy('n')
        .execute();
      return rows.map(waveFromRow);
    },

    async machines(rotationId, f) {
      let q = db.selectFrom('rotation_machines').where('rotation_id', '=', rotationId);
      if (f.wave !== undefined) q = q.where('wave', '=', f.wave);
      if (f.status) q = q.where('status', '=', f.status);
      const total = await q.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q.selectAll().orderBy('position').offset(f.offset).limit(f.limit).execute();
      return { items: rows.map(machineFromRow), total: Number(total.n) };
    },

    async active() {
      const rows = await db
        .selectFrom('rotations')
        .selectAll()
        .where((e) =>
          e.or([
            e('status', '=', 'running'),
            e('id', 'in', e.selectFrom('rotation_waves').select('rotation_id').where('status', '=', 'running')),
          ]),
        )
        .orderBy('created_at')
        .execute();
      return rows.map(rotationFromRow);
    },

    async update(r) {
      const res = await db
        .updateTable('rotations')
        .set({ ...stateOf(r), version: r.version + 1 })
        .where('id', '=', r.id)
        .where('version', '=', r.version)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async claimWave(rotationId, n, attempt, taskId, now) {
      const res = await db
        .updateTable('rotation_waves')
        .set({ status: 'running', task_id: taskId, started_at: toMs(now), finished_at: null, succeeded: 0, failed: 0 })
        .where('rotation_id', '=', rotationId)
        .where('n', '=', n)
        .where('attempt', '=', attempt)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async finishWave(rotationId, n, taskId, counts, now) {
      const res = await db
        .updateTable('rotation_waves')
        .set({ status: 'done', succeeded: counts.succeeded, failed: counts.failed, finished_at: toMs(now) })
        .where('rotation_id', '=', rotationId)
        .where('n', '=', n)
        .where('task_id', '=', taskId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async retryWave(rotationId, n, size) {
      await db
        .updateTable('rotation_waves')
        .set((e) => ({ status: 'pending', attempt: e('attempt', '+', 1), size, task_id: null }))
        .where('rotation_id', '=', rotationId)
        .where('n', '=', n)
        .where('status', '=', 'done')
        .execute();
    },

    async setMachines(rotationId, results) {
      for (const m of results)
        await db
          .updateTable('rotation_machines')
          .set({
            status: m.status,
            task_id: m.taskId,
            error_code: m.errorCode,
            detail: m.detail === null ? null : m.detail.slice(0, 2000),
            finished_at: msOrNull(m.finishedAt),
          })
          .where('rotation_id', '=', rotationId)
          .where('instance_id', '=', m.instanceId)
          .execute();
    },

    async moveMachines(rotationId, from, to, wave) {
      let q = db
        .updateTable('rotation_machines')
        .set({ status: to })
        .where('rotation_id', '=', rotationId)
        .where('status', '=', from);
      if (wave !== undefined) q = q.where('wave', '=', wave);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows);
    },

    async credential(rotationId) {
      const r = await db
        .selectFrom('rotations')
        .select('sealed_credential')
        .where('id', '=', rotationId)
        .executeTakeFirst();
      return r?.sealed_credential ?? null;
    },

    async wipeCredential(rotationId) {
      await db.updateTable('rotations').set({ sealed_credential: null }).where('id', '=', rotationId).execute();
    },
  };
}
