/**
 * What a user does with a rotation: start one (validated and planned into waves, in one transaction), read it, and
 * pause, resume or cancel it by hand. Starting waves and collecting their results is the driver's
 * (rotation-driver.ts); every change here is made on the version read, so it never overwrites the driver's.
 */
import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import { isPort } from '../../common/names.js';
import { notFound as keyPairNotFound } from '../keypair/keypair-service.js';
import type { LiveCredential, Page, Repos, SecretBox, Store } from '../ports.js';
import { LIST_PAGE, pageOf } from '../paging.js';
import { type Region, requireRegion } from '../region.js';
import { validateInstanceIds } from '../binding/bind-request.js';
import {
  canarySizeOf,
  isOpen,
  type MachineStatus,
  OPEN_STATUSES,
  planWaves,
  ROTATION_LIMITS,
  type Rotation,
  type RotationMachine,
  type RotationStatus,
  type RotationWave,
} from './rotation.js';

export interface RotationRequest {
  regionId: string;
  fromKeyPairName: unknown;
  toKeyPairName: unknown;
  /** A selection of the instances bound to A (absent: all of them). */
  instanceIds?: unknown;
  mode?: unknown;
  credential?: LiveCredential;
  port?: unknown;
  /** The canary wave: a count of machines, or a percentage of them (one of the two; default one machine). */
  canary?: unknown;
  canaryPercent?: unknown;
  waveSize: unknown;
  pauseSeconds?: unknown;
  maxFailures?: unknown;
}

export interface RotationServiceDeps {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  /** Tells the driver to look now (a rotation was created or resumed). */
  kick: () => void;
}

/** The SecretBox context of a rotation's credential: a seal opens only for the rotation it was made for. */
export function rotationCredentialContext(rotationId: string): string {
  return `rotation-credential:${rotationId}`;
}

export function rotationNotFound(id: unknown): CoreError {
  const shown = String(id).slice(0, 80);
  return new CoreError('Rotation.NotFound', `The rotation '${shown}' does not exist.`, { rotationId: shown });
}

function wholeIn(value: unknown, name: string, min: number, max: number, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new CoreError('Input.Missing', `${name} is required.`, { parameter: name });
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new CoreError('Input.Invalid', `${name} must be a whole number from ${min} to ${max}.`, {
      parameter: name,
      min,
      max,
    });
  return value;
}

function keyPairName(value: unknown, parameter: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 128)
    throw new CoreError('Input.Missing', `${parameter} must name a key pair.`, { parameter });
  return value;
}

const PAGE = 1000;

export function createRotationService({ store, secrets, clock, ids, regions, kick }: RotationServiceDeps) {
  async function get(caller: Caller, id: string): Promise<Rotation> {
    const r = typeof id === 'string' && id.length <= 64 ? await store.rotations.get(caller.accountId, id) : null;
    if (!r) throw rotationNotFound(id);
    return r;
  }

  /** Every instance of the region bound to the key pair, by id. */
  async function boundTo(accountId: string, regionId: string, name: string): Promise<string[]> {
    const out: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.instances.list({ accountId, regionId, keyPairName: name, offset, limit: PAGE });
      out.push(...page.items.map((i) => i.id));
      if (page.items.length < PAGE || out.length > ROTATION_LIMITS.maxInstances) return out.sort();
    }
  }

  /** Applies a change to the rotation as read; refused if it is not in one of `from` (someone else moved it). */
  async function transition(
    caller: Caller,
    id: string,
    from: readonly RotationStatus[],
    verb: string,
    change: (r: Rotation, tx: Repos) => Promise<Rotation>,
  ): Promise<Rotation> {
    for (;;) {
      const r = await get(caller, id);
      if (!from.includes(r.status))
        throw new CoreError(
          'Rotation.IncorrectStatus',
          `The rotation '${r.id}' is ${r.status}; only a ${from.join(' or ')} rotation can be ${verb}.`,
          {
            rotationId: r.id,
            status: r.status,
          },
        );
      const done = await store.transaction(async (tx) => {
        const next = await change(r, tx);
        return (await tx.rotations.update(next)) ? { ...next, version: next.version + 1 } : null;
      });
      if (done) {
        kick();
        return done;
      }
      // The driver moved it in between (a wave started or ended): read it again and decide on what it is now.
    }
  }

  return {
    async create(caller: Caller, req: RotationRequest): Promise<Rotation> {
      const region = requireRegion(regions, req.regionId);
      const fromName = keyPairName(req.fromKeyPairName, 'fromKeyPairName');
      const toName = keyPairName(req.toKeyPairName, 'toKeyPairName');
      if (fromName === toName)
        throw new CoreError(
          'Input.Invalid',
          'A rotation replaces one key pair by another: name two different key pairs.',
          {
            parameter: 'toKeyPairName',
          },
        );
      const mode = req.mode ?? 'live';
      if (mode !== 'live' && mode !== 'on-restart')
        throw new CoreError(
          'Input.Invalid',
          `The mode '${String(mode).slice(0, 40)}' is not valid; use 'live' or 'on-restart'.`,
          {
            parameter: 'mode',
          },
        );
      if (req.port !== undefined && (typeof req.port !== 'number' || !isPort(req.port)))
        throw new CoreError('Input.Invalid', `The SSH port '${String(req.port).slice(0, 20)}' is not valid.`, {
          parameter: 'port',
        });
      const waveSize = wholeIn(req.waveSize, 'waveSize', 1, ROTATION_LIMITS.maxWaveSize);
      const pauseSeconds = wholeIn(req.pauseSeconds, 'pauseSeconds', 0, ROTATION_LIMITS.maxPauseMs / 1000, 0);
      const maxFailures = wholeIn(req.maxFailures, 'maxFailures', 0, ROTATION_LIMITS.maxWaveSize, 0);
      if (req.canary !== undefined && req.canaryPercent !== undefined)
        throw new CoreError('Input.Invalid', 'Give the canary as a count or as a percentage, not both.', {
          parameter: 'canary',
        });
      const canary =
        req.canaryPercent !== undefined
          ? { percent: wholeIn(req.canaryPercent, 'canaryPercent', 1, 100) }
          : { count: wholeIn(req.canary, 'canary', 1, ROTATION_LIMITS.maxWaveSize, 1) };

      const from = await store.keyPairs.get(caller.accountId, region.id, fromName);
      if (!from) throw keyPairNotFound(fromName, region.id);
      const to = await store.keyPairs.get(caller.accountId, region.id, toName);
      if (!to) throw keyPairNotFound(toName, region.id);

      const bound = await boundTo(caller.accountId, region.id, from.name);
      let instanceIds: string[];
      if (req.instanceIds !== undefined) {
        instanceIds = validateInstanceIds(req.instanceIds, ROTATION_LIMITS.maxInstances);
        const isBound = new Set(bound);
        const stray = instanceIds.find((id) => !isBound.has(id));
        if (stray)
          throw new CoreError(
            'Instance.NotBound',
            `The instance '${stray}' is not bound to key pair '${from.name}' in region '${region.id}'.`,
            {
              instanceId: stray,
            },
          );
      } else instanceIds = bound;
      if (instanceIds.length === 0)
        throw new CoreError(
          'Rotation.NothingToRotate',
          `No instance in region '${region.id}' is bound to key pair '${from.name}'.`,
          {
            keyPairName: from.name,
          },
        );
      if (instanceIds.length > ROTATION_LIMITS.maxInstances)
        throw new CoreError(
          'Rotation.LimitExceeded',
          `A rotation changes at most ${ROTATION_LIMITS.maxInstances} instances; ${from.name} is bound to more: give a selection.`,
          {
            limit: ROTATION_LIMITS.maxInstances,
          },
        );
      const open = await store.rotations.list({
        accountId: caller.accountId,
        statuses: [...OPEN_STATUSES],
        offset: 0,
        limit: 1,
      });
      if (open.total >= ROTATION_LIMITS.maxOpenPerAccount)
        throw new CoreError(
          'Rotation.LimitExceeded',
          `At most ${ROTATION_LIMITS.maxOpenPerAccount} rotations may be open (running, paused or stopped) at once; finish or cancel one first.`,
          {
            limit: ROTATION_LIMITS.maxOpenPerAccount,
          },
        );

      const canarySize = Math.min(canarySizeOf(instanceIds.length, canary), ROTATION_LIMITS.maxWaveSize);
      const sizes = planWaves(instanceIds.length, canarySize, waveSize);
      const now = clock.now();
      const id = ids.next('rot-', 20);
      const rotation: Rotation = {
        id,
        accountId: caller.accountId,
        regionId: region.id,
        fromKeyPairId: from.id,
        fromKeyPairName: from.name,
        toKeyPairId: to.id,
        toKeyPairName: to.name,
        mode,
        port: req.port === undefined ? null : Number(req.port),
        canarySize,
        waveSize,
        pauseMs: pauseSeconds * 1000,
        maxFailures,
        status: 'running',
        reason: null,
        total: instanceIds.length,
        succeeded: 0,
        failed: 0,
        waveCount: sizes.length,
        nextWaveAt: now,
        face: caller.face,
        requestId: caller.requestId,
        createdBy: caller.userId,
        submitter: {
          userName: caller.userName,
          accessKeyId: caller.accessKeyId,
          sessionId: caller.sessionId,
          sourceIp: caller.sourceIp,
        },
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
        version: 0,
      };
      const waves: RotationWave[] = sizes.map((size, i) => ({
        rotationId: id,
        n: i + 1,
        attempt: 1,
        size,
        status: 'pending',
        taskId: null,
        succeeded: 0,
        failed: 0,
        startedAt: null,
        finishedAt: null,
      }));
      const machines: RotationMachine[] = [];
      let position = 0;
      sizes.forEach((size, w) => {
        for (let k = 0; k < size; k++, position++)
          machines.push({
            rotationId: id,
            instanceId: instanceIds[position]!,
            position,
            wave: w + 1,
            status: 'pending',
            taskId: null,
            errorCode: null,
            detail: null,
            finishedAt: null,
          });
      });
      // Sealed for the rotation's lifetime (each wave's task seals its own copy, wiped when the task ends); never
      // logged or shown. Wiped when the rotation completes or is cancelled.
      const sealed = req.credential
        ? secrets.seal(JSON.stringify(req.credential), rotationCredentialContext(id))
        : null;
      await store.rotations.insert(rotation, waves, machines, sealed);
      kick();
      return rotation;
    },

    get,
    async detail(caller: Caller, id: string): Promise<{ rotation: Rotation; waves: RotationWave[] }> {
      const rotation = await get(caller, id);
      return { rotation, waves: await store.rotations.waves(rotation.id) };
    },
    async list(
      caller: Caller,
      q: { regionId?: string; statuses?: RotationStatus[]; offset?: number; limit?: number },
    ): Promise<Page<Rotation>> {
      return store.rotations.list({
        accountId: caller.accountId,
        regionId: q.regionId,
        statuses: q.statuses,
        ...pageOf(q, LIST_PAGE),
      });
    },
    async machines(
      caller: Caller,
      id: string,
      q: { wave?: number; status?: MachineStatus; offset?: number; limit?: number },
    ): Promise<Page<RotationMachine>> {
      const rotation = await get(caller, id);
      return store.rotations.machines(rotation.id, {
        wave: q.wave,
        status: q.status,
        ...pageOf(q, { limit: 100, max: 1000 }),
      });
    },

    /** No further wave starts; a running wave finishes and its results are recorded. */
    pause: (caller: Caller, id: string, reason?: string) =>
      transition(caller, id, ['running'], 'paused', async (r) => ({
        ...r,
        status: 'paused',
        reason: reason ? `paused by ${caller.userName}: ${reason.slice(0, 200)}` : `paused by ${caller.userName}`,
        updatedAt: clock.now(),
      })),

    /**
     * Waves start again, the next one at once. A stopped rotation first retries the failed machines of the wave
     * that stopped it (a new attempt of that wave), so the fault removed, it can finish.
     */
    resume: (caller: Caller, id: string) =>
      transition(caller, id, ['paused', 'stopped'], 'resumed', async (r, tx) => {
        let retried = 0;
        if (r.status === 'stopped') {
          const waves = await tx.rotations.waves(r.id);
          for (const w of waves.filter((w) => w.status === 'done' && w.failed > 0)) {
            const moved = await tx.rotations.moveMachines(r.id, 'failed', 'pending', w.n);
            if (moved > 0) await tx.rotations.retryWave(r.id, w.n, moved);
            retried += moved;
          }
        }
        const now = clock.now();
        return { ...r, status: 'running', reason: null, failed: r.failed - retried, nextWaveAt: now, updatedAt: now };
      }),

    /** No wave starts again; machines not started are skipped; a running wave finishes and is recorded. */
    cancel: (caller: Caller, id: string) =>
      transition(caller, id, ['running', 'paused', 'stopped'], 'cancelled', async (r, tx) => {
        await tx.rotations.moveMachines(r.id, 'pending', 'skipped');
        const running = (await tx.rotations.waves(r.id)).some((w) => w.status === 'running');
        if (!running) await tx.rotations.wipeCredential(r.id);
        const now = clock.now();
        return {
          ...r,
          status: 'cancelled',
          reason: `cancelled by ${caller.userName}`,
          nextWaveAt: null,
          updatedAt: now,
          finishedAt: running ? null : now,
        };
      }),
    isOpen,
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
