/**
 * The two sshd targets of the sshd semantics contract, behind one interface: "a machine whose login user's
 * authorized_keys, sshd drop-ins, main config and password I can set, that I can reload or restart, with an
 * address and a port".
 * - `simulated`: a simulated instance (rootfs + keyfleet's ssh2-based sshd), logging in as root, as keyfleet does.
 * - `openssh`: Debian's OpenSSH sshd from the test harness, logging in as the harness's own non-root user.
 * Both start from the same effective settings (drop-ins included first, then `PasswordAuthentication yes`,
 * `PubkeyAuthentication yes`, `KbdInteractiveAuthentication no`, `AuthorizedKeysFile .ssh/authorized_keys`,
 * StrictModes by default), and `reset()` puts a target back there between tests.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hostPath, initRootfs } from '../../src/backends/sim/rootfs.js';
import { hashPassword } from '../../src/backends/sim/shadow.js';
import { createSimSshFleet } from '../../src/backends/sim/ssh-server.js';
import { startHosts, stopHosts } from '../support/sshd-harness.js';

export interface SshdTarget {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** The login user whose authorized_keys the cases write. */
  readonly user: string;
  /** The name of the login user's primary group. */
  readonly group: string;
  readonly password: string;
  /** Replaces the user's ~/.ssh/authorized_keys (owned by the user, ~/.ssh 0700). */
  setAuthorizedKeys(content: string, mode?: number): Promise<void>;
  /** Writes ~/.ssh/<name> (owned by the user), for AuthorizedKeysFile cases. */
  writeSshFile(name: string, content: string, mode?: number): Promise<void>;
  chmodSshDir(mode: number): Promise<void>;
  /** Writes sshd_config.d/<name> (read before the main file's own lines). */
  writeDropIn(name: string, content: string): Promise<void>;
  /** Writes a file beside the drop-ins (not ending in .conf, so not included) and returns the path sshd sees. */
  writeConfigFile(name: string, content: string): Promise<string>;
  /** Puts `lines` at the very top of the main sshd_config, before its Include of the drop-ins. */
  prependMainConfig(lines: string): Promise<void>;
  /** Makes sshd take the files as they are now (SIGHUP for OpenSSH). */
  reload(): Promise<void>;
  restart(): Promise<void>;
  /** Back to the starting state: an empty ~/.ssh, no drop-ins, the original main config; reloaded. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const SIM_PASSWORD = 'contract-suite password 1';
export const TARGET_NAMES = ['simulated sshd', 'Debian OpenSSH sshd'] as const;

export async function startTargets(): Promise<SshdTarget[]> {
  const targets: SshdTarget[] = [];
  try {
    targets.push(await startSimulatedTarget());
    targets.push(await startOpensshTarget());
    return targets;
  } catch (err) {
    await Promise.all(targets.map((t) => t.close()));
    throw err;
  }
}

async function startSimulatedTarget(): Promise<SshdTarget> {
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-contract-sim-'));
  const rootDir = path.join(workDir, 'i-contract');
  const address = '127.22.0.1';
  await initRootfs(rootDir, { hostname: 'contract-sim', rootPasswordHash: await hashPassword(SIM_PASSWORD) });
  const mainConfig = await fs.readFile(hostPath(rootDir, '/etc/ssh/sshd_config'), 'utf8');
  const fleet = createSimSshFleet();
  const port = await freePort(address);
  const endpoint = { instanceId: 'i-contract', rootDir, address, port };
  await fleet.serve(endpoint);
  const file = (guestPath: string) => hostPath(rootDir, guestPath);
  const dropInDir = file('/etc/ssh/sshd_config.d');
  const writeSshFile = async (name: string, content: string, mode = 0o600) => {
    await fs.mkdir(file('/root/.ssh'), { recursive: true, mode: 0o700 });
    await writeWithMode(path.join(file('/root/.ssh'), name), content, mode);
  };
  return {
    name: TARGET_NAMES[0],
    address,
    port,
    user: 'root',
    group: 'root',
    password: SIM_PASSWORD,
    setAuthorizedKeys: (content, mode) => writeSshFile('authorized_keys', content, mode),
    writeSshFile,
    chmodSshDir: (mode) => fs.chmod(file('/root/.ssh'), mode),
    writeDropIn: (name, content) => writeWithMode(path.join(dropInDir, name), content, 0o644),
    async writeConfigFile(name, content) {
      await writeWithMode(path.join(dropInDir, name), content, 0o644);
      return `/etc/ssh/sshd_config.d/${name}`;
    },
    prependMainConfig: async (lines) =>
      writeWithMode(file('/etc/ssh/sshd_config'), `${lines.trimEnd()}\n${mainConfig}`, 0o644),
    // The simulated sshd reads its files at every login: a reload has nothing to do.
    reload: async () => {},
    async restart() {
      await fleet.stop(endpoint.instanceId);
      await fleet.serve(endpoint);
    },
    async reset() {
      await emptyDir(file('/root/.ssh'));
      await fs.chmod(file('/root/.ssh'), 0o700);
      await emptyDir(dropInDir);
      await writeWithMode(file('/etc/ssh/sshd_config'), mainConfig, 0o644);
    },
    async close() {
      await fleet.stopAll();
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}

async function startOpensshTarget(): Promise<SshdTarget> {
  const [host] = await startHosts(1, { user: 'kfct' });
  const h = host!;
  const mainConfig = await fs.readFile(h.sshdConfigPath, 'utf8');
  const sshDir = path.join(h.home, '.ssh');
  const ensureSshDir = async () => {
    await fs.mkdir(sshDir, { recursive: true, mode: 0o700 });
    await fs.chown(sshDir, h.uid, h.gid);
  };
  await ensureSshDir();
  const writeSshFile = async (name: string, content: string, mode = 0o600) => {
    await ensureSshDir();
    const file = path.join(sshDir, name);
    await writeWithMode(file, content, mode);
    await fs.chown(file, h.uid, h.gid);
  };
  return {
    name: TARGET_NAMES[1],
    address: h.address,
    port: h.port,
    user: h.user,
    // The harness makes each user with its own private group (useradd -U).
    group: h.user,
    password: h.password,
    setAuthorizedKeys: (content, mode) => writeSshFile('authorized_keys', content, mode),
    writeSshFile,
    chmodSshDir: (mode) => fs.chmod(sshDir, mode),
    writeDropIn: (name, content) => writeWithMode(path.join(h.configDir, name), content, 0o644),
    async writeConfigFile(name, content) {
      await writeWithMode(path.join(h.configDir, name), content, 0o644);
      return path.join(h.configDir, name);
    },
    prependMainConfig: (lines) => writeWithMode(h.sshdConfigPath, `${lines.trimEnd()}\n${mainConfig}`, 0o644),
    reload: () => h.reload(),
    restart: () => h.restart(),
    async reset() {
      await ensureSshDir();
      await emptyDir(sshDir);
      await fs.chmod(sshDir, 0o700);
      await emptyDir(h.configDir);
      await writeWithMode(h.sshdConfigPath, mainConfig, 0o644);
      await h.reload();
    },
    close: () => stopHosts([h]),
  };
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) await fs.rm(path.join(dir, name), { recursive: true, force: true });
}

async function writeWithMode(file: string, content: string, mode: number): Promise<void> {
  await fs.writeFile(file, content, { mode });
  await fs.chmod(file, mode);
}

function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: address, port: 0 }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
