/**
 * The session over one logged-in connection: file operations on one SFTP channel, opened on first use (with
 * OpenSSH started in the first requests' flight, lean-transport.ts), commands on exec channels beside it.
 *
 * Every operation is bounded by its own timeout (Live.Timeout); a timed-out session is closed, since its state on
 * the server is unknown. The moment the connection is lost (closed, reset, damaged data), every operation in
 * flight fails as Live.Unreachable at once, whatever request it was waiting for, and so does every later one: a
 * network fault never reaches the caller as a remote error or a hang. What the server itself refused (an SFTP
 * status, a command's exit code) stays a remote result. Messages name host:port and the step, scrubbed of the
 * credential.
 */
import type net from 'node:net';
import type { Client as Ssh2Client, SFTPWrapper } from 'ssh2';
import { CoreError, isCoreError } from '../../core/errors.js';
import type { LiveSession, LiveTarget, RemoteFile, ReplaceableFile } from '../../core/ports.js';
import { closeGracefully, type Ssh2Error } from './dial.js';
import { openSftpAtOnce, type SftpStart } from './lean-transport.js';
import { runCommand } from './remote-command.js';
import type { ExecResult, FileAttrs } from './session-types.js';
import {
  describeSftpError,
  ensureDirectory,
  fillTempAndRename,
  readWholeFile,
  readWithTempBeside,
  removeTemp,
  sftpCall,
  sftpPath,
  SFTP_NO_SUCH_FILE,
  writeViaTempAndRename,
  type SftpError,
} from './sftp-files.js';

export class SftpSession implements LiveSession {
  private sftpChannel: Promise<SftpStart> | null = null;
  /** Why the session can no longer be used (lost, timed out, closed), as the code later operations fail with. */
  private ended: { code: 'Live.Unreachable' | 'Live.Timeout'; reason: string } | null = null;
  /** Operations in flight, failed at once when the session ends. */
  private readonly inFlight = new Set<(code: 'Live.Unreachable' | 'Live.Timeout', reason: string) => void>();

  constructor(
    private readonly client: Ssh2Client,
    private readonly sock: net.Socket,
    private readonly target: LiveTarget,
    readonly hostKeySha256: string,
    private readonly opTimeoutMs: number,
    private readonly scrub: (text: string) => string,
  ) {
    client.on('error', (err: Ssh2Error) => this.end('Live.Unreachable', `the connection was lost: ${lostReason(err)}`));
    client.on('end', () => this.end('Live.Unreachable', 'the connection was closed by the other side'));
    client.on('close', () => this.end('Live.Unreachable', 'the connection was closed'));
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
            return t
              ? fillTempAndRename(sftp, t, sftpPath(path), data, attrs)
              : writeViaTempAndRename(sftp, sftpPath(path), data, attrs);
          }),
        discard: async () => {
          const t = settle();
          if (t) await this.sftpOp('discard', path, (sftp) => removeTemp(sftp, t, true));
        },
      };
    });
  }

  writeFileAtomic(path: string, content: string, attrs: FileAttrs): Promise<void> {
    return this.sftpOp('write', path, (sftp) =>
      writeViaTempAndRename(sftp, sftpPath(path), Buffer.from(content, 'utf8'), attrs),
    );
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

  /** The exit status is the command's result, whatever it is; only a lost or silent connection is an error. */
  exec(command: string, stdin?: string): Promise<ExecResult> {
    return this.bounded('running a command', () => runCommand(this.client, command, stdin));
  }

  close(): void {
    if (this.ended?.reason === CLOSED_BY_US) return;
    const wasOpen = !this.ended;
    this.end('Live.Unreachable', CLOSED_BY_US);
    if (wasOpen) void closeGracefully(this.client, this.sock);
    else this.sock.destroy();
  }

  // -- plumbing --

  private sftpOp<T>(op: string, path: string, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.bounded(`SFTP ${op} '${path}'`, async () => {
      const start = await this.sftp();
      const unavailable = () => {
        const failure = start.failure();
        if (!failure) return null;
        this.sftpChannel = null;
        return new Error(`the SFTP subsystem is not available: ${failure.message}`);
      };
      const early = unavailable();
      if (early) throw early;
      // The work's first requests were queued behind INIT before the subsystem had answered: if it did not start,
      // that is why they failed.
      return await work(start.sftp).catch((err: unknown) => {
        throw unavailable() ?? err;
      });
    });
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
      throw new Error(`the SFTP subsystem is not available: ${err.message}`);
    });
    return this.sftpChannel;
  }

  /**
   * Runs one operation within opTimeoutMs: its result, or a CoreError naming the step. An operation that gets no
   * answer in time ends the session (Live.Timeout); one in flight when the connection is lost fails at once
   * (Live.Unreachable), since nothing can answer its requests any more.
   */
  private bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.ended)
      return Promise.reject(this.failure(this.ended.code, `${what} was not started: ${this.ended.reason}`));
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.inFlight.delete(onEnd);
      };
      const onEnd = (code: 'Live.Unreachable' | 'Live.Timeout', reason: string) => {
        done();
        reject(this.failure(code, `${what} failed: ${reason}`));
      };
      const timer = setTimeout(() => {
        done();
        // Nothing sane can follow an unanswered request: close rather than leave it dangling.
        const reason = `no answer to ${what} within ${this.opTimeoutMs} ms; the session was closed`;
        this.end('Live.Timeout', `an earlier step got ${reason}`);
        this.sock.destroy();
        reject(this.failure('Live.Timeout', reason));
      }, this.opTimeoutMs);
      this.inFlight.add(onEnd);
      let work$: Promise<T>;
      try {
        work$ = work();
      } catch (err) {
        work$ = Promise.reject(err);
      }
      work$.then(
        (value) => {
          if (!this.inFlight.has(onEnd)) return;
          done();
          resolve(value);
        },
        (err: unknown) => {
          if (!this.inFlight.has(onEnd)) return;
          // A request failed without a status from the server: if the connection is going, that is why (ssh2 may
          // fail the requests a moment before it reports the connection's end).
          const fromServer = isCoreError(err) || typeof (err as SftpError)?.code === 'number';
          const judge = () => {
            if (!this.inFlight.has(onEnd)) return;
            done();
            // A socket that can no longer be written is a lost connection, reported or not.
            if (!this.ended && (this.sock.destroyed || !this.sock.writable))
              this.end('Live.Unreachable', 'the connection was closed');
            if (this.ended) return reject(this.failure(this.ended.code, `${what} failed: ${this.ended.reason}`));
            reject(
              isCoreError(err) ? err : this.failure('Live.RemoteError', `${what} failed: ${describeSftpError(err)}`),
            );
          };
          if (fromServer || this.ended) judge();
          else setImmediate(judge);
        },
      );
    });
  }

  private end(code: 'Live.Unreachable' | 'Live.Timeout', reason: string): void {
    if (this.ended) return;
    this.ended = { code, reason };
    for (const fail of [...this.inFlight]) fail(code, reason);
  }

  private failure(code: 'Live.Unreachable' | 'Live.Timeout' | 'Live.RemoteError', message: string): CoreError {
    return new CoreError(code, this.scrub(`${this.target.host}:${this.target.port}: ${message}.`), {
      host: this.target.host,
      port: this.target.port,
    });
  }
}

const CLOSED_BY_US = 'the session was already closed by keyfleet';

/** ssh2's and OpenSSL's words for a connection that broke, in a form a reader can place. */
function lostReason(err: Ssh2Error): string {
  if (/^error:[0-9A-Fa-f]+:/.test(err.message)) return 'data arrived damaged (decryption failed)';
  return typeof err.code === 'string' ? `${err.message} (${err.code})` : err.message;
}
