import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, IdGen } from '../core/clock.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Random identifiers in the clouds' shapes (`i-` + 20 lower-case characters), uniform over the alphabet. */
export function createIdGen(): IdGen {
  return {
    next(prefix, length = 20) {
      let out = '';
      while (out.length < length) {
        for (const b of randomBytes(length * 2)) {
          if (b < 252 && out.length < length) out += ALPHABET[b % 36];
        }
      }
      return prefix + out;
    },
    uuid: () => randomUUID(),
    random: () => Math.random(),
  };
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
