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
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { posix as posixPath } from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, ClientChannel, Client as Ssh2Client, ParsedKey, SFTPWrapper, SignCallback, SigningRequestOptions, Stats } from 'ssh2';
import { CoreError, isCoreError, type ErrorCode } from '../../core/errors.js';
import type { LiveAccess } from '../../core/ports.js';
import { acknowledgeServerNotices, coalesceWritesPerTick, declineHostKeyProofs, openSftpAtOnce, signKeyLoginAtOnce, type SftpStart } from './lean-transport.js';
import { firstKey, loginKeyOf, type LoginKey } from './login-key.js';
import { SudoSession } from './sudo-session.js';

const { Client, BaseAgent, utils } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  username: string;
}
export type SshCredential = { kind: 'password'; password: string } | { kind: 'privateKey'; privateKey: string };
export type HostKeyPolicy = { kind: 'pinned'; sha256: string } | { kind: 'trust-on-first-use' };
export type { ExecResult, FileAttrs, RemoteDir, RemoteFile, ReplaceableFile, SshSession } from './session-types.js';
import type { ExecResult, FileAttrs, RemoteDir, RemoteFile, ReplaceableFile, SshSession } from './session-types.js';

export interface SshOptions {
  /** Bounds connect + handshake + login (default 10 s). */
  timeoutMs?: number;
  /** Bounds each session operation (default: timeoutMs). */
  opTimeoutMs?: number;
  /** File operations and commands through `sudo -n` (see sudo-session.ts). */
  sudo?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long a polite close (DISCONNECT, then wait for the server's FIN) may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const MAX_EXEC_OUTPUT_BYTES = 4 * 1024 * 1024;
const FIRST_READ_BYTES = 64 * 1024;
const SFTP_NO_SUCH_FILE = 2;
const CLIENT_IDENT = 'keyfleet';

// ---------------------------------------------------------------------------------------------------------------
// Public entry points

export async function openSession(target: SshTarget, credential: SshCredential, hostKey: HostKeyPolicy, opts: SshOptions = {}): Promise<SshSession> {
  const scrub = scrubberFor(credential);
  const login = credentialLogin(target.username, credential);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { client, sock, hostKeySha256 } = await dial({ target, hostKey, timeoutMs, authHandler: login.step, signAtOnce: login.key, forSession: true, scrub });
  const session = new Ssh2Session(client, sock, target, hostKeySha256, opts.opTimeoutMs ?? timeoutMs, scrub);
  return opts.sudo ? new SudoSession(session) : session;
}

export async function tryLogin(target: SshTarget, credential: SshCredential, hostKey: HostKeyPolicy, opts: SshOptions = {}): Promise<{ ok: boolean; hostKeySha256: string }> {
  const scrub = scrubberFor(credential);
  const login = credentialLogin(target.username, credential);
  const seen: DialProgress = { phase: 'connecting', hostKeySha256: null, hostKeyMismatch: null };
  try {
    const { client, sock, hostKeySha256 } = await dial({ target, hostKey, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, authHandler: login.step, signAtOnce: login.key, scrub }, seen);
    await closeGracefully(client, sock);
    return { ok: true, hostKeySha256 };
  } catch (err) {
    if (isCoreError(err) && err.code === 'Live.CredentialRejected' && seen.hostKeySha256) return { ok: false, hostKeySha256: seen.hostKeySha256 };
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
export async function probeLogin(target: SshTarget, hostKey: HostKeyPolicy, publicKeyLine: string | null, opts: SshOptions = {}): Promise<{ keyAccepted: boolean | null; methods: string[]; hostKeySha256: string }> {
  const publicKey = publicKeyLine === null ? null : parsePublicKey(publicKeyLine);
  const answer: ProbeAnswer = { methods: [], keyAccepted: publicKey ? false : null, complete: false };
  const seen: DialProgress = { phase: 'connecting', hostKeySha256: null, hostKeyMismatch: null };
  const authHandler = probeAuth(target.username, publicKey, answer);
  try {
    const { client, sock } = await dial({ target, hostKey, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, authHandler, scrub: (t) => t }, seen);
    // The server let us in with 'none': no key is needed at all.
    await closeGracefully(client, sock);
    answer.methods = ['none'];
  } catch (err) {
    // Our own "no more methods" ends every probe; anything else (a server that hung up mid-way) is no answer.
    if (!(isCoreError(err) && err.code === 'Live.CredentialRejected' && answer.complete && seen.hostKeySha256)) throw err;
  }
  return { keyAccepted: answer.keyAccepted, methods: answer.methods, hostKeySha256: seen.hostKeySha256 ?? '' };
}

/** The adapter as the core's LiveAccess port (checked here at compile time). */
export const sshLiveAccess = { openSession, probeLogin, tryLogin } satisfies LiveAccess;

/** 'SHA256:…' exactly as `ssh-keygen -l` prints it: unpadded base64 of the SHA-256 of the key blob. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Dialing: TCP, key exchange with host key check, user authentication

type Phase = 'connecting' | 'handshake' | 'authenticating' | 'ready';

interface DialProgress {
  phase: Phase;
  hostKeySha256: string | null;
  hostKeyMismatch: { expected: string; presented: string } | null;
}

/** ssh2 calls this with the methods the server still offers (null on the first call); false ends the login. */
type AuthStep = (methodsLeft: AuthenticationType[] | null) => AnyAuthMethod | false;

interface DialPlan {
  target: SshTarget;
  hostKey: HostKeyPolicy;
  timeoutMs: number;
  authHandler: AuthStep;
  /** A private key the login signs with at once, without asking the server first (lean-transport.ts). */
  signAtOnce?: LoginKey | null;
  /** The connection will open a session: server notices are acknowledged at once (lean-transport.ts). */
  forSession?: boolean;
  scrub: (text: string) => string;
}

interface Dialed {
  client: Ssh2Client;
  sock: net.Socket;
  hostKeySha256: string;
}

type Ssh2Error = Error & { level?: string; code?: string | number };

function dial(plan: DialPlan, progress: DialProgress = { phase: 'connecting', hostKeySha256: null, hostKeyMismatch: null }): Promise<Dialed> {
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
        if (polite) closeGracefully(client, sock).then(() => reject(err));
        else {
          sock.destroy();
          reject(err);
        }
      });
    const deadline = setTimeout(() => fail(unreachable(target, `no SSH login within ${timeoutMs} ms (stalled while ${progress.phase})`), false), timeoutMs);

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
    client.on('close', () => settled || fail(unreachable(target, `the connection was closed while ${progress.phase}`), false));

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
  const presented = sha256Fingerprint(keyBlob);
  progress.hostKeySha256 = presented;
  if (policy.kind === 'trust-on-first-use') return true;
  if (normalizeFingerprint(policy.sha256) === normalizeFingerprint(presented)) return true;
  progress.hostKeyMismatch = { expected: policy.sha256, presented };
  return false;
}

function normalizeFingerprint(fp: string): string {
  return fp.trim().replace(/^SHA256:/, '').replace(/=+$/, '');
}

function classifyDialError(err: Ssh2Error, progress: DialProgress, target: SshTarget, scrub: (t: string) => string): CoreError {
  const where = `${target.host}:${target.port}`;
  const mismatch = progress.hostKeyMismatch;
  if (mismatch) {
    return new CoreError('Live.HostKeyChanged', `The host key of ${where} changed: expected ${mismatch.expected}, the server presented ${mismatch.presented}. Nothing was sent; the connection was closed.`, { host: target.host, port: target.port, expected: mismatch.expected, presented: mismatch.presented });
  }
  if (err.level === 'client-authentication') {
    return new CoreError('Live.CredentialRejected', `${where} rejected the credential for user '${target.username}'.`, { host: target.host, port: target.port });
  }
  if (err.level === 'client-socket') return unreachable(target, describeSocketError(err));
  if (err.level === 'client-timeout') return unreachable(target, `timed out while ${progress.phase}`);
  if (typeof err.code === 'number' && progress.phase === 'authenticating') {
    // A DISCONNECT during user auth (e.g. too many authentication failures) is the server saying no.
    return new CoreError('Live.CredentialRejected', `${where} ended the login for user '${target.username}': ${scrub(err.message)}`, { host: target.host, port: target.port });
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

function unreachable(target: SshTarget, reason: string): CoreError {
  return new CoreError('Live.Unreachable', `Cannot reach ${target.host}:${target.port} over SSH: ${reason}.`, { host: target.host, port: target.port });
}

/** DISCONNECT + FIN, then wait for the server to close its side; destroy if it does not in time. */
function closeGracefully(client: Ssh2Client, sock: net.Socket): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------------------
// Authentication steps

/**
 * Straight to the credential (no 'none' round trip, a key signs at once); the credential is read only here, after
 * the host key passed.
 */
function credentialLogin(username: string, credential: SshCredential): { step: AuthStep; key: LoginKey | null } {
  // Parse up front (once per credential object): a malformed key fails fast and locally, before any connection.
  const key = credential.kind === 'privateKey' ? loginKeyOf(credential) : null;
  let pending: SshCredential | null = credential;
  const step: AuthStep = () => {
    const cred = pending;
    pending = null; // one attempt; drop the reference as soon as it is used
    if (!cred) return false;
    if (cred.kind === 'password') return { type: 'password', username, password: cred.password };
    return { type: 'publickey', username, key: key!.parsed };
  };
  return { step, key };
}

interface ProbeAnswer {
  methods: string[];
  keyAccepted: boolean | null;
  /** Set when the probe ran to its end (both questions asked), rather than the server cutting it short. */
  complete: boolean;
}

/** 'none' (to learn the methods), then a publickey query through an agent that can never sign. */
function probeAuth(username: string, publicKey: ParsedKey | null, answer: ProbeAnswer): AuthStep {
  let step: 'none' | 'key' | 'done' = 'none';
  return (methodsLeft) => {
    if (step === 'none') {
      step = 'key';
      return { type: 'none', username };
    }
    if (step === 'key') {
      step = 'done';
      answer.methods = [...(methodsLeft ?? [])];
      if (publicKey && answer.methods.includes('publickey')) {
        return { type: 'agent', username, agent: new QueryOnlyAgent(publicKey, () => (answer.keyAccepted = true)) };
      }
    }
    answer.complete = true;
    return false;
  };
}

/**
 * Offers one public key and refuses to sign. ssh2 asks an agent to sign only after the server answered the
 * query with PK_OK, so a sign request is exactly "the server would accept this key".
 */
class QueryOnlyAgent extends BaseAgent<ParsedKey> {
  constructor(
    private readonly key: ParsedKey,
    private readonly onPkOk: () => void,
  ) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }

  sign(_pubKey: ParsedKey, _data: Buffer, optionsOrCb: SigningRequestOptions | SignCallback, maybeCb?: SignCallback): void {
    this.onPkOk();
    const cb = typeof optionsOrCb === 'function' ? optionsOrCb : maybeCb;
    cb?.(new Error('keyfleet probe: query only, no signature'));
  }
}

function parsePublicKey(line: string): ParsedKey {
  const parsed = firstKey(utils.parseKey(line.trim()));
  if (!parsed || parsed.isPrivateKey()) throw new CoreError('PublicKey.Malformed', 'The public key to probe is not a valid OpenSSH public key line.');
  return parsed;
}


/**
 * Defence in depth: whatever text reaches an error, the secret itself is cut out. The secret is read only when
 * there is text to scrub, so the auth step stays the one place that reads it on the way to the wire.
 */
function scrubberFor(credential: SshCredential): (text: string) => string {
  const secretsOf = (): string[] =>
    credential.kind === 'password'
      ? [credential.password].filter((s) => s.length >= 4)
      : credential.privateKey.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return (text) => secretsOf().reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
}

// ---------------------------------------------------------------------------------------------------------------
// The session

class Ssh2Session implements SshSession {
  private sftpChannel: Promise<SftpStart> | null = null;
  private lostReason: string | null = null;
  private closedByUs = false;

  constructor(
    private readonly client: Ssh2Client,
    private readonly sock: net.Socket,
    private readonly target: SshTarget,
    readonly hostKeySha256: string,
    private readonly opTimeoutMs: number,
    private readonly scrub: (text: string) => string,
  ) {
    client.on('error', (err: Ssh2Error) => (this.lostReason ??= this.scrub(err.message)));
    client.on('close', () => (this.lostReason ??= 'the connection was closed'));
  }

  readFile(path: string): Promise<RemoteFile | null> {
    return this.sftpOp('read', path, (sftp) => readWholeFile(sftp, sftpPath(path)));
  }

  readForReplace(path: string): Promise<ReplaceableFile> {
    return this.sftpOp('read', path, async (sftp) => {
      const prepared = await readWithTempBeside(sftp, sftpPath(path));
      let temp = prepared.temp;
      const settle = () => {
        const t = temp;
        temp = null;
        return t;
      };
      return {
        current: prepared.current,
        directory: prepared.directory,
        replace: (content, attrs) =>
          this.sftpOp('write', path, (sftp) => {
            const t = settle();
            const data = Buffer.from(content, 'utf8');
            return t ? fillTempAndRename(sftp, t, sftpPath(path), data, attrs) : writeViaTempAndRename(sftp, sftpPath(path), data, attrs);
          }),
        discard: async () => {
          const t = settle();
          if (t) await this.sftpOp('discard', path, (sftp) => removeTemp(sftp, t, true));
        },
      };
    });
  }

  writeFileAtomic(path: string, content: string, attrs: FileAttrs): Promise<void> {
    return this.sftpOp('write', path, (sftp) => writeViaTempAndRename(sftp, sftpPath(path), Buffer.from(content, 'utf8'), attrs));
  }

  ensureDir(path: string, attrs: FileAttrs): Promise<void> {
    return this.sftpOp('create directory', path, (sftp) => ensureDirectory(sftp, sftpPath(path), attrs));
  }

  removeFile(path: string): Promise<void> {
    return this.sftpOp('remove', path, async (sftp) => {
      await sftpCall<void>((cb) => sftp.unlink(sftpPath(path), cb)).catch((err: SftpError) => {
        if (err.code !== SFTP_NO_SUCH_FILE) throw err;
      });
    });
  }

  exec(command: string, stdin?: string): Promise<ExecResult> {
    this.assertUsable();
    const run = runCommand(this.client, command, stdin).catch((err: Error) => {
      throw this.remoteFailure(`running a command failed: ${err.message}`);
    });
    return this.bounded(run, () => new CoreError('Live.RemoteError', `${this.where()}: the command did not finish within ${this.opTimeoutMs} ms; the session was closed.`, this.details()));
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    void closeGracefully(this.client, this.sock);
  }

  // -- plumbing --

  private async sftpOp<T>(op: string, path: string, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.assertUsable();
    const run = (async () => {
      const start = await this.sftp();
      const unavailable = () => {
        const failure = start.failure();
        if (!failure) return null;
        this.sftpChannel = null;
        return this.remoteFailure(`the SFTP subsystem is not available: ${failure.message}`);
      };
      const early = unavailable();
      if (early) throw early;
      // The work's first requests were queued behind INIT before the subsystem had answered: if it did not start,
      // that is why they failed.
      return await work(start.sftp).catch((err: unknown) => {
        throw unavailable() ?? err;
      });
    })().catch((err: unknown) => {
      if (isCoreError(err)) throw err;
      throw this.remoteFailure(`${op} '${path}' failed: ${describeSftpError(err)}`);
    });
    return this.bounded(run, () => unreachable(this.target, `no answer to SFTP ${op} '${path}' within ${this.opTimeoutMs} ms; the session was closed`));
  }

  /** One SFTP channel per session, opened on first use (with OpenSSH, started in the first requests' flight). */
  private sftp(): Promise<SftpStart> {
    this.sftpChannel ??= (
      openSftpAtOnce(this.client) ??
      new Promise<SftpStart>((resolve, reject) => {
        this.client.sftp((err, sftp) => (err ? reject(err) : resolve({ sftp, failure: () => null })));
      })
    ).catch((err: Error) => {
      this.sftpChannel = null;
      throw this.remoteFailure(`the SFTP subsystem is not available: ${err.message}`);
    });
    return this.sftpChannel;
  }

  private bounded<T>(work: Promise<T>, onTimeout: () => CoreError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Nothing sane can follow an unanswered request: close rather than leave it dangling.
        this.closedByUs = true;
        this.sock.destroy();
        reject(onTimeout());
      }, this.opTimeoutMs);
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  private assertUsable(): void {
    if (this.closedByUs) throw new CoreError('Internal', `The SSH session to ${this.where()} is already closed.`);
    if (this.lostReason) throw unreachable(this.target, `the session was lost (${this.lostReason})`);
  }

  private remoteFailure(message: string): CoreError {
    const code: ErrorCode = this.lostReason && !this.closedByUs ? 'Live.Unreachable' : 'Live.RemoteError';
    const suffix = code === 'Live.Unreachable' ? ` (connection lost: ${this.lostReason})` : '';
    return new CoreError(code, this.scrub(`${this.where()}: ${message}${suffix}`), this.details());
  }

  private where(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  private details(): Record<string, string | number> {
    return { host: this.target.host, port: this.target.port };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SFTP operations (requests are answered in order by OpenSSH's sftp-server, which makes pipelining safe)

type SftpError = Error & { code?: number };

function sftpCall<T>(start: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
}

function sftpPath(path: string): string {
  if (path === '~') return '.';
  return path.startsWith('~/') ? path.slice(2) || '.' : path;
}

function describeSftpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as SftpError).code;
  return typeof code === 'number' ? `${err.message} (SFTP status ${code})` : err.message;
}

/** open → [fstat ‖ read] → fire-and-forget close: 2 round trips for a file under 64 KiB. */
async function readWholeFile(sftp: SFTPWrapper, path: string): Promise<RemoteFile | null> {
  let handle: Buffer;
  try {
    handle = await sftpCall<Buffer>((cb) => sftp.open(path, 'r', cb));
  } catch (err) {
    if ((err as SftpError).code === SFTP_NO_SUCH_FILE) return null;
    throw err;
  }
  try {
    const [stats, first] = await Promise.all([sftpCall<Stats>((cb) => sftp.fstat(handle, cb)), readChunk(sftp, handle, 0, FIRST_READ_BYTES)]);
    if (!stats.isFile()) throw new Error('not a regular file');
    const chunks = [first];
    let total = first.length;
    // Short reads are allowed by SFTP: keep going until EOF unless the size from fstat is already covered.
    for (let last = first; !(total >= stats.size && last.length < FIRST_READ_BYTES) && last.length > 0; ) {
      if (total > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      last = await readChunk(sftp, handle, total, FIRST_READ_BYTES);
      chunks.push(last);
      total += last.length;
    }
    return { content: Buffer.concat(chunks).toString('utf8'), mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  } finally {
    sftp.close(handle, () => undefined);
  }
}

function readChunk(sftp: SFTPWrapper, handle: Buffer, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  return new Promise((resolve, reject) => {
    sftp.read(handle, buf, 0, length, position, (err, bytesRead) => (err ? reject(err) : resolve(buf.subarray(0, bytesRead))));
  });
}

interface OpenTemp {
  path: string;
  handle: Buffer;
}

/**
 * One flight: open the file ‖ stat its directory ‖ open a new temp file beside it (O_EXCL, 0600 until the write
 * sets the real mode); then the read's [fstat ‖ read]. A temp that cannot be opened (no directory yet, no right)
 * is not an error here: the write opens one itself, after the caller has made the directory.
 */
async function readWithTempBeside(sftp: SFTPWrapper, path: string): Promise<{ current: RemoteFile | null; directory: RemoteDir | null; temp: OpenTemp | null }> {
  const tempPath = tempSiblingOf(path);
  const [current, directory, temp] = await Promise.allSettled([
    readWholeFile(sftp, path),
    sftpCall<Stats>((cb) => sftp.stat(posixPath.dirname(path), cb)).then(
      (st): RemoteDir | null => (st.isDirectory() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : null),
      (err: SftpError) => {
        if (err.code === SFTP_NO_SUCH_FILE) return null;
        throw err;
      },
    ),
    sftpCall<Buffer>((cb) => sftp.open(tempPath, 'wx', { mode: 0o600 }, cb)).then((handle) => ({ path: tempPath, handle }), () => null),
  ]);
  const failed = [current, directory].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    if (temp.status === 'fulfilled' && temp.value) await removeTemp(sftp, temp.value, true);
    throw failed.reason;
  }
  return { current: (current as PromiseFulfilledResult<RemoteFile | null>).value, directory: (directory as PromiseFulfilledResult<RemoteDir | null>).value, temp: (temp as PromiseFulfilledResult<OpenTemp | null>).value };
}

/** Best effort, but awaited: the caller is told of a failure only once the temp file is gone. */
async function removeTemp(sftp: SFTPWrapper, temp: OpenTemp, open: boolean): Promise<void> {
  if (open) sftp.close(temp.handle, () => undefined); // answered in order, before the unlink
  await new Promise<void>((resolve) => sftp.unlink(temp.path, () => resolve()));
}

/**
 * A new temp file in the same directory (O_EXCL) → [write ‖ fsetstat ‖ fsync] → close → rename over the target.
 * The target is replaced whole or not at all; on any failure the temp file is removed.
 */
async function writeViaTempAndRename(sftp: SFTPWrapper, path: string, data: Buffer, attrs: FileAttrs): Promise<void> {
  const tempPath = tempSiblingOf(path);
  const handle = await sftpCall<Buffer>((cb) => sftp.open(tempPath, 'wx', { mode: attrs.mode & 0o7777 }, cb));
  await fillTempAndRename(sftp, { path: tempPath, handle }, path, data, attrs);
}

async function fillTempAndRename(sftp: SFTPWrapper, temp: OpenTemp, path: string, data: Buffer, attrs: FileAttrs): Promise<void> {
  const { path: tempPath, handle } = temp;
  let open = true;
  try {
    const wanted = await withOwnerFilled(sftp, handle, attrs);
    // allSettled, not all: every request in flight must be answered before the temp file is cleaned up, or a late
    // write could land after the unlink.
    const settled = await Promise.allSettled([writeAll(sftp, handle, data), sftpCall<void>((cb) => sftp.fsetstat(handle, wanted, cb)), fsyncIfOffered(sftp, handle)]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    open = false;
    // Pipelined: the server answers in order, so the rename is handled after the close (one round trip less).
    const [closed, renamed] = await Promise.allSettled([sftpCall<void>((cb) => sftp.close(handle, cb)), renameOver(sftp, tempPath, path)]);
    if (closed.status === 'rejected') throw closed.reason;
    if (renamed.status === 'rejected') throw renamed.reason;
  } catch (err) {
    await removeTemp(sftp, temp, open);
    throw err;
  }
}

function tempSiblingOf(path: string): string {
  const dir = posixPath.dirname(path);
  const name = `.${posixPath.basename(path)}.keyfleet-${randomBytes(6).toString('hex')}.tmp`;
  return dir === '.' ? name : posixPath.join(dir, name);
}

/** SFTP sets owner as a uid+gid pair; if only one was asked for, the other stays as it is. */
async function withOwnerFilled(sftp: SFTPWrapper, handle: Buffer, attrs: FileAttrs): Promise<{ mode: number; uid?: number; gid?: number }> {
  const mode = attrs.mode & 0o7777;
  if (attrs.uid === undefined && attrs.gid === undefined) return { mode };
  if (attrs.uid !== undefined && attrs.gid !== undefined) return { mode, uid: attrs.uid, gid: attrs.gid };
  const current = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb));
  return { mode, uid: attrs.uid ?? current.uid, gid: attrs.gid ?? current.gid };
}

function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  // ssh2 splits writes larger than the server's limit into sequential requests itself.
  return sftpCall<void>((cb) => sftp.write(handle, data, 0, data.length, 0, cb));
}

function fsyncIfOffered(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  // Without fsync@openssh.com the rename still keeps the target whole; only crash durability is weaker.
  return callExtension((cb) => sftp.ext_openssh_fsync(handle, cb)).then(() => undefined);
}

/** posix-rename@openssh.com replaces atomically; plain SFTP rename refuses an existing target, so step around it. */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  if (await callExtension((cb) => sftp.ext_openssh_rename(from, to, cb))) return;
  await renameAroundExisting(sftp, from, to);
}

/** Resolves false when the server did not offer the extension (ssh2 throws synchronously in that case). */
function callExtension(start: (cb: (err: Error | null | undefined) => void) => void): Promise<boolean> {
  return new Promise((resolve, reject) => {
    try {
      start((err) => (err ? reject(err) : resolve(true)));
    } catch (err) {
      if (err instanceof Error && /does not support/.test(err.message)) resolve(false);
      else reject(err);
    }
  });
}

async function renameAroundExisting(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  const direct = await sftpCall<void>((cb) => sftp.rename(from, to, cb)).then(() => true, () => false);
  if (direct) return;
  const aside = `${to}.keyfleet-old-${randomBytes(4).toString('hex')}`;
  await sftpCall<void>((cb) => sftp.rename(to, aside, cb));
  try {
    await sftpCall<void>((cb) => sftp.rename(from, to, cb));
  } catch (err) {
    await sftpCall<void>((cb) => sftp.rename(aside, to, cb));
    throw err;
  }
  sftp.unlink(aside, () => undefined);
}

/** mkdir ‖ stat (the stat sees the mkdir's result), then setstat only if mode or owner differ. */
async function ensureDirectory(sftp: SFTPWrapper, path: string, attrs: FileAttrs): Promise<void> {
  const mode = attrs.mode & 0o7777;
  const [mkdirErr, stats] = await Promise.all([
    sftpCall<void>((cb) => sftp.mkdir(path, { mode }, cb)).then(() => null, (err: Error) => err),
    sftpCall<Stats>((cb) => sftp.stat(path, cb)).catch((err: Error) => err),
  ]);
  if (stats instanceof Error) throw mkdirErr ?? stats;
  if (!stats.isDirectory()) throw new Error('exists and is not a directory');
  const uid = attrs.uid ?? stats.uid;
  const gid = attrs.gid ?? stats.gid;
  if ((stats.mode & 0o7777) === mode && stats.uid === uid && stats.gid === gid) return;
  const change = attrs.uid === undefined && attrs.gid === undefined ? { mode } : { mode, uid, gid };
  await sftpCall<void>((cb) => sftp.setstat(path, change, cb));
}

// ---------------------------------------------------------------------------------------------------------------
// exec

function runCommand(client: Ssh2Client, command: string, stdin: string | undefined): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      collectOutput(stream).then(resolve, reject);
      stream.end(stdin ?? '');
    });
  });
}

function collectOutput(stream: ClientChannel): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout = boundedSink();
    const stderr = boundedSink();
    let code: number | null = null;
    stream.on('data', stdout.push);
    stream.stderr.on('data', stderr.push);
    stream.on('exit', (exitCode: number | null, signal?: string) => {
      code = exitCode ?? 128 + signalNumber(signal);
    });
    stream.on('error', reject);
    stream.on('close', () => {
      if (code === null) return reject(new Error('the command ended without an exit status'));
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
}

/** ssh2 names the signal 'SIGTERM' (the wire says 'TERM'); accept both. */
function signalNumber(signal: string | undefined): number {
  if (!signal) return 0;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  return osConstants.signals[name] ?? 0;
}

/** Collects output up to a cap; decodes once at the end so multi-byte characters are never split. */
function boundedSink(): { push: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push: (chunk) => {
      if (size >= MAX_EXEC_OUTPUT_BYTES) return;
      chunks.push(chunk.subarray(0, MAX_EXEC_OUTPUT_BYTES - size));
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
