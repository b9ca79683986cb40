/**
 * The root filesystem of a simulated instance: a directory on the keyfleet host laid out like a small Debian
 * machine (/etc/passwd, /etc/shadow, /etc/hostname, /etc/ssh/…, /root/.ssh/). The simulated sshd reads these files
 * on every login, so whatever is written here is what the machine does.
 *
 * hostPath is the one door from a guest path to a host path. Everything that touches an instance's files from the
 * guest's side (SFTP, `cat`, the sshd config reader) goes through it, so `..` and symlinks cannot reach the host.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { createSshKeyMaterial } from '../../crypto/ssh-key-material.js';
import { CoreError } from '../../core/errors.js';

const keyMaterial = createSshKeyMaterial();

export const HOST_KEY_PATH = '/etc/ssh/ssh_host_ed25519_key';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\n';
const GROUP = 'root:x:0:\n';

/** Debian's layout: the drop-in directory is included FIRST, so a drop-in's value wins over the main file's. */
const SSHD_CONFIG = [
  'Include /etc/ssh/sshd_config.d/*.conf',
  '',
  'PermitRootLogin yes',
  'PubkeyAuthentication yes',
  'PasswordAuthentication yes',
  'KbdInteractiveAuthentication no',
  'AuthorizedKeysFile .ssh/authorized_keys',
  'UsePAM yes',
  'X11Forwarding yes',
  'PrintMotd no',
  'AcceptEnv LANG LC_*',
  'Subsystem sftp internal-sftp',
  '',
].join('\n');

export async function initRootfs(
  rootDir: string,
  opts: { hostname: string; rootPasswordHash: string | null },
): Promise<void> {
  await fsp.mkdir(path.join(rootDir, 'etc/ssh/sshd_config.d'), { recursive: true });
  await fsp.mkdir(path.join(rootDir, 'root'), { recursive: true, mode: 0o700 });
  await fsp.mkdir(path.join(rootDir, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await fsp.mkdir(path.join(rootDir, 'tmp'), { recursive: true });

  await createIfAbsent(path.join(rootDir, 'etc/passwd'), PASSWD, 0o644);
  await createIfAbsent(path.join(rootDir, 'etc/group'), GROUP, 0o644);
  await createIfAbsent(path.join(rootDir, 'etc/ssh/sshd_config'), SSHD_CONFIG, 0o644);
  await replaceFile(path.join(rootDir, 'etc/hostname'), `${opts.hostname}\n`, 0o644);

  const shadow = path.join(rootDir, 'etc/shadow');
  // A later boot passes null: the password chosen at provisioning (or changed since) must survive it.
  if (opts.rootPasswordHash !== null || !fs.existsSync(shadow)) {
    await replaceFile(shadow, shadowLine('root', opts.rootPasswordHash ?? '*'), 0o600);
  }

  await ensureHostKey(rootDir, opts.hostname);
}

export function shadowLine(user: string, hash: string): string {
  const daysSinceEpoch = Math.floor(Date.now() / 86_400_000);
  return `${user}:${hash}:${daysSinceEpoch}:0:99999:7:::\n`;
}

/** The instance's SSH host public key, as one `ssh-ed25519 AAAA… comment` line. */
export async function readHostKey(rootDir: string): Promise<string> {
  return (await fsp.readFile(hostPath(rootDir, `${HOST_KEY_PATH}.pub`), 'utf8')).trim();
}

/**
 * The host path of an absolute guest path. Resolves `.`, `..` and symlinks the way the kernel would, component by
 * component, and throws when any step would leave the root directory (a `..` above `/`, or a symlink whose target
 * lies outside). The result has every existing symlink resolved, so following it cannot leave the root either.
 */
export function hostPath(rootDir: string, guestPath: string): string {
  if (!guestPath.startsWith('/') || guestPath.includes('\0')) throw escapeError(guestPath);
  const root = realRoot(rootDir);
  let current = root;
  const pending = guestPath.split('/');
  let symlinkHops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current === root) throw escapeError(guestPath);
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, part);
    const stat = fs.lstatSync(next, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) {
      if (++symlinkHops > 40) throw escapeError(guestPath);
      const target = fs.readlinkSync(next);
      if (path.isAbsolute(target)) {
        const resolved = path.resolve(target);
        if (!isInside(resolved, root)) throw escapeError(guestPath);
        current = root;
        pending.unshift(...path.relative(root, resolved).split(path.sep));
      } else {
        pending.unshift(...target.split('/'));
      }
      continue;
    }
    current = next;
  }
  return current;
}

function realRoot(rootDir: string): string {
  try {
    return fs.realpathSync(rootDir);
  } catch {
    return path.resolve(rootDir);
  }
}

function isInside(candidate: string, root: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function escapeError(guestPath: string): CoreError {
  return new CoreError('Input.Invalid', `The path '${guestPath}' leaves the instance's file system.`, {
    path: guestPath,
  });
}

async function ensureHostKey(rootDir: string, hostname: string): Promise<void> {
  const privateFile = path.join(rootDir, HOST_KEY_PATH);
  const publicFile = `${privateFile}.pub`;
  const existing = await fsp.readFile(privateFile, 'utf8').catch(() => null);
  if (existing !== null) {
    // A crash between the two writes leaves a private key alone; its public half can be derived again.
    if (!fs.existsSync(publicFile)) await replaceFile(publicFile, publicLineOf(existing, `root@${hostname}`), 0o644);
    return;
  }
  const pair = await generateEd25519(`root@${hostname}`);
  await replaceFile(publicFile, pair.public.trim() + '\n', 0o644);
  const tmp = `${privateFile}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fsp.writeFile(tmp, pair.private, { mode: 0o600 });
  try {
    // link() fails when a concurrent init got there first; its key is kept, as on a re-init.
    await fsp.link(tmp, privateFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const winner = await fsp.readFile(privateFile, 'utf8');
    await replaceFile(publicFile, publicLineOf(winner, `root@${hostname}`), 0o644);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/** Host keys come from the same checked generator as users' keys (ssh2 alone sometimes writes an unusable one). */
async function generateEd25519(comment: string): Promise<{ private: string; public: string }> {
  const pair = await keyMaterial.generate('ed25519', comment);
  return { private: pair.privateKey, public: `${pair.publicKey}` };
}

function publicLineOf(privateKeyText: string, comment: string): string {
  const parsed = ssh2.utils.parseKey(privateKeyText);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new Error('The instance host key cannot be parsed.');
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}\n`;
}

async function createIfAbsent(file: string, content: string, mode: number): Promise<void> {
  try {
    await fsp.writeFile(file, content, { mode, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Write-then-rename, so a login racing with the write reads the old file or the new one, never half of one. */
export async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fsp.writeFile(tmp, content, { mode });
  await fsp.chmod(tmp, mode);
  await fsp.rename(tmp, file);
}
