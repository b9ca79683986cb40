/**
 * The serving process's reconcile with the store (fleet-follower.ts), with a fleet that records what it listens
 * on: Running machines are served, machines the store no longer runs are let go, and a machine the store still
 * shows Starting is left as it is — its boot serves it before it records Running, so a reconcile reading the store
 * in between must not close it (a chaos-suite flake found this: a machine served, then closed by the reconcile,
 * recorded Running while it refused connections until the next reconcile).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFleetFollower, type FollowedMachine } from '../../src/backends/sim/fleet-follower.js';
import type { SimSshEndpoint, SimSshFleet } from '../../src/backends/sim/ssh-server.js';

function recordingFleet(initially: string[]): SimSshFleet & { listening: Set<string> } {
  const listening = new Set(initially);
  return {
    listening,
    serve: async (ep: SimSshEndpoint) => void listening.add(ep.instanceId),
    adopt: async (ep: SimSshEndpoint) => void listening.add(ep.instanceId),
    stop: async (id: string) => void listening.delete(id),
    stopAll: async () => listening.clear(),
    serving: () => listening.size,
    servingIds: () => [...listening],
  };
}

const machine = (id: string, status: FollowedMachine['status']): FollowedMachine => ({
  instanceId: id,
  address: '127.16.0.1',
  sshPort: 2222,
  status,
});

test('reconcile: serves Running, lets go of what the store does not run, leaves Starting machines alone', async () => {
  // Served now: a machine mid-boot (served, not yet recorded Running), one the store stopped, one Running.
  const fleet = recordingFleet(['i-booting', 'i-stopped', 'i-running']);
  let reconciled!: () => void;
  const done = new Promise<void>((r) => (reconciled = r));
  const follower = createFleetFollower({
    fleet,
    leadership: { start: (onChange) => onChange(true), isLeader: () => true, close: async () => undefined },
    signals: { publish: async () => undefined, subscribe: () => () => undefined },
    origin: 'test',
    rootDirOf: (id) => `/nonexistent/${id}`,
    running: async () => {
      setImmediate(reconciled);
      return [
        machine('i-booting', 'Starting'),
        machine('i-running', 'Running'),
        machine('i-unserved', 'Running'),
        machine('i-starting-unserved', 'Starting'),
      ];
    },
    warn: () => undefined,
    reconcileMs: 0,
  });
  follower.start();
  await done;
  // Let the reconcile's queued serve/stop work run.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual([...fleet.listening].sort(), ['i-booting', 'i-running', 'i-unserved']);
  await follower.close();
});
