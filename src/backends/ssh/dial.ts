/**
 * Dialing a host: our own TCP socket, key exchange with the host key checked before anything about the user is
 * sent, user authentication through the caller's auth step, all bounded by one deadline; and the polite close.
 *
 * Every failure is a CoreError ('Live.*'): a changed host key, a rejected credential, or an unreachable host named
 * with the phase it stalled in. The socket is destroyed on every failure path that is not a polite refusal.
 */
import net from 'node:net';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, Client as Ssh2Client } from 'ssh2';
import { CoreError } from '../../core/errors.js';
import { fingerprints } from '../../core/keypair/public-key.js';
import type { HostKeyPolicy, LiveTarget } from '../../core/ports.js';
import {
  acknowledgeServerNotices,
  coalesceWritesPerTick,
  declineHostKeyProofs,
  signKeyLoginAtOnce,
} from './lean-transport.js';
import type { LoginKey } from './login-key.js';

const { Client } = ssh2;

/** How long a polite close (DISCONNECT, then wait for the server's FIN) may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;
const CLIENT_IDENT = 'keyfleet';

type Phase = 'connecting' | 'handshake' | 'authenticating' | 'ready';

export interface DialProgress {
  phase: Phase;
  hostKeySha256: string | null;
  hostKeyMismatch: { expected: string; presented: string } | null;
}

export const freshProgress = (): DialProgress => ({ phase: 'connecting', hostKeySha256: null, hostKeyMismatch: null });

/** ssh2 calls this with the methods the server still offers (null on the first call); false ends the login. */
export type AuthStep = (methodsLeft: AuthenticationType[] | null) => AnyAuthMethod | false;

export interface DialPlan {
  target: LiveTarget;
  hostKey: HostKeyPolicy;
  timeoutMs: number;
  authHandler: AuthStep;
  /** A private key the login signs with at once, without asking the server first (lean-transport.ts). */
  signAtOnce?: LoginKey | null;
  /** The connection will open a session: server notices are acknowledged at once (lean-transport.ts). */
  forSession?: boolean;
  scrub: (text: string) => string;
}

export interface Dialed {
  client: Ssh2Client;
  sock: net.Socket;
  hostKeySha256: string;
}

export type Ssh2Error = Error & { level?: string; code?: string | number };

export function dial(plan: DialPlan, progress: DialProgress = freshProgress()): Promise<Dialed> {
  const { target, timeoutMs } = plan;
  return new Promise((resolve, reject) => {
    const client = new Client();
    const sock = net.connect({ host: target.host, port: target.port, noDelay: true });
    coalesceWritesPerTick(sock);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outcome();
    };
    const fail = (err: CoreError, polite: boolean) =>
      settle(() => {
        if (polite) void closeGracefully(client, sock).then(() => reject(err));
        else {
          sock.destroy();
          reject(err);
        }
      });
    const deadline = setTimeout(
      () => fail(unreachable(target, `no SSH login within ${timeoutMs} ms (stalled while ${progress.phase})`), false),
      timeoutMs,
    );

    sock.once('connect', () => (progress.phase = 'handshake'));
    client.on('ready', () =>
      settle(() => {
        progress.phase = 'ready';
        resolve({ client, sock, hostKeySha256: progress.hostKeySha256 ?? '' });
      }),
    );
    client.on('error', (err: Ssh2Error) => {
      if (settled || err.level === 'agent') return; // 'agent': our query-only agent declined to sign (see probeAuth)
      const coreErr = classifyDialError(err, progress, target, plan.scrub);
      fail(coreErr, coreErr.code === 'Live.CredentialRejected');
    });
    // Every connection closes in the end: the error (and its stack) is made only for one that closed too early.
    client.on(
      'close',
      () => settled || fail(unreachable(target, `the connection was closed while ${progress.phase}`), false),
    );

    client.connect({
      sock,
      username: target.username,
      ident: CLIENT_IDENT,
      readyTimeout: timeoutMs,
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => verifyHostKey(key, plan.hostKey, progress),
      authHandler: ((methodsLeft: AuthenticationType[] | null) => {
        progress.phase = 'authenticating';
        return plan.authHandler(methodsLeft);
      }) as unknown as AuthHandlerMiddleware,
    });
    declineHostKeyProofs(client);
    if (plan.forSession) acknowledgeServerNotices(client, sock);
    if (plan.signAtOnce) signKeyLoginAtOnce(client, plan.signAtOnce);
  });
}

/** Runs inside key exchange, before NEWKEYS: nothing about the user has been sent yet. */
function verifyHostKey(keyBlob: Buffer, policy: HostKeyPolicy, progress: DialProgress): boolean {
  const presented = fingerprints(keyBlob).sha256;
  progress.hostKeySha256 = presented;
  if (policy.kind === 'trust-on-first-use') return true;
  if (normalizeFingerprint(policy.sha256) === normalizeFingerprint(presented)) return true;
  progress.hostKeyMismatch = { expected: policy.sha256, presented };
  return false;
}

function normalizeFingerprint(fp: string): string {
  return fp
    .trim()
    .replace(/^SHA256:/, '')
    .replace(/=+$/, '');
}

function classifyDialError(
  err: Ssh2Error,
  progress: DialProgress,
  target: LiveTarget,
  scrub: (t: string) => string,
): CoreError {
  const where = `${target.host}:${target.port}`;
  const mismatch = progress.hostKeyMismatch;
  if (mismatch) {
    return new CoreError(
      'Live.HostKeyChanged',
      `The host key of ${where} changed: expected ${mismatch.expected}, the server presented ${mismatch.presented}. Nothing was sent; the connection was closed.`,
      { host: target.host, port: target.port, expected: mismatch.expected, presented: mismatch.presented },
    );
  }
  if (err.level === 'client-authentication') {
    return new CoreError('Live.CredentialRejected', `${where} rejected the credential for user '${target.username}'.`, {
      host: target.host,
      port: target.port,
    });
  }
  if (err.level === 'client-socket') return unreachable(target, describeSocketError(err));
  if (err.level === 'client-timeout') return unreachable(target, `timed out while ${progress.phase}`);
  if (typeof err.code === 'number' && progress.phase === 'authenticating') {
    // A DISCONNECT during user auth (e.g. too many authentication failures) is the server saying no.
    return new CoreError(
      'Live.CredentialRejected',
      `${where} ended the login for user '${target.username}': ${scrub(err.message)}`,
      { host: target.host, port: target.port },
    );
  }
  return unreachable(target, `SSH failed while ${progress.phase}: ${scrub(err.message)}`);
}

function describeSocketError(err: Ssh2Error): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed (temporary)',
    EPIPE: 'connection closed by the server',
  };
  const code = typeof err.code === 'string' ? err.code : '';
  return `${reasons[code] ?? err.message} (${code || 'socket error'})`;
}

export function unreachable(target: LiveTarget, reason: string): CoreError {
  return new CoreError('Live.Unreachable', `Cannot reach ${target.host}:${target.port} over SSH: ${reason}.`, {
    host: target.host,
    port: target.port,
  });
}

/** DISCONNECT + FIN, then wait for the server to close its side; destroy if it does not in time. */
export function closeGracefully(client: Ssh2Client, sock: net.Socket): Promise<void> {
  if (sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => sock.destroy(), CLOSE_GRACE_MS);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
