/**
 * Real Debian OpenSSH sshd instances standing in for separate Linux hosts, for tests of the live SSH path.
 *
 * Each host gets its own 127.31.x.y address, temp dir, ed25519 host key, sshd_config (whose FIRST line includes the
 * host's own sshd_config.d, so a test can override any option: sshd keeps the first value it reads) and its own
 * login user `kfh<n>` with a random password. sshd runs as `/usr/sbin/sshd -D -e -f <cfg>`, a child we track by pid;
 * its log (stderr) goes to a file in the host's dir.
 *
 * Parallel test files may each start hosts, so every startHosts call claims a slot (an atomic mkdir under
 * /tmp/keyfleet-sshd-harness) that makes its addresses and user names unique; a slot left by a crashed run is
 * reclaimed, and the sshd it recorded is stopped. Users are removed at stopHosts and reused if a crash left them.
 * Nothing here touches the machine's own /etc/ssh, ~/.ssh or a system sshd.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SSHD = '/usr/sbin/sshd';
const SLOTS_DIR = '/tmp/keyfleet-sshd-harness';
const MAX_SLOTS = 200;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface TestHost {
  name: string;
  address: string;
  port: number;
  user: string;
  uid: number;
  gid: number;
  home: string;
  password: string;
  hostKeySha256: string;
  /** The host's own sshd_config.d: `*.conf` here is read before everything else, so it wins. */
  configDir: string;
  sshdConfigPath: string;
  logPath: string;
  /** The listening sshd's pid (-1 while stopped); the same across reload() (sshd re-execs itself), not restart(). */
  readonly pid: number;
  /** Everything sshd has logged so far (its stderr). */
  log(): string;
  /** The machine goes down: sshd stops and live sessions are dropped. User, home and host key stay. */
  stop(): Promise<void>;
  /** Starts sshd again (stopping it first if it runs); new pid, same host key, user and home. */
  restart(): Promise<void>;
  /** SIGHUP: sshd re-reads its configuration; resolves once the new listener is up. */
  reload(): Promise<void>;
}

export interface StartHostsOptions {
  /** Prefix of the login user names (default 'kfh'): hosts get `<prefix><n>`, unique per slot and host. */
  user?: string;
  basePort?: number;
  /** Two octets ('127.31', default: one third octet per slot) or three ('127.31.5': the slot shifts the port). */
  addressPrefix?: string;
  /** The sftp subsystem's command (default: KEYFLEET_HARNESS_SFTP or internal-sftp); null: none, sshd refuses it. */
  sftp?: string | null;
}

export async function startHosts(n: number, opts: StartHostsOptions = {}): Promise<TestHost[]> {
  await prepareRuntimeDirs();
  const slot = await claimSlot();
  const hosts: TestHost[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const { address, port } = placeHost(slot.index, i, opts);
      const user = `${opts.user ?? 'kfh'}${slot.index * 1000 + i + 1}`;
      const sftp = opts.sftp === undefined ? (process.env.KEYFLEET_HARNESS_SFTP ?? 'internal-sftp') : opts.sftp;
      hosts.push(await startHost({ name: `host${i + 1}`, address, port, user, slot, sftp }));
    }
    return hosts;
  } catch (err) {
    await stopHosts(hosts);
    await slot.release();
    throw err;
  }
}

/** Tears hosts down completely: sshd, session processes, the user, the temp dir; frees their slot. */
export async function stopHosts(hosts: TestHost[]): Promise<void> {
  // Sequential: useradd/userdel take a lock on /etc/passwd and fail rather than wait.
  for (const host of hosts) if (host instanceof HostImpl) await host.destroy();
}

/**
 * Where root's authorized keys live for harness hosts that allow root: not under /tmp (StrictModes refuses a key
 * file below a world-writable directory outside the user's home) and not /root/.ssh (the machine's own).
 */
const ROOT_KEYS_DIR = '/var/lib/keyfleet-harness-root-keys';

/**
 * Lets root log in to this host with `publicKey` only (as a management user would on a real fleet), from a key
 * file of this host's own; sshd is reloaded. The file goes when the host is destroyed.
 */
export async function allowRootLogin(host: TestHost, publicKey: string): Promise<void> {
  const keys = path.join(ROOT_KEYS_DIR, path.basename(path.dirname(host.home)));
  await fsp.mkdir(keys, { recursive: true, mode: 0o755 });
  await fsp.writeFile(path.join(keys, 'root'), `${publicKey.trim()}\n`, { mode: 0o600 });
  await fsp.writeFile(
    path.join(host.configDir, '00-root-login.conf'),
    [
      'PermitRootLogin prohibit-password',
      `AllowUsers root ${host.user}`,
      `AuthorizedKeysFile .ssh/authorized_keys ${keys}/%u`,
      '',
    ].join('\n'),
  );
  await host.reload();
}

/** The login user's ~/.ssh as a real host has it: owned by the user (StrictModes), authorized_keys with a comment. */
export async function prepareLoginHome(host: TestHost): Promise<void> {
  const sshDir = path.join(host.home, '.ssh');
  const ak = path.join(sshDir, 'authorized_keys');
  await fsp.mkdir(sshDir, { mode: 0o700, recursive: true });
  await fsp.writeFile(ak, '# the user own keys\n', { mode: 0o600 });
  await fsp.chown(sshDir, host.uid, host.gid);
  await fsp.chown(ak, host.uid, host.gid);
}

/**
 * Also lets `user` log in with `publicKey` from a key file beside root's (after allowRootLogin, whose
 * AuthorizedKeysFile names these files): the user's own authorized_keys is left to what is being managed.
 */
export async function authorizeSideKey(host: TestHost, user: string, publicKey: string): Promise<void> {
  await fsp.writeFile(path.join(ROOT_KEYS_DIR, path.basename(path.dirname(host.home)), user), `${publicKey.trim()}\n`, {
    mode: 0o644,
  });
}

/** Established TCP connections whose local end is this host's sshd: 0 once every client has hung up. */
export function establishedConnections(host: Pick<TestHost, 'address' | 'port'>): number {
  const local = procNetAddress(host.address, host.port);
  return readProcNetTcp().filter((row) => row.local === local && row.state === TCP_ESTABLISHED).length;
}

// ---------------------------------------------------------------------------------------------------------------
// One host

interface HostPlan {
  name: string;
  address: string;
  port: number;
  user: string;
  slot: Slot;
  sftp: string | null;
}

const liveHosts = new Set<HostImpl>();

async function startHost(plan: HostPlan): Promise<TestHost> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `kfh-${plan.user}-`));
  try {
    return await createAndLaunch(plan, dir);
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function createAndLaunch(plan: HostPlan, dir: string): Promise<TestHost> {
  // sshd reads authorized_keys and runs the session as the user: the path down to the home must be traversable.
  await fsp.chmod(dir, 0o755);
  const home = path.join(dir, 'home');
  const configDir = path.join(dir, 'sshd_config.d');
  await fsp.mkdir(configDir, { mode: 0o755 });
  const { uid, gid, password } = await provisionUser(plan.user, home);
  const hostKeySha256 = await createHostKey(path.join(dir, 'ssh_host_ed25519_key'), plan.name);
  const sshdConfigPath = path.join(dir, 'sshd_config');
  await fsp.writeFile(sshdConfigPath, renderSshdConfig({ ...plan, dir, configDir }), { mode: 0o644 });
  const host = new HostImpl({ ...plan, dir, home, uid, gid, password, hostKeySha256, configDir, sshdConfigPath });
  liveHosts.add(host);
  plan.slot.hosts.add(host);
  try {
    await host.launch();
  } catch (err) {
    await host.destroy();
    throw err;
  }
  return host;
}

function renderSshdConfig(p: HostPlan & { dir: string; configDir: string }): string {
  return [
    `Include ${p.configDir}/*.conf`,
    `ListenAddress ${p.address}:${p.port}`,
    `HostKey ${p.dir}/ssh_host_ed25519_key`,
    `PidFile ${p.dir}/sshd.pid`,
    'UsePAM no',
    'StrictModes yes',
    'PasswordAuthentication yes',
    'PubkeyAuthentication yes',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    // internal-sftp: the SFTP server runs inside sshd's session process, so a session starts no login shell.
    // KEYFLEET_HARNESS_SFTP=/usr/lib/openssh/sftp-server gives Debian's default, which
    // sshd starts through the user's shell (and so its .bashrc, Debian's bash being built with SSH_SOURCE_BASHRC).
    ...(p.sftp === null ? [] : [`Subsystem sftp ${p.sftp}`]),
    'PermitRootLogin no',
    `AllowUsers ${p.user}`,
    'MaxStartups 200:30:400',
    'MaxSessions 20',
    'LoginGraceTime 30',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowAgentForwarding no',
    'AllowTcpForwarding no',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

class HostImpl implements TestHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly password: string;
  readonly hostKeySha256: string;
  readonly configDir: string;
  readonly sshdConfigPath: string;
  readonly logPath: string;
  private readonly dir: string;
  private readonly slot: Slot;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    p: HostPlan & {
      dir: string;
      home: string;
      uid: number;
      gid: number;
      password: string;
      hostKeySha256: string;
      configDir: string;
      sshdConfigPath: string;
    },
  ) {
    this.name = p.name;
    this.address = p.address;
    this.port = p.port;
    this.user = p.user;
    this.uid = p.uid;
    this.gid = p.gid;
    this.home = p.home;
    this.password = p.password;
    this.hostKeySha256 = p.hostKeySha256;
    this.configDir = p.configDir;
    this.sshdConfigPath = p.sshdConfigPath;
    this.logPath = path.join(p.dir, 'sshd.log');
    this.dir = p.dir;
    this.slot = p.slot;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  log(): string {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  async launch(): Promise<void> {
    const logFd = fs.openSync(this.logPath, 'a');
    try {
      // An absolute path: sshd re-execs itself per connection and on SIGHUP.
      this.child = spawn(SSHD, ['-D', '-e', '-f', this.sshdConfigPath], { stdio: ['ignore', 'ignore', logFd] });
    } finally {
      fs.closeSync(logFd);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.slot.recordPid(this.name, child.pid ?? -1);
    await this.waitUntil(() => listenerInode(this.address, this.port) !== null, 'to listen');
    await waitForBanner(this.address, this.port, () => this.assertRunning());
  }

  async stop(): Promise<void> {
    await this.terminateListener();
    await killUserProcesses(this.uid);
  }

  async restart(): Promise<void> {
    await this.terminateListener();
    await this.launch();
  }

  async destroy(): Promise<void> {
    await this.stop();
    liveHosts.delete(this);
    await removeUser(this.user);
    await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.rm(path.join(ROOT_KEYS_DIR, path.basename(this.dir)), { recursive: true, force: true });
    this.slot.hosts.delete(this);
    if (this.slot.hosts.size === 0) await this.slot.release();
  }

  async reload(): Promise<void> {
    const before = listenerInode(this.address, this.port);
    process.kill(this.pid, 'SIGHUP');
    // The listener socket is closed and a new one bound by the re-exec'd sshd: wait for the new one.
    await this.waitUntil(() => {
      const now = listenerInode(this.address, this.port);
      return now !== null && now !== before;
    }, 'to come back after SIGHUP');
  }

  /** Stops the listening sshd only (sessions in progress are separate processes). */
  private async terminateListener(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    this.child = null;
  }

  private assertRunning(): void {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sshd for ${this.name} (${this.address}:${this.port}) exited: ${this.log().trim().slice(-800)}`);
    }
  }

  private async waitUntil(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      this.assertRunning();
      if (done()) return;
      if (Date.now() > deadline)
        throw new Error(`sshd for ${this.name} did not come ${what} within ${READY_TIMEOUT_MS} ms`);
      await sleep(10);
    }
  }
}

// A crashed test process must not leave sshd listeners behind.
process.once('exit', () => {
  for (const host of liveHosts) {
    if (host.pid > 0) {
      try {
        process.kill(host.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
});

/** Waits for the SSH identification string: the port being open is not enough after a re-exec. */
async function waitForBanner(address: string, port: number, assertRunning: () => void): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    assertRunning();
    if (await readsBanner(address, port)) return;
    if (Date.now() > deadline)
      throw new Error(`sshd on ${address}:${port} sent no banner within ${READY_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

function readsBanner(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    const finish = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => finish(false));
    sock.once('data', (data) => {
      if (!data.toString('latin1').startsWith('SSH-2.0-')) return finish(false);
      // Answering with our own identification keeps sshd from logging a kex_exchange_identification error.
      sock.end('SSH-2.0-keyfleet-harness-probe\r\n', () => finish(true));
    });
    sock.once('error', () => finish(false));
    sock.once('close', () => finish(false));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Users, keys, runtime dirs

async function prepareRuntimeDirs(): Promise<void> {
  // The privilege separation directory sshd insists on; a fresh container does not have it.
  await fsp.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await fsp.mkdir(SLOTS_DIR, { recursive: true, mode: 0o700 });
}

async function provisionUser(user: string, home: string): Promise<{ uid: number; gid: number; password: string }> {
  if (await userExists(user)) {
    // Left behind by a crashed run: reuse it, but not its processes.
    await killUserProcesses(await idOf(user, '-u'));
    await retryLocked(() => run('usermod', ['-d', home, '-s', '/bin/bash', user]));
  } else await retryLocked(() => run('useradd', ['-M', '-d', home, '-s', '/bin/bash', '-U', user]));
  const [uid, gid] = await Promise.all([idOf(user, '-u'), idOf(user, '-g')]);
  await fsp.mkdir(home, { mode: 0o755 });
  await fsp.chown(home, uid, gid);
  await fsp.chmod(home, 0o755);
  const password = randomBytes(18).toString('base64url');
  await retryLocked(() => runWithInput('chpasswd', [], `${user}:${password}\n`));
  return { uid, gid, password };
}

async function removeUser(user: string): Promise<void> {
  if (!(await userExists(user))) return;
  await retryLocked(() => run('userdel', [user]));
}

async function userExists(user: string): Promise<boolean> {
  try {
    await run('id', ['-u', user]);
    return true;
  } catch {
    return false;
  }
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, user]);
  return Number(stdout.trim());
}

/** shadow-utils refuses (rather than waits) when another process holds the /etc/passwd lock. */
async function retryLocked<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      const text = String((err as { stderr?: string }).stderr ?? err);
      if (attempt >= 50 || !/lock|try again/i.test(text)) throw err;
      await sleep(50 + Math.random() * 100);
    }
  }
}

function runWithInput(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, _stdout, stderr) =>
      err ? reject(Object.assign(err, { stderr })) : resolve(),
    );
    child.stdin?.end(input);
  });
}

/** Session processes of a test user outlive the listener; the user is ours, so are they. */
async function killUserProcesses(uid: number): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = processesOfUid(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await sleep(25);
  }
}

function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) === uid) pids.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

async function createHostKey(keyPath: string, comment: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', keyPath]);
  return fingerprintOfPublicKeyLine(await fsp.readFile(`${keyPath}.pub`, 'utf8'));
}

/** 'SHA256:…' exactly as `ssh-keygen -l` prints it: unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOfPublicKeyLine(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Slots: unique addresses and user names per startHosts call, across processes

interface Slot {
  index: number;
  /** Hosts not yet torn down; the slot is released with the last one. */
  hosts: Set<HostImpl>;
  recordPid(hostName: string, pid: number): Promise<void>;
  release(): Promise<void>;
}

async function claimSlot(): Promise<Slot> {
  for (let index = 0; index < MAX_SLOTS; index++) {
    const dir = path.join(SLOTS_DIR, `slot-${index}`);
    if (await tryMkdir(dir)) return openSlot(index, dir);
    if ((await reclaimIfStale(dir)) && (await tryMkdir(dir))) return openSlot(index, dir);
  }
  throw new Error(`all ${MAX_SLOTS} sshd harness slots under ${SLOTS_DIR} are in use`);
}

async function openSlot(index: number, dir: string): Promise<Slot> {
  await fsp.writeFile(path.join(dir, 'owner'), String(process.pid));
  return {
    index,
    hosts: new Set(),
    recordPid: (hostName, pid) => fsp.writeFile(path.join(dir, `${hostName}.pid`), `${pid} ${SSHD}`),
    release: () => fsp.rm(dir, { recursive: true, force: true }),
  };
}

async function tryMkdir(dir: string): Promise<boolean> {
  try {
    await fsp.mkdir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A slot whose owner process is gone: stop the sshd it recorded (only if that pid is still our sshd), free it. */
async function reclaimIfStale(dir: string): Promise<boolean> {
  const owner = Number(await fsp.readFile(path.join(dir, 'owner'), 'utf8').catch(() => '0'));
  if (owner > 0 && isAlive(owner)) return false;
  if (owner === 0 && (await ageMs(dir)) < 5_000) return false; // being claimed right now
  const graveyard = `${dir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(dir, graveyard); // atomic: only one reclaimer wins
  } catch {
    return false;
  }
  for (const file of (await fsp.readdir(graveyard)).filter((f) => f.endsWith('.pid'))) {
    const pid = Number((await fsp.readFile(path.join(graveyard, file), 'utf8')).split(' ')[0]);
    if (pid > 0 && isOurSshd(pid)) process.kill(pid, 'SIGTERM');
  }
  await fsp.rm(graveyard, { recursive: true, force: true });
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isOurSshd(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return (
      cmdline[0] === SSHD &&
      cmdline.includes('-D') &&
      cmdline.some((arg) => arg.startsWith(os.tmpdir()) && arg.endsWith('/sshd_config'))
    );
  } catch {
    return false;
  }
}

async function ageMs(p: string): Promise<number> {
  const st = await fsp.stat(p).catch(() => null);
  return st ? Date.now() - st.mtimeMs : Infinity;
}

function placeHost(slot: number, i: number, opts: StartHostsOptions): { address: string; port: number } {
  const prefix = opts.addressPrefix ?? '127.31';
  const basePort = opts.basePort ?? 22000;
  if (i > 253) throw new Error('at most 254 hosts per startHosts call');
  const octets = prefix.split('.').length;
  if (octets === 2) return { address: `${prefix}.${slot + 1}.${i + 1}`, port: basePort + i };
  if (octets === 3) return { address: `${prefix}.${i + 1}`, port: basePort + slot * 256 + i };
  throw new Error(`addressPrefix must have two or three octets: '${prefix}'`);
}

// ---------------------------------------------------------------------------------------------------------------
// /proc/net/tcp

const TCP_ESTABLISHED = '01';
const TCP_LISTEN = '0A';

interface TcpRow {
  local: string;
  state: string;
  inode: string;
}

function readProcNetTcp(): TcpRow[] {
  const lines = fs.readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const cols = line.trim().split(/\s+/);
    return { local: cols[1] ?? '', state: cols[3] ?? '', inode: cols[9] ?? '' };
  });
}

/** The kernel's spelling: the IPv4 address as a little-endian hex word, then the port in hex. */
function procNetAddress(address: string, port: number): string {
  const hexIp = address
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  return `${hexIp}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

function listenerInode(address: string, port: number): string | null {
  const local = procNetAddress(address, port);
  return readProcNetTcp().find((row) => row.local === local && row.state === TCP_LISTEN)?.inode ?? null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
