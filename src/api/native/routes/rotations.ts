/**
 * Rotations in waves: start one (replace key pair A by B on the instances bound to A), read it with its waves and
 * per-machine results, pause, resume and cancel it. The numbers' bounds are the core's (ROTATION_LIMITS); the
 * core checks them again for every face.
 */
import { Type } from 'typebox';
import type { MachineStatus, Rotation, RotationMachine, RotationWave } from '../../../core/rotation/rotation.js';
import { ROTATION_LIMITS } from '../../../core/rotation/rotation.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { BoundedInteger, CredentialSchema, IdParams, RegionParams } from '../schemas.js';

const Int = (minimum: number, maximum: number) => BoundedInteger({ minimum, maximum });

const RotationBody = Type.Object(
  {
    fromKeyPairName: Type.String({ minLength: 1, maxLength: 128 }),
    toKeyPairName: Type.String({ minLength: 1, maxLength: 128 }),
    // A selection of the instances bound to the first key pair (absent: all of them); checked by the core.
    instanceIds: Type.Optional(Type.Array(Type.Unknown(), { maxItems: ROTATION_LIMITS.maxInstances })),
    mode: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('on-restart')])),
    credential: Type.Optional(CredentialSchema),
    port: Type.Optional(Int(1, 65535)),
    canary: Type.Optional(Int(1, ROTATION_LIMITS.maxWaveSize)),
    canaryPercent: Type.Optional(Int(1, 100)),
    waveSize: Int(1, ROTATION_LIMITS.maxWaveSize),
    pauseSeconds: Type.Optional(Int(0, ROTATION_LIMITS.maxPauseMs / 1000)),
    maxFailures: Type.Optional(Int(0, ROTATION_LIMITS.maxWaveSize)),
  },
  { additionalProperties: false },
);

const STATUSES = ['running', 'paused', 'stopped', 'cancelled', 'completed'];
const ListQuery = Type.Object({
  regionId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  status: Type.Optional(Type.Union(STATUSES.map((s) => Type.Literal(s)))),
  offset: Type.Optional(Int(0, 10_000_000)),
  limit: Type.Optional(Int(1, 1000)),
});
const MachinesQuery = Type.Object({
  wave: Type.Optional(Int(1, ROTATION_LIMITS.maxInstances)),
  status: Type.Optional(
    Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped'].map((s) => Type.Literal(s))),
  ),
  offset: Type.Optional(Int(0, 10_000_000)),
  limit: Type.Optional(Int(1, 1000)),
});
const PauseBody = Type.Optional(
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
);

export function rotationView(r: Rotation) {
  return {
    id: r.id,
    regionId: r.regionId,
    fromKeyPairName: r.fromKeyPairName,
    toKeyPairName: r.toKeyPairName,
    mode: r.mode,
    port: r.port,
    canarySize: r.canarySize,
    waveSize: r.waveSize,
    pauseSeconds: r.pauseMs / 1000,
    maxFailures: r.maxFailures,
    status: r.status,
    reason: r.reason,
    total: r.total,
    succeeded: r.succeeded,
    failed: r.failed,
    waveCount: r.waveCount,
    nextWaveAt: r.nextWaveAt?.toISOString() ?? null,
    createdBy: r.submitter?.userName ?? r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export function waveView(w: RotationWave) {
  return {
    n: w.n,
    canary: w.n === 1,
    attempt: w.attempt,
    size: w.size,
    status: w.status,
    taskId: w.taskId || null,
    succeeded: w.succeeded,
    failed: w.failed,
    startedAt: w.startedAt?.toISOString() ?? null,
    finishedAt: w.finishedAt?.toISOString() ?? null,
  };
}

export function machineView(m: RotationMachine) {
  return {
    instanceId: m.instanceId,
    wave: m.wave,
    status: m.status,
    taskId: m.taskId || null,
    errorCode: m.errorCode,
    detail: m.detail,
    finishedAt: m.finishedAt?.toISOString() ?? null,
  };
}

export function rotationRoutes(app: NativeApp, { core }: NativeContext) {
  const detail = (d: { rotation: Rotation; waves: RotationWave[] }) => ({
    rotation: rotationView(d.rotation),
    waves: d.waves.map(waveView),
  });
  app.post(
    '/regions/:regionId/rotations',
    {
      schema: {
        params: RegionParams,
        body: RotationBody,
        tags: ['rotations'],
        summary:
          'Replace key pair A by B on the instances bound to A, in waves: a canary, then waves of waveSize with pauseSeconds between them; a wave with more than maxFailures failed machines stops the rotation.',
      },
    },
    async (req, reply) => {
      const b = req.body;
      const r = await core.rotations.create(callerOf(req), { ...b, regionId: req.params.regionId });
      return reply.status(201).send({ rotation: rotationView(r) });
    },
  );
  app.get('/rotations', { schema: { querystring: ListQuery, tags: ['rotations'] } }, async (req) => {
    const q = req.query;
    const page = await core.rotations.list(callerOf(req), {
      regionId: q.regionId,
      statuses: q.status ? [q.status as Rotation['status']] : undefined,
      offset: q.offset,
      limit: q.limit,
    });
    return { rotations: page.items.map(rotationView), total: page.total };
  });
  app.get('/rotations/:id', { schema: { params: IdParams, tags: ['rotations'] } }, async (req) =>
    detail(await core.rotations.get(callerOf(req), req.params.id)),
  );
  app.get(
    '/rotations/:id/machines',
    { schema: { params: IdParams, querystring: MachinesQuery, tags: ['rotations'] } },
    async (req) => {
      const q = req.query;
      const page = await core.rotations.machines(callerOf(req), req.params.id, {
        wave: q.wave,
        status: q.status as MachineStatus | undefined,
        offset: q.offset,
        limit: q.limit,
      });
      return { machines: page.items.map(machineView), total: page.total };
    },
  );
  app.post(
    '/rotations/:id/pause',
    { schema: { params: IdParams, body: PauseBody, tags: ['rotations'] } },
    async (req) => ({
      rotation: rotationView(await core.rotations.pause(callerOf(req), req.params.id, req.body?.reason)),
    }),
  );
  app.post('/rotations/:id/resume', { schema: { params: IdParams, tags: ['rotations'] } }, async (req) => ({
    rotation: rotationView(await core.rotations.resume(callerOf(req), req.params.id)),
  }));
  app.post('/rotations/:id/cancel', { schema: { params: IdParams, tags: ['rotations'] } }, async (req) => ({
    rotation: rotationView(await core.rotations.cancel(callerOf(req), req.params.id)),
  }));
}
