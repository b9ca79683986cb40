/**
 * The fleet of the kill -9 fault suite: keyfleet as a child process (embedded SQLite store) that the test kills
 * with SIGKILL and starts again on the same data directory, ≥100 simulated Linux instances with a root password,
 * and ≥20 real Debian sshd hosts from the harness registered with a management key.
 *
 * The harness hosts are managed in the two ways ADR 9 allows, half each:
 *  - as root: keyfleet logs in as root with its management key (sshd allows root by that key only) and edits the
 *    login user's authorized_keys; its drop-in goes to the host's own sshd_config.d, checked with `sshd -t -f` and
 *    reloaded with `kill -HUP` of the host's sshd, as Debian's `systemctl reload ssh` does;
 *  - as the login user itself (as test/hosts/support/registered-hosts.ts does): the management key is a line of the
 *    very authorized_keys keyfleet rewrites (outside its block), the user is given the drop-in directory and the
 *    host key (for `sshd -t -f`), and the reload command drops a request file that this test process (root)
 *    answers with a SIGHUP, then waits for it to go. The answering runs here, not in keyfleet, so it keeps working
 *    while keyfleet is killed and restarted; a reload whose requester was killed is still carried out, as a
 *    `systemctl reload` already started would be.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Api, LINUX_IMAGE, startChild, testEnv } from '../../support/keyfleet.js';
import { sshKeygen } from '../../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../../support/sshd-harness.js';

export const REGION = 'cn-hangzhou';

/** One machine of the fleet as the test knows it, independently of keyfleet's records. */
export interface Machine {
  id: string;
  kind: 'sim' | 'host';
  /** What it is and how keyfleet manages it, for messages: 'sim', 'host managed as root', … */
  what: string;
  address: string;
  port: number;
  user: string;
  /** The password of `user` on the machine (the simulated instances' root password; the harness user's). */
  password: string;
}

export interface FleetOptions {
  sims: number;
  hosts: number;
  itemsPerSecond: number;
}

export class FaultFleet {
  child: ChildProcess | null = null;
  api: Api | null = null;
  reloadAgent: NodeJS.Timeout | null = null;
  /** What each keyfleet process of this fleet has written to stdout/stderr (its log), by launch. */
  private readonly outputs: Array<() => string> = [];

  private constructor(
    readonly env: Record<string, string>,
    readonly rootPassword: string,
    readonly hosts: TestHost[],
    readonly managementKey: string,
  ) {}

  get dataDir(): string {
    return this.env.KEYFLEET_DATA_DIR!;
  }

  static async start(opts: FleetOptions): Promise<{ fleet: FaultFleet; machines: Machine[] }> {
    // A fresh password per run: it cannot be found in the data directory by chance, only by a leak.
    const rootPassword = `Kf9-${randomBytes(8).toString('hex')}`;
    const env = await testEnv({
      bootMs: 0,
      extra: {
        KEYFLEET_TASK_ITEMS_PER_SECOND: String(opts.itemsPerSecond),
        // The log is scanned for credentials too, so it is on.
        KEYFLEET_LOG_LEVEL: process.env.KEYFLEET_TEST_LOG_LEVEL ?? 'info',
      },
    });
    const hosts = await startHosts(opts.hosts, { user: 'kfn' });
    const asRoot = (h: TestHost) => hosts.indexOf(h) % 2 === 0;
    let fleet: FaultFleet | null = null;
    try {
      const mgmt = await sshKeygen('ed25519', 'keyfleet-management');
      for (const h of hosts) await prepareHost(h, mgmt.publicKey, asRoot(h));
      fleet = new FaultFleet(env, rootPassword, hosts, await fs.readFile(mgmt.privateKeyPath, 'utf8'));
      fleet.reloadAgent = startReloadAgent(hosts.filter((h) => !asRoot(h)));
      const api = await fleet.launch();
      const sims = await api.run({ imageId: LINUX_IMAGE, amount: opts.sims, name: 'fault', password: rootPassword });
      await api.waitStatus(sims, 'Running', 120_000);
      const machines: Machine[] = [];
      for (const id of sims) {
        const i = await api.instance(id);
        machines.push({
          id,
          kind: 'sim',
          what: 'sim',
          address: i.address,
          port: i.sshPort,
          user: 'root',
          password: rootPassword,
        });
      }
      for (const h of hosts) {
        const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, fleet.registration(h, asRoot(h)));
        machines.push({
          id: r.instance.id,
          kind: 'host',
          what: asRoot(h) ? 'host managed as root' : 'host managed as its login user',
          address: h.address,
          port: h.port,
          user: h.user,
          password: h.password,
        });
      }
      return { fleet, machines };
    } catch (err) {
      if (fleet) await fleet.close();
      else await stopHosts(hosts);
      throw err;
    }
  }

  private registration(h: TestHost, asRoot: boolean): Record<string, unknown> {
    const dir = path.dirname(h.home);
    const request = reloadRequest(h);
    return {
      name: `fault-${h.name}`,
      address: h.address,
      port: h.port,
      loginUser: h.user,
      homeDir: h.home,
      managementUser: asRoot ? 'root' : h.user,
      managementPrivateKey: this.managementKey,
      dropInPath: path.join(h.configDir, '10-keyfleet.conf'),
      reloadCommand: asRoot
        ? `kill -HUP $(cat ${dir}/sshd.pid)`
        : `touch ${request} && while [ -e ${request} ]; do sleep 0.02; done`,
      validateCommand: `/usr/sbin/sshd -t -f ${h.sshdConfigPath}`,
    };
  }

  /** Starts keyfleet on the fleet's data directory and signs in. */
  async launch(): Promise<Api> {
    const run = await startChild(this.env);
    this.child = run.child;
    this.outputs.push(run.output);
    this.api = new Api(run.url);
    await this.api.signIn();
    return this.api;
  }

  /** The logs of every keyfleet process started so far, in order. */
  logs(): string[] {
    return this.outputs.map((o) => o());
  }

  /** kill -9 of the running keyfleet; resolves once it is gone. */
  async killNine(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.api = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    if (this.reloadAgent) clearInterval(this.reloadAgent);
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await stopHosts(this.hosts);
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * The login user's ~/.ssh as a real host has it (owned by the user, a comment line). Managed as root: root may
 * log in by the management key. Managed as the user: the management key is the user's own line, and the user may
 * write sshd's drop-in directory, read the host key (`sshd -t -f`) and ask for a reload.
 */
async function prepareHost(h: TestHost, managementPublicKey: string, asRoot: boolean): Promise<void> {
  const sshDir = path.join(h.home, '.ssh');
  const ak = path.join(sshDir, 'authorized_keys');
  await fs.mkdir(sshDir, { mode: 0o700 });
  await fs.writeFile(ak, asRoot ? '# the user own keys\n' : `# the user own keys\n${managementPublicKey}\n`, {
    mode: 0o600,
  });
  await fs.chown(sshDir, h.uid, h.gid);
  await fs.chown(ak, h.uid, h.gid);
  if (asRoot) return allowRootLogin(h, managementPublicKey);
  await fs.chown(h.configDir, h.uid, h.gid);
  await fs.chown(path.join(path.dirname(h.home), 'ssh_host_ed25519_key'), h.uid, h.gid);
  await fs.mkdir(path.dirname(reloadRequest(h)), { mode: 0o755 });
  await fs.chown(path.dirname(reloadRequest(h)), h.uid, h.gid);
}

const reloadRequest = (h: TestHost) => path.join(path.dirname(h.home), 'reload', 'request');

/** What `systemctl reload ssh` does as root, for the hosts managed as their user: SIGHUP, then the request goes. */
function startReloadAgent(hosts: TestHost[]): NodeJS.Timeout {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    const waiting = hosts.filter((h) => existsSync(reloadRequest(h)));
    if (waiting.length === 0) return;
    busy = true;
    void (async () => {
      for (const h of waiting) {
        // sshd not coming back is the host's trouble, seen by keyfleet's proof and this test's logins.
        await h.reload().catch((err) => console.error(`reload of ${h.name} failed: ${err}`));
        await fs.rm(reloadRequest(h), { force: true });
      }
    })().finally(() => (busy = false));
  }, 20);
}
