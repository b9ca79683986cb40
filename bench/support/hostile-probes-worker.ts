/**
 * Tenant A's probes for bench/hostile-tenant.ts, in a process of their own. The attacks of tenant B are run by the
 * bench's process (200 sockets a round, SSH handshakes, 8 MiB downloads); when A's probes shared that event loop,
 * A's timings included the attacker's own client's lag, not only keyfleet's. Here A's DescribeKeyPairs and SSH
 * logins are timed on a loop that nothing else uses, and that loop's own delay is reported with each record, so a
 * lagging probe process would show.
 *
 * Started by the bench with fork() (argv[2]: the JSON of an ATarget); commands on IPC:
 *   { cmd: 'warm' }  → { ok: 'warm' }            (20 DescribeKeyPairs, 3 logins)
 *   { cmd: 'start' } → { ok: 'started' }         (probes back to back until 'stop')
 *   { cmd: 'stop' }  → { ok: 'stopped', record, loop }
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  type ATarget,
  describeAsA,
  type ProbeRecord,
  sshLoginAsA,
  startProbes,
} from '../../test/hostile/support/scenario.js';

export type ProbeCommand = { cmd: 'warm' } | { cmd: 'start' } | { cmd: 'stop' };

/** An event loop's delay over a phase, in milliseconds. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export type ProbeReply =
  | { ok: 'ready' }
  | { ok: 'warm' }
  | { ok: 'started' }
  | { ok: 'stopped'; record: ProbeRecord; loop: LoopDelay }
  | { ok: 'error'; message: string };

/** Reads and resets an event-loop delay histogram (values are nanoseconds). */
export function takeLoopDelay(h: ReturnType<typeof monitorEventLoopDelay>): LoopDelay {
  const out = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  h.reset();
  return out;
}

const isMain = process.send !== undefined && process.argv[2] !== undefined;

if (isMain) {
  const target = JSON.parse(process.argv[2]!) as ATarget;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let probes: ReturnType<typeof startProbes> | null = null;
  const reply = (r: ProbeReply) => process.send!(r);
  process.on('message', (m: ProbeCommand) => {
    void (async () => {
      try {
        if (m.cmd === 'warm') {
          for (let i = 0; i < 20; i++) await describeAsA(target);
          for (let i = 0; i < 3; i++) await sshLoginAsA(target);
          reply({ ok: 'warm' });
        } else if (m.cmd === 'start') {
          takeLoopDelay(loop);
          probes = startProbes(target);
          reply({ ok: 'started' });
        } else if (m.cmd === 'stop') {
          const record = await probes!.stop();
          probes = null;
          reply({ ok: 'stopped', record, loop: takeLoopDelay(loop) });
        }
      } catch (err) {
        reply({ ok: 'error', message: (err as Error).message });
      }
    })();
  });
  // The bench ends this process by disconnecting (or exiting, which closes the channel).
  process.on('disconnect', () => process.exit(0));
  reply({ ok: 'ready' });
}
