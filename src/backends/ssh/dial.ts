/**
 * Dialing a host: our own TCP socket, key exchange with the host key checked before anything about the user is
 * sent, user authentication through the caller's auth step, all bounded by one deadline; and the polite close.
 *
 * Every failure is a CoreError ('Live.*') naming host:port and the phase: a changed host key, a rejected credential,
 * a host that could not be reached or whose connection broke (Live.Unreachable), or one that did not answer in time
 * (Live.Timeout). Only the server's own refusal is a refusal: damaged or cut traffic is a network fault whatever
 * phase it hits, and a host key that differs from the pin is confirmed by a second handshake before it is called
 * changed (a byte damaged in transit also changes the fingerprint). The socket is destroyed on every failure path
 * that is not a polite refusal.
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
      () => fail(timedOut(target, `no SSH login within ${timeoutMs} ms (stalled while ${progress.phase})`), false),
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
      if (coreErr.code !== 'Live.HostKeyChanged') return fail(coreErr, coreErr.code === 'Live.CredentialRejected');
      // Nothing about the user was sent. Before calling the key changed, look once more: a byte damaged in transit
      // changes the fingerprint too, and a second handshake would then show the pinned key (or fail).
      settle(() => {
        sock.destroy();
        const presented = progress.hostKeyMismatch!.presented;
        void presentedHostKey(target, timeoutMs).then((again) =>
          reject(
            again === presented
              ? coreErr
              : unreachable(target, 'the host key arrived damaged (a second handshake did not show it again)'),
          ),
        );
      });
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
  if (err.level === 'client-socket' && err.code === 'ETIMEDOUT')
    return timedOut(target, `${describeSocketError(err)} while ${progress.phase}`);
  if (err.level === 'client-socket') return unreachable(target, `${describeSocketError(err)} while ${progress.phase}`);
  if (err.level === 'client-timeout') return timedOut(target, `timed out while ${progress.phase}`);
  if (typeof err.code === 'number' && progress.phase === 'authenticating' && serverRefusedLogin(err)) {
    // A DISCONNECT during user auth that says so (e.g. too many authentication failures) is the server saying no.
    return new CoreError(
      'Live.CredentialRejected',
      `${where} ended the login for user '${target.username}': ${scrub(err.message)}`,
      { host: target.host, port: target.port },
    );
  }
  return unreachable(target, `SSH failed while ${progress.phase}: ${scrub(damagedOr(err.message))}`);
}

/** SSH_DISCONNECT reasons that are a refusal of the user, not of the traffic (RFC 4253 11.1). */
const REFUSAL_REASONS = new Set([13, 14, 15]); // auth cancelled, no more auth methods, illegal user name

/**
 * OpenSSH ends a login it refuses with "Too many authentication failures" (sent as a protocol error, code 2); a
 * DISCONNECT for damaged traffic ("message authentication code incorrect", "Bad packet length") is no refusal.
 */
function serverRefusedLogin(err: Ssh2Error): boolean {
  return (
    REFUSAL_REASONS.has(err.code as number) ||
    /too many authentication failures|authentication (refused|cancel)|not allowed/i.test(err.message)
  );
}

/** OpenSSL's bare "error:0000…" for a packet that does not decrypt: the data was damaged on the way. */
function damagedOr(message: string): string {
  return /^error:[0-9A-Fa-f]+:/.test(message) ? 'data arrived damaged (decryption failed)' : message;
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

/** The host did not answer a step in time: a network fault, retried like an unreachable host. */
export function timedOut(target: LiveTarget, reason: string): CoreError {
  return new CoreError('Live.Timeout', `No answer from ${target.host}:${target.port} over SSH: ${reason}.`, {
    host: target.host,
    port: target.port,
  });
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

/**
 * The fingerprint of the host key `target` presents now, from a handshake that is refused at the host key check
 * (nothing about any user is sent), or null if none arrived within `timeoutMs`.
 */
function presentedHostKey(target: LiveTarget, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const client = new Client();
    const sock = net.connect({ host: target.host, port: target.port, noDelay: true });
    let seen: string | null = null;
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    client.on('error', () => sock.destroy());
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(seen);
    });
    client.connect({
      sock,
      username: target.username,
      ident: CLIENT_IDENT,
      readyTimeout: timeoutMs,
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => {
        seen = fingerprints(key).sha256;
        return false;
      },
    });
  });
}
