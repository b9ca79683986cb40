/** Rotations in waves, in the shape the native API answers. */
import { request } from './client';
import type { LiveCredential } from './types';

export type RotationStatus = 'running' | 'paused' | 'stopped' | 'cancelled' | 'completed';
export type MachineStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface Rotation {
  id: string;
  regionId: string;
  fromKeyPairName: string;
  toKeyPairName: string;
  mode: 'live' | 'on-restart';
  canarySize: number;
  waveSize: number;
  pauseSeconds: number;
  maxFailures: number;
  status: RotationStatus;
  reason: string | null;
  total: number;
  succeeded: number;
  failed: number;
  waveCount: number;
  nextWaveAt: string | null;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface RotationWave {
  n: number;
  canary: boolean;
  attempt: number;
  size: number;
  status: 'pending' | 'running' | 'done';
  taskId: string | null;
  succeeded: number;
  failed: number;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RotationMachine {
  instanceId: string;
  wave: number;
  status: MachineStatus;
  taskId: string | null;
  errorCode: string | null;
  detail: string | null;
  finishedAt: string | null;
}

const enc = encodeURIComponent;

/** POST /regions/:regionId/rotations, as the CLI's `rotations start` sends it. */
export interface StartRotationRequest {
  fromKeyPairName: string;
  toKeyPairName: string;
  mode: 'live' | 'on-restart';
  credential?: LiveCredential;
  port?: number;
  waveSize: number;
  canary?: number;
  canaryPercent?: number;
  pauseSeconds?: number;
  maxFailures?: number;
}

export const rotationsApi = {
  start: (regionId: string, body: StartRotationRequest) =>
    request<{ rotation: Rotation }>('POST', `/regions/${enc(regionId)}/rotations`, body),
  list: (q: { regionId?: string; status?: RotationStatus; offset: number; limit: number }) => {
    const p = new URLSearchParams({ offset: String(q.offset), limit: String(q.limit) });
    if (q.regionId) p.set('regionId', q.regionId);
    if (q.status) p.set('status', q.status);
    return request<{ rotations: Rotation[]; total: number }>('GET', `/rotations?${p}`);
  },
  get: (id: string) => request<{ rotation: Rotation; waves: RotationWave[] }>('GET', `/rotations/${enc(id)}`),
  machines: (id: string, q: { wave?: number; status?: MachineStatus; offset: number; limit: number }) => {
    const p = new URLSearchParams({ offset: String(q.offset), limit: String(q.limit) });
    if (q.wave) p.set('wave', String(q.wave));
    if (q.status) p.set('status', q.status);
    return request<{ machines: RotationMachine[]; total: number }>('GET', `/rotations/${enc(id)}/machines?${p}`);
  },
  act: (id: string, verb: 'pause' | 'resume' | 'cancel') =>
    request<{ rotation: Rotation }>('POST', `/rotations/${enc(id)}/${verb}`, verb === 'pause' ? {} : undefined),
};

/** Whether the rotation may still change by itself (a wave running, or one due). */
export const rotationActive = (r: Rotation, waves?: RotationWave[]) =>
  r.status === 'running' || (waves?.some((w) => w.status === 'running') ?? false);
