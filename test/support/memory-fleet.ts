/**
 * An in-memory stand-in for SSH access to a fleet, for tests and benchmarks of keyfleet's own layers (task runner,
 * binding executors): each address has its files, sessions answer at once, and a probe answers as sshd would from
 * those files (a key is accepted when its body is in authorized_keys; password is offered unless keyfleet's drop-in
 * turns it off). Faults are injected per address. Real SSH is tested against real sshd elsewhere.
 */
import { parseAuthorizedKeys } from '../../src/core/binding/authorized-keys.js';
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
  /**
   * The next session to `host` dies after `writes` writes: every later step on it fails as unreachable. `then`:
   * what stays unreachable from that moment (logins only, or probes as well), for the next 10 attempts.
   */
  cutAfterWrites(host: string, writes: number, then?: 'logins' | 'everything'): void;
  /** The next `n` session openings to `host` fail as unreachable; probes still answer. */
  failOpens(host: string, n: number): void;
  /** The next `n` probes of `host` fail as unreachable. */
  failProbes(host: string, n: number): void;
}

const keyBody = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

export function memoryFleet(): MemoryFleet {
  const files = new Map<string, RemoteFile>();
  const opened = new Map<string, number>();
  const failures = new Map<string, number>();
  const extra = new Map<string, string[]>();
  const cuts = new Map<string, { writes: number; then?: 'logins' | 'everything' }>();
  const openFailures = new Map<string, number>();
  const probeFailures = new Map<string, number>();
  const takeOne = (counts: Map<string, number>, host: string, what: string) => {
    const left = counts.get(host) ?? 0;
    if (left <= 0) return;
    counts.set(host, left - 1);
    throw new CoreError('Live.Unreachable', `${host} did not answer ${what} (injected).`);
  };
  const passwordOff = (host: string) =>
    [...files.entries()].some(
      ([k, f]) =>
        k.startsWith(`${host}:`) && k.includes('sshd_config.d') && /PasswordAuthentication\s+no/i.test(f.content),
    );
  const write = (host: string, p: string, content: string, attrs: { mode: number; uid?: number; gid?: number }) =>
    void files.set(`${host}:${p}`, { content, mode: attrs.mode, uid: attrs.uid ?? 0, gid: attrs.gid ?? 0 });
  const unreachableOnce = (host: string) => {
    const left = failures.get(host) ?? 0;
    if (left <= 0) return;
    failures.set(host, left - 1);
    throw new CoreError('Live.Unreachable', `${host} did not answer (injected).`);
  };
  const session = (host: string): LiveSession => {
    // A session cut after N writes: the writes happened, every later step finds the connection gone.
    const cut = cuts.get(host);
    let writesLeft = cut?.writes ?? Number.POSITIVE_INFINITY;
    cuts.delete(host);
    const alive = () => {
      if (writesLeft < 0) throw new CoreError('Live.Unreachable', `The session to ${host} was closed (injected).`);
    };
    // The N-th write reaches the disk but its answer is lost with the connection: the worst moment to be cut.
    const wrote = () => {
      writesLeft--;
      if (writesLeft === 0) {
        writesLeft = -1;
        if (cut?.then) openFailures.set(host, 10);
        if (cut?.then === 'everything') probeFailures.set(host, 10);
        alive();
      }
    };
    const guardWrite = alive;
    return {
      hostKeySha256: MEMORY_HOST_KEY,
      readFile: async (p) => (alive(), files.get(`${host}:${p}`) ?? null),
      readForReplace: async (p) => (
        alive(),
        {
          current: files.get(`${host}:${p}`) ?? null,
          directory: { mode: 0o700, uid: 0, gid: 0 },
          replace: async (content, attrs) => (guardWrite(), write(host, p, content, attrs), wrote()),
          discard: async () => undefined,
        }
      ),
      writeFileAtomic: async (p, content, attrs) => (guardWrite(), write(host, p, content, attrs), wrote()),
      ensureDir: async () => alive(),
      removeFile: async (p) => (guardWrite(), void files.delete(`${host}:${p}`), wrote()),
      exec: async () => (alive(), { code: 0, stdout: '', stderr: '' }),
      close: () => undefined,
    };
  };
  const filesOf = (host: string) =>
    [...files.entries()]
      .filter(([k]) => k.startsWith(`${host}:`))
      .map(([k, f]) => ({ path: k.slice(host.length + 1), content: f.content }));
  return {
    files,
    opened,
    failNext: (host, n) => void failures.set(host, n),
    alsoOffers: (host, methods) => void extra.set(host, methods),
    cutAfterWrites: (host, writes, then) => void cuts.set(host, { writes, ...(then ? { then } : {}) }),
    failOpens: (host, n) => void openFailures.set(host, n),
    failProbes: (host, n) => void probeFailures.set(host, n),
    async openSession(target, credential) {
      unreachableOnce(target.host);
      takeOne(openFailures, target.host, 'a login');
      // As sshd: a password is refused once keyfleet's drop-in turned password login off.
      if (credential.kind === 'password' && passwordOff(target.host))
        throw new CoreError(
          'Live.CredentialRejected',
          `${target.host} rejected the credential (password login is off).`,
        );
      opened.set(target.host, (opened.get(target.host) ?? 0) + 1);
      return session(target.host);
    },
    async probeLogin(target, _hostKey, publicKeyLine) {
      unreachableOnce(target.host);
      takeOne(probeFailures, target.host, 'a probe');
      const all = filesOf(target.host);
      const keys = all
        .filter((f) => f.path.endsWith('/authorized_keys'))
        // As sshd parses a line (options first, such as keyfleet's expiry-time); expiry itself is not simulated here.
        .flatMap((f) => parseAuthorizedKeys(f.content).entries.map((e) => `${e.type} ${e.base64}`));
      const methods = [
        ...(passwordOff(target.host) ? ['publickey'] : ['publickey', 'password']),
        ...(extra.get(target.host) ?? []),
      ];
      return {
        keyAccepted: publicKeyLine === null ? null : keys.includes(keyBody(publicKeyLine)),
        methods,
        hostKeySha256: MEMORY_HOST_KEY,
      };
    },
    tryLogin: async () => ({ ok: true, hostKeySha256: MEMORY_HOST_KEY }),
  };
}
