/**
 * SSH connections in flight, for the `ssh_sessions_in_flight` gauge: any LiveAccess (the SSH adapter, or a
 * benchmark's stand-in) counted from the call until its connection is given back. A session counts from the dial
 * until close() (or until the dial fails); a probe or a login check for the length of the call.
 */
import type { Metrics } from '../../core/metrics.js';
import type { LiveAccess, LiveSession } from '../../core/ports.js';

export function countedLiveAccess(access: LiveAccess, metrics: Metrics): LiveAccess {
  const during = async <T>(use: string, fn: () => Promise<T>): Promise<T> => {
    metrics.add('ssh_sessions_in_flight', { use }, 1);
    try {
      return await fn();
    } finally {
      metrics.add('ssh_sessions_in_flight', { use }, -1);
    }
  };
  return {
    async openSession(target, credential, hostKey, opts) {
      metrics.add('ssh_sessions_in_flight', { use: 'session' }, 1);
      let session: LiveSession;
      try {
        session = await access.openSession(target, credential, hostKey, opts);
      } catch (err) {
        metrics.add('ssh_sessions_in_flight', { use: 'session' }, -1);
        throw err;
      }
      let open = true;
      const close = session.close.bind(session);
      // The session's own object is kept (its methods read private state); only close() is counted.
      session.close = () => {
        if (open) {
          open = false;
          metrics.add('ssh_sessions_in_flight', { use: 'session' }, -1);
        }
        close();
      };
      return session;
    },
    probeLogin: (target, hostKey, publicKeyLine, opts) =>
      during('probe', () => access.probeLogin(target, hostKey, publicKeyLine, opts)),
    tryLogin: (target, credential, hostKey, opts) =>
      during('login', () => access.tryLogin(target, credential, hostKey, opts)),
  };
}
