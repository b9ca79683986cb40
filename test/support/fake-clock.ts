/**
 * A clock that moves only when the test says so: leases, backoff and pacing run in microseconds of real time,
 * and every wait the code under test starts is visible (`pending`). `advance` fires due timers in time order,
 * letting the promises each one resolves run before the next.
 */
import type { Clock } from '../../src/core/clock.js';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Moves time to the next timer and fires it (and any due with it); false when no timer waits. */
  next(): Promise<boolean>;
  /** Sleeps and periodic timers waiting, by due time. */
  pending(): number[];
  /** Every `sleep` asked for so far, in ms, in order. */
  readonly sleeps: number[];
}

/** Lets every promise chain that is ready run (several turns: store calls resolve over a few ticks). */
export async function settle(turns = 20): Promise<void> {
  for (let n = 0; n < turns; n++) await new Promise<void>((r) => setImmediate(r));
}

export function fakeClock(start = new Date('2026-01-01T00:00:00Z')): FakeClock {
  let now = start.getTime();
  let seq = 0;
  const timers: Timer[] = [];
  const sleeps: number[] = [];
  const add = (at: number, fire: () => void): Timer => {
    const t = { at, seq: seq++, fire };
    timers.push(t);
    return t;
  };
  const remove = (t: Timer) => {
    const i = timers.indexOf(t);
    if (i >= 0) timers.splice(i, 1);
  };
  async function fireDue(until: number): Promise<void> {
    for (;;) {
      await settle();
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const due = timers[0];
      if (!due || due.at > until) break;
      timers.shift();
      now = Math.max(now, due.at);
      due.fire();
    }
    now = Math.max(now, until);
    await settle();
  }
  return {
    now: () => new Date(now),
    sleep(ms, signal) {
      sleeps.push(ms);
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const t = add(now + Math.max(0, ms), () => resolve());
        signal?.addEventListener(
          'abort',
          () => {
            remove(t);
            resolve();
          },
          { once: true },
        );
      });
    },
    every(ms, fn) {
      let t: Timer;
      const arm = () => {
        t = add(now + ms, () => {
          arm();
          fn();
        });
      };
      arm();
      return () => remove(t);
    },
    advance: (ms) => fireDue(now + ms),
    async next() {
      await settle();
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!timers[0]) return false;
      await fireDue(timers[0].at);
      return true;
    },
    pending: () => timers.map((t) => t.at - now).sort((a, b) => a - b),
    sleeps,
  };
}
