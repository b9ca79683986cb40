/**
 * Real Debian OpenSSH hosts from the harness, prepared the way an operator prepares a real host for keyfleet, and
 * a keyfleet (in process) to register them with.
 *
 * The harness hosts are not systemd services and allow only their own user, which is therefore both the managed
 * login user and keyfleet's management user here. So that this user can do what root does on a real host, each
 * host's sshd_config.d (for keyfleet's drop-in) and host key (for `sshd -t -f <config>`) are given to it, and sshd
 * is reloaded for it: the registered reload command drops a request file that this test process (root) answers
 * with a SIGHUP, and returns once sshd listens again.
 *
 * Each host starts with authorized_keys = a comment, a hand-added key and the management key (mode 0600, owned by
 * the user).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Keyfleet } from '../../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../../support/keyfleet.js';
import { sshKeygen, sshRun } from '../../support/openssh.js';
import { type StartHostsOptions, startHosts, stopHosts, type TestHost } from '../../support/sshd-harness.js';

export const REGION = 'cn-hangzhou';
const BIN = path.resolve(import.meta.dirname, '../../../bin/keyfleet.js');

export interface RegisteredFleet {
  kf: Keyfleet;
  api: Api;
  hosts: TestHost[];
  /** keyfleet's management key: authorised by hand on every host, given to keyfleet at registration. */
  mgmt: { privateKeyPath: string; publicKey: string; privateKey: string };
  /** A key the operator added by hand on every host, outside keyfleet's block. */
  hand: { privateKeyPath: string; publicKey: string };
  /** Instance ids of the hosts registered through `register`, by the name they were registered under. */
  ids: Map<string, string>;
  registerBody(h: TestHost, name: string, extra?: Record<string, unknown>): Record<string, any>;
  register(h: TestHost, name: string, extra?: Record<string, unknown>): Promise<any>;
  /** keyfleet's environment (data directory, simulated fleet's port), to start it again on the same data. */
  env: Record<string, string>;
  /** Stops keyfleet (the hosts keep running). */
  stopKeyfleet(): Promise<void>;
  /** Starts keyfleet again on the same data; `kf` and `api` are the new ones. */
  startKeyfleet(): Promise<void>;
  close(): Promise<void>;
}

export const dirOf = (h: TestHost) => path.dirname(h.home);
export const akPath = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
export const dropIn = (h: TestHost) => path.join(h.configDir, '10-keyfleet.conf');
/** keyfleet's temp files in the host's ~/.ssh (SFTP's `.authorized_keys.keyfleet-*.tmp`, sudo's `*.keyfleet-tmp.*`). */
export const tempFilesIn = (h: TestHost): string[] =>
  readdirSync(path.join(h.home, '.ssh')).filter((f) => f.includes('keyfleet'));
export const login = (h: TestHost, auth: { identityFile?: string; password?: string }) =>
  sshRun({ host: h.address, port: h.port, user: h.user, command: 'echo in', ...auth });

/** The CLI as a user runs it: `node bin/keyfleet.js …`, with its exit code. */
export function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export async function startRegisteredFleet(
  n: number,
  opts: { extraEnv?: Record<string, string>; hosts?: StartHostsOptions } = {},
): Promise<RegisteredFleet> {
  const hosts = await startHosts(n, opts.hosts);
  let reloadAgent: NodeJS.Timeout | null = null;
  let kf: Keyfleet | undefined;
  const close = async () => {
    if (reloadAgent) clearInterval(reloadAgent);
    await kf?.close();
    await stopHosts(hosts);
  };
  try {
    const m = await sshKeygen('ed25519', 'keyfleet-management');
    const mgmt = { ...m, privateKey: await fs.readFile(m.privateKeyPath, 'utf8') };
    const hand = await sshKeygen('ed25519', 'hand-added');
    for (const h of hosts) await prepare(h, mgmt.publicKey, hand.publicKey);
    reloadAgent = startReloadAgent(hosts);
    const started = await startInProcess({ extra: opts.extraEnv });
    kf = started.kf;
    const api = started.api;
    const env = started.env;
    const ids = new Map<string, string>();

    const registerBody = (h: TestHost, name: string, extra: Record<string, unknown> = {}) => {
      const request = path.join(dirOf(h), 'reload', 'request');
      return {
        name,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        managementPrivateKey: mgmt.privateKey,
        dropInPath: dropIn(h),
        reloadCommand: `touch ${request} && while [ -e ${request} ]; do sleep 0.02; done`,
        validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
        ...extra,
      };
    };
    const register = async (h: TestHost, name: string, extra: Record<string, unknown> = {}) => {
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, registerBody(h, name, extra));
      ids.set(name, r.instance.id);
      return r;
    };
    const fleet: RegisteredFleet = {
      kf,
      api,
      hosts,
      mgmt,
      hand,
      ids,
      registerBody,
      register,
      env,
      async stopKeyfleet() {
        await kf?.close();
        kf = undefined;
      },
      async startKeyfleet() {
        const again = await startInProcess({
          dataDir: env.KEYFLEET_DATA_DIR,
          simPort: Number(env.KEYFLEET_SIM_SSH_PORT),
          extra: opts.extraEnv,
        });
        kf = again.kf;
        fleet.kf = again.kf;
        fleet.api.token = null;
        (fleet as { api: Api }).api = again.api;
      },
      close,
    };
    return fleet;
  } catch (err) {
    await close();
    throw err;
  }
}

async function prepare(h: TestHost, managementPublicKey: string, handPublicKey: string): Promise<void> {
  const sshDir = path.join(h.home, '.ssh');
  await fs.mkdir(sshDir, { mode: 0o700 });
  await fs.writeFile(akPath(h), `# added by hand\n${handPublicKey}\n${managementPublicKey}\n`, { mode: 0o600 });
  await fs.chown(sshDir, h.uid, h.gid);
  await fs.chown(akPath(h), h.uid, h.gid);
  await fs.chown(h.configDir, h.uid, h.gid);
  await fs.chown(path.join(dirOf(h), 'ssh_host_ed25519_key'), h.uid, h.gid);
  await fs.mkdir(path.join(dirOf(h), 'reload'), { mode: 0o755 });
  await fs.chown(path.join(dirOf(h), 'reload'), h.uid, h.gid);
}

/** The reload helper: what `systemctl reload ssh` does as root on a real host. */
function startReloadAgent(hosts: TestHost[]): NodeJS.Timeout {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    const waiting = hosts.filter((h) => existsSync(path.join(dirOf(h), 'reload', 'request')));
    if (waiting.length === 0) return;
    busy = true;
    void (async () => {
      for (const h of waiting) {
        await h.reload();
        await fs.rm(path.join(dirOf(h), 'reload', 'request'), { force: true });
      }
    })().finally(() => (busy = false));
  }, 20);
}
