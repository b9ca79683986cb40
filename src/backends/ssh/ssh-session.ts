/**
 * The live SSH adapter: edits files on a Linux machine over SSH/SFTP, agentless, and proves logins.
 *
 * Built for fleets (thousands of hosts, bounded concurrency), so every call is lean and bounded:
 * - one TCP connection per call, our own socket (TCP_NODELAY, destroyed on every failure path), no keepalive chatter;
 *   packets written in one tick leave together, a key login signs at once, and the host is not asked to prove its
 *   host keys (lean-transport.ts);
 * - connect + handshake + login bounded by `timeoutMs`, each later operation bounded too; a timed-out session is
 *   closed, since its state on the server is unknown;
 * - the host key is checked during key exchange, before the user-auth service is even requested, so a changed key
 *   aborts before any credential exists on the wire; the credential is read only inside the auth step;
 * - SFTP requests are pipelined where the server's in-order processing makes that safe (one channel per session,
 *   opened lazily; with OpenSSH its first requests leave with INIT, lean-transport.ts): a read is 4 round trips
 *   from login, and readForReplace (the read, a stat of the directory and the temp file's open together) plus the
 *   atomic replace 6, where ssh2's own sequence and a separate write took 11.
 *
 * Errors are CoreError ('Live.*'); no credential ever reaches a message, log or stack (messages are scrubbed too).
 * A network fault at any step (refused, reset or cut connection, damaged traffic, a session lost under an operation)
 * is Live.Unreachable and a step that got no answer in time is Live.Timeout, both naming host:port and the step, so
 * the core can retry them; what the host itself answered (a refused login, a changed host key, an SFTP status, a
 * command's exit code) is never dressed up as one.
 *
 * The pieces: dial.ts (TCP, key exchange with the host key check, login, close), credential-login.ts and
 * probe-auth.ts (the auth steps), sftp-session.ts (the session), sftp-files.ts and remote-command.ts (what it runs),
 * sudo-session.ts (the same through `sudo -n`), lean-transport.ts and login-key.ts (what keyfleet changes about ssh2).
 */
import { isCoreError } from '../../core/errors.js';
import type { HostKeyPolicy, LiveAccess, LiveCredential, LiveSession, LiveTarget } from '../../core/ports.js';
import { credentialLogin, scrubberFor } from './credential-login.js';
import { closeGracefully, dial, freshProgress } from './dial.js';
import { parsePublicKey, probeAuth, type ProbeAnswer } from './probe-auth.js';
import { SftpSession } from './sftp-session.js';
import { SudoSession } from './sudo-session.js';

/** The port's options, plus a bound for each operation of a session. */
export type SshOptions = NonNullable<Parameters<LiveAccess['openSession']>[3]> & {
  /** Bounds each session operation (default: timeoutMs). */
  opTimeoutMs?: number;
};

/** Bounds connect + handshake + login unless the caller's `timeoutMs` says otherwise. */
const DEFAULT_TIMEOUT_MS = 10_000;

export async function openSession(
  target: LiveTarget,
  credential: LiveCredential,
  hostKey: HostKeyPolicy,
  opts: SshOptions = {},
): Promise<LiveSession> {
  const scrub = scrubberFor(credential);
  const login = credentialLogin(target.username, credential);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { client, sock, hostKeySha256 } = await dial({
    target,
    hostKey,
    timeoutMs,
    authHandler: login.step,
    signAtOnce: login.key,
    forSession: true,
    scrub,
  });
  const session = new SftpSession(client, sock, target, hostKeySha256, opts.opTimeoutMs ?? timeoutMs, scrub);
  return opts.sudo ? new SudoSession(session) : session;
}

export async function tryLogin(
  target: LiveTarget,
  credential: LiveCredential,
  hostKey: HostKeyPolicy,
  opts: SshOptions = {},
): Promise<{ ok: boolean; hostKeySha256: string }> {
  const scrub = scrubberFor(credential);
  const login = credentialLogin(target.username, credential);
  const seen = freshProgress();
  try {
    const { client, sock, hostKeySha256 } = await dial(
      {
        target,
        hostKey,
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        authHandler: login.step,
        signAtOnce: login.key,
        scrub,
      },
      seen,
    );
    await closeGracefully(client, sock);
    return { ok: true, hostKeySha256 };
  } catch (err) {
    if (isCoreError(err) && err.code === 'Live.CredentialRejected' && seen.hostKeySha256)
      return { ok: false, hostKeySha256: seen.hostKeySha256 };
    throw err;
  }
}

/**
 * Asks the server, without any private key, whether it would accept `publicKeyLine` for the user: an SSH
 * publickey query (no signature), which OpenSSH answers with PK_OK only after the same authorized_keys checks
 * (StrictModes, key options, expiry) a real login runs. A 'none' attempt first yields the methods still offered.
 * keyAccepted is null only when no key was given; it is false too when the server does not offer publickey.
 * Costs one connection: TCP + key exchange + 2 auth round trips (RSA keys: one more per refused signature
 * algorithm) + close.
 */
export async function probeLogin(
  target: LiveTarget,
  hostKey: HostKeyPolicy,
  publicKeyLine: string | null,
  opts: SshOptions = {},
): Promise<{ keyAccepted: boolean | null; methods: string[]; hostKeySha256: string }> {
  const publicKey = publicKeyLine === null ? null : parsePublicKey(publicKeyLine);
  const answer: ProbeAnswer = { methods: [], keyAccepted: publicKey ? false : null, complete: false };
  const seen = freshProgress();
  const authHandler = probeAuth(target.username, publicKey, answer);
  try {
    const { client, sock } = await dial(
      { target, hostKey, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, authHandler, scrub: (t) => t },
      seen,
    );
    // The server let us in with 'none': no key is needed at all.
    await closeGracefully(client, sock);
    answer.methods = ['none'];
  } catch (err) {
    // Our own "no more methods" ends every probe; anything else (a server that hung up mid-way) is no answer.
    if (!(isCoreError(err) && err.code === 'Live.CredentialRejected' && answer.complete && seen.hostKeySha256))
      throw err;
  }
  return { keyAccepted: answer.keyAccepted, methods: answer.methods, hostKeySha256: seen.hostKeySha256 ?? '' };
}

/** The adapter as the core's LiveAccess port (checked here at compile time). */
export const sshLiveAccess = { openSession, probeLogin, tryLogin } satisfies LiveAccess;
