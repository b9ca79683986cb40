/**
 * keyfleet's production topology on loopback, for the cluster tests (the TypeScript twin of scripts/cluster.sh):
 * N keyfleet processes (each `node bin/keyfleet.js serve`, on its own 127.0.0.x address) on one PostgreSQL database,
 * sharing one data directory (the simulated fleet's disks) and one master key, behind HAProxy from Debian, which
 * health-checks each process on /readyz. Processes can be killed (-9), stopped gracefully (SIGTERM: drain) and
 * started again on the same address and port, so the balancer's configuration never changes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_PASSWORD, freePort, sleep, tempDir } from './keyfleet.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p)) ?? 'haproxy';

export interface ClusterOptions {
  processes: number;
  databaseUrl: string;
  /** Environment for every process (lease, sweep, pacing…). */
  extra?: Record<string, string>;
  /** The simulated boot time (default 20 ms). */
  bootMs?: number;
}

export interface ClusterNode {
  /** 1-based. */
  n: number;
  host: string;
  port: number;
  url: string;
  child: ChildProcess | null;
  /** Every line this node's processes wrote, across restarts. */
  log: string;
  /** How many times it was started. */
  starts: number;
}

/** HAProxy's configuration: round robin, /readyz checked every 500 ms, a server out after 3 failed checks. */
export function haproxyConfig(opts: { bind: string; servers: Array<{ name: string; host: string; port: number }> }) {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 300s',
    '  timeout server 300s',
    // A check answered slowly (a busy machine) is not a failed one.
    '  timeout check 3s',
    // A connection refused (a process gone) is tried again, on another server: the request was never sent.
    '  retries 3',
    '  option redispatch',
    '  retry-on conn-failure',
    'frontend keyfleet',
    `  bind ${opts.bind}`,
    '  default_backend keyfleet',
    'backend keyfleet',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 3 rise 2',
    ...opts.servers.map((s) => `  server ${s.name} ${s.host}:${s.port} check`),
    '',
  ].join('\n');
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  balancerUrl = '';
  private haproxy: ChildProcess | null = null;
  private haproxyLog = '';
  readonly dataDir = tempDir('kf-cluster-');
  readonly masterKey = randomBytes(32).toString('base64');
  readonly simPort = 20000 + Math.floor(Math.random() * 20000);

  private constructor(private readonly opts: ClusterOptions) {}

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(opts);
    try {
      for (let n = 1; n <= opts.processes; n++) {
        const host = `127.0.0.${10 + n}`;
        const port = await freePort();
        c.nodes.push({ n, host, port, url: `http://${host}:${port}`, child: null, log: '', starts: 0 });
      }
      // The first process alone creates the schema and the administrator; then the others.
      await c.launch(1);
      await Promise.all(c.nodes.slice(1).map((node) => c.launch(node.n)));
      await c.startBalancer();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  env(node: ClusterNode): Record<string, string> {
    return {
      KEYFLEET_HOST: node.host,
      KEYFLEET_PORT: String(node.port),
      KEYFLEET_DATA_DIR: this.dataDir,
      KEYFLEET_DATABASE_URL: this.opts.databaseUrl,
      KEYFLEET_MASTER_KEY: this.masterKey,
      KEYFLEET_SIM_SSH_PORT: String(this.simPort),
      KEYFLEET_SIM_BOOT_MS: String(this.opts.bootMs ?? 20),
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
      KEYFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      KEYFLEET_LOG_LEVEL: process.env.KEYFLEET_TEST_LOG_LEVEL ?? 'warn',
      KEYFLEET_TASK_SWEEP_MS: '500',
      // The balancer's checks (500 ms, 3 failures) see a draining process out before its listener closes.
      KEYFLEET_DRAIN_DELAY_MS: '2500',
      ...this.opts.extra,
    };
  }

  /** Starts node n (again); resolves once it listens. */
  async launch(n: number): Promise<ClusterNode> {
    const node = this.node(n);
    if (node.child && node.child.exitCode === null && node.child.signalCode === null)
      throw new Error(`node ${n} is running`);
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/keyfleet.js'), 'serve'], {
      env: { ...process.env, ...this.env(node) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    node.child = child;
    node.starts++;
    let out = '';
    const take = (d: Buffer) => {
      out += d;
      node.log += d;
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    // A safety net only: on a busy machine tsx alone can take tens of seconds to load the sources.
    const deadline = Date.now() + 180_000;
    while (!out.includes('keyfleet listening')) {
      if (child.exitCode !== null) throw new Error(`keyfleet ${n} exited early (${child.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`keyfleet ${n} did not start:\n${out}`);
      await sleep(25);
    }
    return node;
  }

  node(n: number): ClusterNode {
    const node = this.nodes[n - 1];
    if (!node) throw new Error(`no node ${n}`);
    return node;
  }

  running(n: number): boolean {
    const c = this.node(n).child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** kill -9; resolves once the process is gone. */
  async kill9(n: number): Promise<void> {
    const child = this.node(n).child;
    if (!child || !this.running(n)) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM (a rolling restart's stop); resolves with the exit code once the process has drained and exited. */
  async terminate(n: number): Promise<number | null> {
    const child = this.node(n).child;
    if (!child || !this.running(n)) return child?.exitCode ?? null;
    const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return gone;
  }

  private async startBalancer(): Promise<void> {
    const port = await freePort();
    const cfg = path.join(this.dataDir, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      haproxyConfig({
        bind: `127.0.0.1:${port}`,
        servers: this.nodes.map((n) => ({ name: `kf${n.n}`, host: n.host, port: n.port })),
      }),
    );
    const hp = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    hp.stdout!.on('data', (d) => (this.haproxyLog += d));
    hp.stderr!.on('data', (d) => (this.haproxyLog += d));
    this.haproxy = hp;
    this.balancerUrl = `http://127.0.0.1:${port}`;
    // Up once it answers through a server that passed its checks.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (hp.exitCode !== null) throw new Error(`haproxy exited (${hp.exitCode}):\n${this.haproxyLog}`);
      const ok = await fetch(`${this.balancerUrl}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`haproxy did not come up:\n${this.haproxyLog}`);
      await sleep(100);
    }
  }

  /** What HAProxy printed (its server state changes, with the failed check's reason). */
  balancerLog(): string {
    return this.haproxyLog;
  }

  logs(): string {
    return this.nodes.map((n) => `--- keyfleet ${n.n}\n${n.log}`).join('\n') + `\n--- haproxy\n${this.haproxyLog}`;
  }

  async close(): Promise<void> {
    for (const node of this.nodes) await this.kill9(node.n);
    if (this.haproxy && this.haproxy.exitCode === null) {
      const gone = new Promise((r) => this.haproxy!.once('exit', r));
      this.haproxy.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
