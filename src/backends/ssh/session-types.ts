/** What an SSH session to a machine offers: the plain SFTP session and the sudo one implement it alike. */
/** `mode` holds the permission bits only (mode & 0o7777), ready to pass back to writeFileAtomic. */
export interface RemoteFile {
  content: string;
  mode: number;
  uid: number;
  gid: number;
}
export interface RemoteDir {
  mode: number;
  uid: number;
  gid: number;
}
/** A file read in order to be replaced: the temp file for its replacement may already be open on the host. */
export interface ReplaceableFile {
  current: RemoteFile | null;
  /** null: missing or not a directory. */
  directory: RemoteDir | null;
  replace(content: string, attrs: FileAttrs): Promise<void>;
  /** Removes what readForReplace prepared; a no-op if nothing was. */
  discard(): Promise<void>;
}
export interface FileAttrs {
  mode: number;
  uid?: number;
  gid?: number;
}
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Paths are as the server's SFTP subsystem sees them: absolute, or relative to the login's home directory
 * (a leading `~/` is accepted and means the same).
 */
export interface SshSession {
  readonly hostKeySha256: string;
  readFile(path: string): Promise<RemoteFile | null>;
  /** The read, a stat of the file's directory and the temp file for its replacement, in one round trip (SFTP). */
  readForReplace(path: string): Promise<ReplaceableFile>;
  writeFileAtomic(path: string, content: string, attrs: FileAttrs): Promise<void>;
  /** Creates the directory (its parent must exist) or brings an existing one to the given mode/owner. */
  ensureDir(path: string, attrs: FileAttrs): Promise<void>;
  removeFile(path: string): Promise<void>;
  /** `code` is the exit status, or 128 + signal number if the command was killed by a signal. */
  exec(command: string, stdin?: string): Promise<ExecResult>;
  close(): void;
}
