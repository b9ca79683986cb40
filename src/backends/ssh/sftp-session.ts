/**
 * The session over one logged-in connection: file operations on one SFTP channel, opened on first use (with
 * OpenSSH started in the first requests' flight, lean-transport.ts), commands on exec channels beside it. Each
 * operation is bounded by its own timeout; a timed-out session is closed, since its state on the server is unknown.
 * A lost connection fails later operations as Live.Unreachable; messages are scrubbed of the credential.
 */
import type net from 'node:net';
import type { Client as Ssh2Client, SFTPWrapper } from 'ssh2';
import { CoreError, isCoreError, type ErrorCode } from '../../core/errors.js';
import type { LiveSession, LiveTarget, RemoteFile, ReplaceableFile } from '../../core/ports.js';
import { closeGracefully, unreachable, type Ssh2Error } from './dial.js';
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
  private lostReason: string | null = null;
  private closedByUs = false;

  constructor(
    private readonly client: Ssh2Client,
    private readonly sock: net.Socket,
    private readonly target: LiveTarget,
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

  exec(command: string, stdin?: string): Promise<ExecResult> {
    this.assertUsable();
    const run = runCommand(this.client, command, stdin).catch((err: Error) => {
      throw this.remoteFailure(`running a command failed: ${err.message}`);
    });
    return this.bounded(
      run,
      () =>
        new CoreError(
          'Live.RemoteError',
          `${this.where()}: the command did not finish within ${this.opTimeoutMs} ms; the session was closed.`,
          this.details(),
        ),
    );
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
    return this.bounded(run, () =>
      unreachable(
        this.target,
        `no answer to SFTP ${op} '${path}' within ${this.opTimeoutMs} ms; the session was closed`,
      ),
    );
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
