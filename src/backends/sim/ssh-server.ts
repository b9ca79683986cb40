/**
 * Real SSH for the simulated fleet: each Running instance listens on its own loopback address, and the OpenSSH
 * client (or keyfleet's own ssh2 client) logs in there exactly as it would to a real host.
 *
 * Built to serve thousands of instances from one process: a listener is a bare net.Server plus a few fields.
 * Everything heavier is made per connection, when a client actually arrives: the instance's host key is read and
 * parsed then (kept in a small cache keyed by the file's identity and mtime) and an ssh2 Server is made around
 * that one socket. Authentication re-reads the instance's files on every attempt (see sshd-auth.ts).
 *
 * Stopping an instance closes its listener and drops its live connections, as a machine that shuts down would.
 */
import fsp from 'node:fs/promises';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey } from 'ssh2';
import { createDiskQuota, DEFAULT_DISK_QUOTA, type DiskQuotaLimits } from './disk-quota.js';
import { HOST_KEY_PATH, hostPath } from './rootfs.js';
import { DISCONNECT_PROTOCOL_ERROR, disconnectWithMessage } from './ssh-disconnect.js';
import { decideAuthentication, type AuthRequest } from './sshd-auth.js';
import { AuthChains } from './sshd-auth-chains.js';
import { serveSession, type LoggedIn } from './sshd-session.js';

export interface SimSshEndpoint {
  instanceId: string;
  rootDir: string;
  address: string;
  port: number;
}

export interface SimSshFleet {
  /** Starts listening on address:port; resolves once listening. Serving the same endpoint again is a no-op. */
  serve(ep: SimSshEndpoint): Promise<void>;
  /**
   * A machine that was already running when keyfleet started: served again, no boot. (In a cluster only the
   * process that serves the fleet listens; fleet-follower.ts.)
   */
  adopt(ep: SimSshEndpoint): Promise<void>;
  /** Closes the listener and drops the instance's live connections (a stopped machine). */
  stop(instanceId: string, ep?: SimSshEndpoint): Promise<void>;
  stopAll(): Promise<void>;
  serving(): number;
  /** The instances listened for now. */
  servingIds(): string[];
}

interface Listener {
  ep: SimSshEndpoint;
  server: net.Server;
  sockets: Set<net.Socket>;
  /** Connections that have not logged in yet (sshd's "startups"). */
  unauthenticated: number;
  ready: Promise<void>;
  active: boolean;
}

/**
 * Per-instance bounds on connections, so that one tenant's clients (or a scanner aimed at one instance) cannot hold
 * the process's sockets, memory and authentication work: every tenant's instances are served here.
 */
export interface SimSshLimits {
  /** Open connections per instance, logged in or not; one more is closed at once. */
  maxConnections: number;
  /** sshd's MaxStartups, without the random early drop: connections per instance still authenticating. */
  maxUnauthenticated: number;
  /** sshd's LoginGraceTime: a connection that has not logged in by then is dropped (OpenSSH's default is 120 s). */
  loginGraceMs: number;
  /** What SFTP may make each instance's rootfs grow to (disk-quota.ts). */
  diskQuota: DiskQuotaLimits;
}

export const DEFAULT_SIM_SSH_LIMITS: SimSshLimits = {
  maxConnections: 32,
  maxUnauthenticated: 10,
  loginGraceMs: 20_000,
  diskQuota: DEFAULT_DISK_QUOTA,
};

/** sshd's MaxSessions default: open session channels per connection. */
const MAX_SESSIONS = 10;
const HOST_KEY_CACHE_SIZE = 256;

export function createSimSshFleet(
  opts: { logger?: { warn(msg: string): void }; limits?: Partial<SimSshLimits> } = {},
): SimSshFleet {
  const warn = (msg: string) => opts.logger?.warn(msg);
  const limits: SimSshLimits = { ...DEFAULT_SIM_SSH_LIMITS, ...opts.limits };
  const listeners = new Map<string, Listener>();
  const hostKeys = new HostKeyCache(HOST_KEY_CACHE_SIZE);
  const quota = createDiskQuota(limits.diskQuota);

  async function serve(ep: SimSshEndpoint): Promise<void> {
    const existing = listeners.get(ep.instanceId);
    if (existing && sameEndpoint(existing.ep, ep)) return existing.ready;
    if (existing) await stop(ep.instanceId);

    const server = net.createServer();
    const listener: Listener = {
      ep: { ...ep },
      server,
      sockets: new Set(),
      unauthenticated: 0,
      ready: Promise.resolve(),
      active: true,
    };
    server.on('connection', (socket) => void accept(listener, socket));
    listener.ready = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: ep.address, port: ep.port }, () => {
        server.off('error', reject);
        server.on('error', (err) => warn(`sim sshd ${ep.instanceId}: ${err.message}`));
        resolve();
      });
    });
    listeners.set(ep.instanceId, listener);
    try {
      await listener.ready;
    } catch (err) {
      if (listeners.get(ep.instanceId) === listener) listeners.delete(ep.instanceId);
      listener.active = false;
      throw err;
    }
  }

  async function accept(listener: Listener, socket: net.Socket): Promise<void> {
    socket.on('error', () => {}); // a client vanishing mid-handshake is routine
    if (listener.sockets.size >= limits.maxConnections || listener.unauthenticated >= limits.maxUnauthenticated) {
      // As sshd past MaxStartups: closed before the version exchange.
      socket.destroy();
      return;
    }
    listener.sockets.add(socket);
    listener.unauthenticated++;
    let authenticating = true;
    const leaveStartups = () => {
      if (authenticating) listener.unauthenticated--;
      authenticating = false;
    };
    const grace = setTimeout(() => socket.destroy(), limits.loginGraceMs);
    grace.unref();
    socket.once('close', () => {
      clearTimeout(grace);
      leaveStartups();
      listener.sockets.delete(socket);
    });
    let hostKey: ParsedKey;
    try {
      hostKey = await hostKeys.get(listener.ep.rootDir);
    } catch (err) {
      warn(`sim sshd ${listener.ep.instanceId}: host key unavailable (${(err as Error).message})`);
      socket.destroy();
      return;
    }
    if (!listener.active || socket.destroyed) {
      socket.destroy();
      return;
    }
    try {
      // ssh2 takes an already parsed key only in the { key } form.
      // sshd sees an IPv4 client on an IPv6 socket as plain IPv4 (ipv64_normalise_mapped).
      const clientIp = (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
      const server = new ssh2.Server({ hostKeys: [{ key: hostKey }] }, (client) =>
        handleClient(client, listener.ep, clientIp, () => {
          clearTimeout(grace);
          leaveStartups();
        }),
      );
      server.injectSocket(socket);
    } catch (err) {
      warn(`sim sshd ${listener.ep.instanceId}: cannot start a session (${(err as Error).message})`);
      socket.destroy();
    }
  }

  function handleClient(client: Connection, ep: SimSshEndpoint, clientIp: string, loggedInInTime: () => void): void {
    let login: LoggedIn | null = null;
    let attempts = 0;
    let failures = 0;
    const chains = new AuthChains();
    client.on('error', () => {});

    client.on('authentication', (ctx) => {
      const attempt = ++attempts;
      decideAuthentication(ep.rootDir, ctx.username, authRequestOf(ctx), { ip: clientIp }, chains, warn)
        .then((decision) => {
          if (decision.verdict === 'accept') {
            const options = decision.keyOptions;
            login = {
              rootDir: ep.rootDir,
              quota,
              user: decision.user,
              forcedCommand: options?.forcedCommand ?? null,
              ptyAllowed: options?.ptyAllowed ?? true,
            };
            return ctx.accept();
          }
          if (decision.verdict === 'key-acceptable') return ctx.accept(); // no signature yet: answers PK_OK
          if (decision.verdict === 'partial') return ctx.reject(decision.methods, true);
          // sshd's MaxAuthTries: every failure counts except a first `none`; the one reaching the limit is not
          // answered, the connection is ended with sshd's message instead.
          if (attempt > 1 || ctx.method !== 'none') failures++;
          if (failures >= decision.maxAuthTries)
            return disconnectWithMessage(client, DISCONNECT_PROTOCOL_ERROR, 'Too many authentication failures');
          ctx.reject(decision.methods);
        })
        .catch((err: unknown) => {
          warn(`sim sshd ${ep.instanceId}: authentication error (${(err as Error).message})`);
          try {
            ctx.reject([]);
          } catch {
            client.end();
          }
        });
    });

    client.on('ready', () => {
      loggedInInTime();
      // sshd's MaxSessions: each session may run a command whose output is held in memory until it is sent.
      let sessions = 0;
      client.on('session', (acceptSession, rejectSession) => {
        if (!login || sessions >= MAX_SESSIONS) return rejectSession();
        sessions++;
        const session = acceptSession();
        session.once('close', () => sessions--);
        serveSession(session, login);
      });
    });
  }

  async function stop(instanceId: string): Promise<void> {
    const listener = listeners.get(instanceId);
    if (!listener) return;
    listeners.delete(instanceId);
    listener.active = false;
    quota.forget(listener.ep.rootDir);
    await listener.ready.catch(() => {});
    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    for (const socket of listener.sockets) socket.destroy();
    await closed;
  }

  return {
    serve,
    adopt: serve,
    stop,
    async stopAll() {
      await Promise.all([...listeners.keys()].map((id) => stop(id)));
    },
    serving: () => listeners.size,
    servingIds: () => [...listeners.keys()],
  };
}

function sameEndpoint(a: SimSshEndpoint, b: SimSshEndpoint): boolean {
  return a.rootDir === b.rootDir && a.address === b.address && a.port === b.port;
}

/** ssh2's per-method contexts, reduced to what the decision needs. */
function authRequestOf(ctx: AuthContext): AuthRequest {
  switch (ctx.method) {
    case 'none':
      return { method: 'none' };
    case 'password':
      return { method: 'password', password: ctx.password };
    case 'keyboard-interactive':
      return {
        method: 'keyboard-interactive',
        askPassword: () =>
          new Promise((resolve) =>
            ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => resolve(answers[0] ?? null)),
          ),
      };
    case 'publickey':
      return {
        method: 'publickey',
        keyAlgo: ctx.key.algo,
        keyBlob: ctx.key.data,
        hashAlgo: ctx.hashAlgo,
        signature: ctx.signature,
        signedData: ctx.blob,
      };
    default:
      return { method: 'other' };
  }
}

/** Parsed host keys, a few hundred at most, re-read when the key file changes (inode, size or mtime). */
class HostKeyCache {
  private readonly entries = new Map<string, { stamp: string; key: ParsedKey }>();
  constructor(private readonly capacity: number) {}

  async get(rootDir: string): Promise<ParsedKey> {
    const file = hostPath(rootDir, HOST_KEY_PATH);
    const stat = await fsp.stat(file);
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const cached = this.entries.get(rootDir);
    if (cached && cached.stamp === stamp) {
      this.entries.delete(rootDir);
      this.entries.set(rootDir, cached);
      return cached.key;
    }
    const parsed = ssh2.utils.parseKey(await fsp.readFile(file));
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key instanceof Error || !key.isPrivateKey())
      throw new Error(`${HOST_KEY_PATH} is not a usable private key`);
    this.entries.set(rootDir, { stamp, key });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return key;
  }
}
