/**
 * An in-memory stand-in for SSH access to a fleet, for tests and benchmarks of keyfleet's own layers (task runner,
 * binding executors): each address has its files, sessions answer at once, and a probe answers as sshd would from
 * those files (a key is accepted when its body is in authorized_keys; password is offered unless keyfleet's drop-in
 * turns it off). Faults are injected per address. Real SSH is tested against real sshd elsewhere.
 */
import { CoreError } from '../../src/core/errors.js';
import type { LiveAccess, LiveSession, RemoteFile } from '../../src/core/ports.js';

export const MEMORY_HOST_KEY = 'SHA256:' + Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '');

export interface MemoryFleet extends LiveAccess {
  files: Map<string, RemoteFile>;
  /** Sessions opened per address. */
  opened: Map<string, number>;
  /** The next `n` session openings to `host` fail as unreachable. */
  failNext(host: string, n: number): void;
  /** Methods `host` offers whatever its files say (e.g. keyboard-interactive turned on by another drop-in). */
  alsoOffers(host: string, methods: string[]): void;
}

const keyBody = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

export function memoryFleet(): MemoryFleet {
  const files = new Map<string, RemoteFile>();
  const opened = new Map<string, number>();
  const failures = new Map<string, number>();
  const extra = new Map<string, string[]>();
  const write = (host: string, p: string, content: string, attrs: { mode: number; uid?: number; gid?: number }) =>
    void files.set(`${host}:${p}`, { content, mode: attrs.mode, uid: attrs.uid ?? 0, gid: attrs.gid ?? 0 });
  const unreachableOnce = (host: string) => {
    const left = failures.get(host) ?? 0;
    if (left <= 0) return;
    failures.set(host, left - 1);
    throw new CoreError('Live.Unreachable', `${host} did not answer (injected).`);
  };
  const session = (host: string): LiveSession => ({
    hostKeySha256: MEMORY_HOST_KEY,
    readFile: async (p) => files.get(`${host}:${p}`) ?? null,
    readForReplace: async (p) => ({
      current: files.get(`${host}:${p}`) ?? null,
      directory: { mode: 0o700, uid: 0, gid: 0 },
      replace: async (content, attrs) => write(host, p, content, attrs),
      discard: async () => undefined,
    }),
    writeFileAtomic: async (p, content, attrs) => write(host, p, content, attrs),
    ensureDir: async () => undefined,
    removeFile: async (p) => void files.delete(`${host}:${p}`),
    exec: async () => ({ code: 0, stdout: '', stderr: '' }),
    close: () => undefined,
  });
  const filesOf = (host: string) =>
    [...files.entries()]
      .filter(([k]) => k.startsWith(`${host}:`))
      .map(([k, f]) => ({ path: k.slice(host.length + 1), content: f.content }));
  return {
    files,
    opened,
    failNext: (host, n) => void failures.set(host, n),
    alsoOffers: (host, methods) => void extra.set(host, methods),
    async openSession(target) {
      unreachableOnce(target.host);
      opened.set(target.host, (opened.get(target.host) ?? 0) + 1);
      return session(target.host);
    },
    async probeLogin(target, _hostKey, publicKeyLine) {
      unreachableOnce(target.host);
      const all = filesOf(target.host);
      const keys = all
        .filter((f) => f.path.endsWith('/authorized_keys'))
        .flatMap((f) => f.content.split('\n').map(keyBody));
      const passwordOff = all.some(
        (f) => f.path.includes('sshd_config.d') && /PasswordAuthentication\s+no/i.test(f.content),
      );
      const methods = [...(passwordOff ? ['publickey'] : ['publickey', 'password']), ...(extra.get(target.host) ?? [])];
      return {
        keyAccepted: publicKeyLine === null ? null : keys.includes(keyBody(publicKeyLine)),
        methods,
        hostKeySha256: MEMORY_HOST_KEY,
      };
    },
    tryLogin: async () => ({ ok: true, hostKeySha256: MEMORY_HOST_KEY }),
  };
}
