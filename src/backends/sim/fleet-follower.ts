/**
 * The simulated fleet's SSH in a cluster: several keyfleet processes share one store and one data directory, but
 * an address can be listened on by one process only. The process that holds leadership (Leadership port) serves
 * every Running machine; the others serve none. Whatever process starts, stops or reboots a machine applies the
 * disk side itself (cloud-init writes to the shared data directory) and announces the power change (InstanceSignals);
 * the leader follows: it listens, drops connections, listens again, in the order announced.
 *
 * Signals are best effort (a leader that just took over missed those sent before), so the leader also reconciles
 * from the store: at once when it gains the role and every `reconcileMs` after. A reconcile never undoes a change
 * heard after it began reading (the list it read may predate it). A process that starts a machine while not leading
 * waits (bounded) until the machine answers on its address, so a boot still ends with the machine serving SSH, as
 * the compute port promises, and the boot's proof that follows meets the machine.
 */
import net from 'node:net';
import { createSemaphore } from '../../common/concurrency.js';
import type { InstancePowerSignal, InstanceSignals, Leadership } from '../../core/ports.js';
import type { SimSshEndpoint, SimSshFleet } from './ssh-server.js';

export interface FollowedMachine {
  instanceId: string;
  address: string;
  sshPort: number;
  /**
   * Starting: a process is booting it (it stops serving, writes the disk, serves again, then records Running). A
   * reconcile neither serves it (the disk may be half written) nor stops it (the boot may already serve it while
   * the store still says Starting).
   */
  status: 'Running' | 'Starting';
}

export interface FleetFollowerOptions {
  /** The listeners of this process. */
  fleet: SimSshFleet;
  leadership: Leadership;
  signals: InstanceSignals;
  /** This process, as signals name it. */
  origin: string;
  rootDirOf(instanceId: string): string;
  /** The Running and Starting simulated Linux machines, as the store has them. */
  running(): Promise<FollowedMachine[]>;
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** How often the leader reconciles with the store (0: only when it gains the role). */
  reconcileMs: number;
  /** How long a process that does not lead waits for a machine it started to answer. */
  reachWaitMs?: number;
}

export interface FleetFollower extends SimSshFleet {
  /** Starts following (competes for leadership, hears signals). */
  start(): void;
  isLeader(): boolean;
  close(): Promise<void>;
}

/** Listeners opened at once when a leader takes over (each is a bind() and a few objects). */
const TAKEOVER_CONCURRENCY = 64;
const REACH_WAIT_MS = 5000;

export function createFleetFollower(opts: FleetFollowerOptions): FleetFollower {
  const { fleet, leadership, signals } = opts;
  const chains = new Map<string, Promise<void>>();
  /** Order of the power changes this process has seen (made or heard), per machine. */
  let seq = 0;
  const touched = new Map<string, number>();
  const touch = (id: string) => touched.set(id, ++seq);
  let unsubscribe: (() => void) | null = null;
  let reconcileTimer: NodeJS.Timeout | null = null;
  let reconciling = false;
  let closed = false;
  const slots = createSemaphore(TAKEOVER_CONCURRENCY);

  /** Power changes of one machine are applied one after another, in the order they were made or heard. */
  function enqueue(id: string, work: () => Promise<void>): Promise<void> {
    const prev = chains.get(id) ?? Promise.resolve();
    const next = prev.then(work).catch((err: unknown) =>
      opts.warn('simulated fleet: a power change failed', {
        instanceId: id,
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    chains.set(id, next);
    void next.finally(() => {
      if (chains.get(id) === next) chains.delete(id);
    });
    return next;
  }

  const endpoint = (m: Pick<FollowedMachine, 'instanceId' | 'address' | 'sshPort'>): SimSshEndpoint => ({
    instanceId: m.instanceId,
    rootDir: opts.rootDirOf(m.instanceId),
    address: m.address,
    port: m.sshPort,
  });

  async function announce(s: Omit<InstancePowerSignal, 'origin'>): Promise<void> {
    try {
      await signals.publish({ ...s, origin: opts.origin });
    } catch (err) {
      // The leader's reconcile picks the change up from the store.
      opts.warn('simulated fleet: could not announce a power change', {
        instanceId: s.instanceId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  function heard(s: InstancePowerSignal): void {
    if (s.origin === opts.origin || closed) return;
    touch(s.instanceId);
    if (!leadership.isLeader()) return;
    const m = { instanceId: s.instanceId, address: s.address, sshPort: s.sshPort };
    void enqueue(s.instanceId, () => (s.op === 'serve' ? fleet.serve(endpoint(m)) : fleet.stop(s.instanceId)));
  }

  async function reconcile(): Promise<void> {
    if (reconciling || closed || !leadership.isLeader()) return;
    reconciling = true;
    try {
      const since = seq;
      const changedSince = (id: string) => (touched.get(id) ?? 0) > since;
      const want = await opts.running();
      if (!leadership.isLeader() || closed) return;
      const wanted = new Set(want.map((m) => m.instanceId));
      const work: Array<Promise<void>> = [];
      for (const m of want) {
        if (m.status !== 'Running' || changedSince(m.instanceId)) continue;
        work.push(
          slots.run(() =>
            enqueue(m.instanceId, () => (changedSince(m.instanceId) ? Promise.resolve() : fleet.serve(endpoint(m)))),
          ),
        );
      }
      for (const id of fleet.servingIds()) {
        if (wanted.has(id) || changedSince(id)) continue;
        work.push(enqueue(id, () => (changedSince(id) ? Promise.resolve() : fleet.stop(id))));
      }
      await Promise.all(work);
    } catch (err) {
      opts.warn('simulated fleet: reconcile with the store failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      reconciling = false;
    }
  }

  function onLeadership(leader: boolean): void {
    if (closed) return;
    if (leader) {
      opts.warn('this process now serves the simulated fleet', { origin: opts.origin });
      void reconcile();
      if (opts.reconcileMs > 0 && !reconcileTimer) {
        reconcileTimer = setInterval(() => void reconcile(), opts.reconcileMs);
        reconcileTimer.unref();
      }
    } else {
      if (reconcileTimer) clearInterval(reconcileTimer);
      reconcileTimer = null;
      // Another process may be granted the role now: every address is let go at once.
      void fleet.stopAll();
    }
  }

  return {
    start() {
      unsubscribe ??= signals.subscribe(heard);
      leadership.start(onLeadership);
    },
    isLeader: () => leadership.isLeader(),

    async serve(ep) {
      touch(ep.instanceId);
      if (leadership.isLeader()) await enqueue(ep.instanceId, () => fleet.serve(ep));
      await announce({ op: 'serve', instanceId: ep.instanceId, address: ep.address, sshPort: ep.port });
      if (!leadership.isLeader() && !(await reachable(ep.address, ep.port, opts.reachWaitMs ?? REACH_WAIT_MS)))
        opts.warn('simulated fleet: no process served a machine started here in time', { instanceId: ep.instanceId });
    },

    async adopt(ep) {
      // A machine that was running when this process started: the leader serves it, nobody is told.
      if (leadership.isLeader()) await enqueue(ep.instanceId, () => fleet.serve(ep));
    },

    async stop(instanceId, ep) {
      touch(instanceId);
      if (leadership.isLeader()) await enqueue(instanceId, () => fleet.stop(instanceId));
      await announce({ op: 'stop', instanceId, address: ep?.address ?? '', sshPort: ep?.port ?? 0 });
    },

    stopAll: () => fleet.stopAll(),
    serving: () => fleet.serving(),
    servingIds: () => fleet.servingIds(),

    async close() {
      closed = true;
      unsubscribe?.();
      if (reconcileTimer) clearInterval(reconcileTimer);
      reconcileTimer = null;
      // Every address let go before the role is: the next leader must be able to listen on them.
      await fleet.stopAll();
      await leadership.close();
    },
  };
}

/** Whether something accepts TCP connections on address:port within `ms` (tried every 50 ms). */
async function reachable(address: string, port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port });
      socket.setTimeout(Math.max(50, deadline - Date.now()));
      const done = (v: boolean) => {
        socket.destroy();
        resolve(v);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
    if (ok) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
