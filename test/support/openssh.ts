/**
 * The real OpenSSH client for tests: log in and run one command as a person would with `ssh`, or move files with
 * `sftp -b`. Hermetic: no ~/.ssh config, keys, known_hosts or agent are read, so the outcome depends only on the
 * key or password passed in. A password never appears on a command line: ssh reads it from a temporary
 * SSH_ASKPASS script (0700, deleted afterwards).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const SSH = '/usr/bin/ssh';
const SFTP = '/usr/bin/sftp';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshLogin {
  host: string;
  port: number;
  user?: string;
  identityFile?: string;
  password?: string;
  timeoutMs?: number;
}

export async function sshRun(opts: SshLogin & { command: string }): Promise<SshResult> {
  return withCredentials(opts, (auth) =>
    runClient(
      SSH,
      [...auth.options, '-T', '-p', String(opts.port), `${opts.user ?? 'root'}@${opts.host}`, '--', opts.command],
      auth.env,
      opts.timeoutMs,
    ),
  );
}

/** `sftp -b <batch>`: each line one sftp command; the run stops at the first failing one (exit 1), like sftp. */
export async function sftpBatch(opts: SshLogin & { commands: string[]; cwd?: string }): Promise<SshResult> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-sftp-'));
  const batch = path.join(dir, 'batch');
  await fsp.writeFile(batch, opts.commands.join('\n') + '\n', { mode: 0o600 });
  try {
    return await withCredentials(opts, (auth) =>
      runClient(
        SFTP,
        [...auth.options, '-b', batch, '-P', String(opts.port), `${opts.user ?? 'root'}@${opts.host}`],
        auth.env,
        opts.timeoutMs,
        opts.cwd,
      ),
    );
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Writes a private key (OpenSSH or PEM text) to a fresh 0600 file, as ssh insists, and returns its path (removed at exit). */
export async function writePrivateKey(text: string): Promise<string> {
  const file = path.join(await keyDir('kf-key-'), 'id');
  await fsp.writeFile(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  return file;
}

/** A fresh client key pair made by ssh-keygen: the private key's path (removed at exit) and the public key line. */
export async function sshKeygen(
  type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519',
  comment = 'test',
): Promise<{ privateKeyPath: string; publicKey: string }> {
  const file = path.join(await keyDir('kf-keygen-'), 'id');
  await promisify(execFile)(SSH_KEYGEN, [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '3072'] : []),
    '-N',
    '',
    '-C',
    comment,
    '-f',
    file,
  ]);
  return { privateKeyPath: file, publicKey: (await fsp.readFile(`${file}.pub`, 'utf8')).trim() };
}

/** Key files outlive the call that made them (tests use them later), so they go when the test process exits. */
const keyDirs: string[] = [];
process.once('exit', () => {
  for (const dir of keyDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function keyDir(prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  keyDirs.push(dir);
  return dir;
}

interface Credentials {
  options: string[];
  env: NodeJS.ProcessEnv;
}

const COMMON_OPTIONS = [
  '-F',
  '/dev/null',
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'UpdateHostKeys=no',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'ConnectTimeout=5',
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'IdentityAgent=none',
  '-o',
  'ControlMaster=no',
  '-o',
  'ControlPath=none',
  '-o',
  'KbdInteractiveAuthentication=no',
  '-o',
  'NumberOfPasswordPrompts=1',
];

async function withCredentials<T>(opts: SshLogin, run: (auth: Credentials) => Promise<T>): Promise<T> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  delete env.SSH_ASKPASS;
  delete env.SSH_ASKPASS_REQUIRE;
  if (opts.password === undefined) {
    // Without -i, ssh would fall back to ~/.ssh/id_*: with no key given, public keys are off altogether.
    const keyOptions = opts.identityFile
      ? ['-i', opts.identityFile, '-o', 'PubkeyAuthentication=yes', '-o', 'PreferredAuthentications=publickey']
      : ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=publickey'];
    return run({
      options: [...COMMON_OPTIONS, '-o', 'BatchMode=yes', '-o', 'PasswordAuthentication=no', ...keyOptions],
      env,
    });
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-askpass-'));
  const script = path.join(dir, 'askpass.sh');
  await fsp.writeFile(script, `#!/bin/sh\nprintf '%s\\n' '${opts.password.replace(/'/g, `'\\''`)}'\n`, { mode: 0o700 });
  try {
    env.SSH_ASKPASS = script;
    env.SSH_ASKPASS_REQUIRE = 'force';
    env.DISPLAY = env.DISPLAY ?? ':0';
    return await run({
      options: [
        ...COMMON_OPTIONS,
        '-o',
        'BatchMode=no',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PasswordAuthentication=yes',
        '-o',
        'PreferredAuthentications=password',
      ],
      env,
    });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

function runClient(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
  cwd?: string,
): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    // setsid-like detachment keeps ssh from finding a controlling terminal to prompt on.
    const child = spawn(binary, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(binary)} ${args.at(-1)} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
