/**
 * The simulated fleet: the embedded default compute backend. Each instance is a small root filesystem under the
 * data directory; each Running Linux instance serves real SSH on its own loopback address, authenticating against
 * those files on every attempt. At boot an instance applies its pending key state as cloud-init would: keyfleet's
 * block in /root/.ssh/authorized_keys, the sshd drop-in for password login, a new root password hash.
 *
 * This module also documents what a real backend must honour: boot applies the BootConfig completely before the
 * machine answers SSH; shutdown drops live connections; a resumed machine is not rebooted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSemaphore } from '../../common/concurrency.js';
import { planAuthorizedKeys } from '../../core/binding/authorized-keys.js';
import type { DriftSource } from '../../core/binding/drift-source.js';
import { renderSshdDropIn, SSHD_DROP_IN_PATH } from '../../core/binding/sshd-drop-in.js';
import { fingerprints } from '../../core/keypair/public-key.js';
import type { Image, Instance, InstanceType } from '../../core/instance/instance.js';
import type { BootConfig, BootFilesPreview, ComputeBackend } from '../../core/ports.js';
import { hostPath, initRootfs, readHostKey } from './rootfs.js';
import { hashPassword, setShadowHash } from './shadow.js';
import type { SimSshFleet } from './ssh-server.js';
import { AUTHORIZED_KEYS_MAX_BYTES, GuestFileTooLarge, readCapped, readHead } from './guest-file-limits.js';

export interface SimComputeOptions {
  dataDir: string;
  sshPort: number;
  /** Time a simulated boot or shutdown takes, so transitional states are visible as on a real cloud. */
  bootDelayMs: number;
  fleet: SimSshFleet;
}

/**
 * How many instances may have disk work (provision, boot, destroy) in flight at once. Each provision or boot is a
 * chain of small file operations and a host key generation, all on libuv's thread pool of four, which also serves
 * the console's static files and every other file read. Unbounded, creating 10,000 instances (RunInstances with
 * Amount=1000, ten times) queued them all at once and a console page load waited 15 s behind them. Measured on 2
 * cores with the same 10,000: 32 at a time provisions them in 17.8 s (unbounded 17.3 s, 16 at a time 18.7 s, 8 at
 * a time 19.9 s) while the console's page and script load in at most 85 ms (test/console/scale.test.ts holds it
 * under a bound).
 */
export const DISK_CONCURRENCY = 32;

export const SIM_IMAGES: Image[] = [
  {
    id: 'ubuntu_22_04_x64_20G_alibase_20240926.vhd',
    name: 'Ubuntu 22.04 64 bit',
    osType: 'linux',
    osName: 'Ubuntu  22.04 64 bit',
    description: 'Simulated Ubuntu 22.04',
  },
  {
    id: 'debian_12_6_x64_20G_alibase_20240823.vhd',
    name: 'Debian 12.6 64 bit',
    osType: 'linux',
    osName: 'Debian  12.6 64 bit',
    description: 'Simulated Debian 12',
  },
  {
    id: 'aliyun_3_x64_20G_alibase_20240819.vhd',
    name: 'Alibaba Cloud Linux 3',
    osType: 'linux',
    osName: 'Alibaba Cloud Linux  3.2104 LTS 64 bit',
    description: 'Simulated Alibaba Cloud Linux 3',
  },
  {
    id: 'centos_7_9_x64_20G_alibase_20240628.vhd',
    name: 'CentOS 7.9 64 bit',
    osType: 'linux',
    osName: 'CentOS  7.9 64 bit',
    description: 'Simulated CentOS 7.9',
  },
  {
    id: 'win2022_21H2_x64_dtc_en-us_40G_alibase_20240816.vhd',
    name: 'Windows Server 2022 Datacenter',
    osType: 'windows',
    osName: 'Windows Server  2022 Datacenter 64-bit (English)',
    description: 'Simulated Windows Server 2022 (no SSH; cannot take a key pair)',
  },
];

export const SIM_INSTANCE_TYPES: InstanceType[] = [
  { id: 'ecs.t6-c1m1.large', cpu: 2, memoryGiB: 2, ioOptimized: true },
  { id: 'ecs.c7.large', cpu: 2, memoryGiB: 4, ioOptimized: true },
  { id: 'ecs.g7.large', cpu: 2, memoryGiB: 8, ioOptimized: true },
  // A Generation I type without I/O optimisation: it exists so the key pair refusal can be seen and tested.
  { id: 'ecs.t1.small', cpu: 1, memoryGiB: 1, ioOptimized: false },
];

/** The simulated instances are logged in to as root (Instance.loginUser); cloud-init writes root's keys. */
const AUTHORIZED_KEYS_GUEST_PATH = '/root/.ssh/authorized_keys';

const HOSTS_PER_SECOND_OCTET = 254 * 256;

/** The n-th instance (1-based) gets 127.x.y.z with x from 16 up, z never 0 or 255. */
export function simAddress(sequence: number): string {
  const n = sequence - 1;
  const z = (n % 254) + 1;
  const y = Math.floor(n / 254) % 256;
  const x = 16 + Math.floor(n / HOSTS_PER_SECOND_OCTET);
  if (x > 254) throw new Error('The simulated fleet has run out of loopback addresses.');
  return `127.${x}.${y}.${z}`;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export function createSimCompute(opts: SimComputeOptions): ComputeBackend {
  const root = (inst: Pick<Instance, 'id'>) => instanceRoot(opts.dataDir, inst);
  const isLinux = (inst: Instance) => inst.osType === 'linux';
  const diskSlots = createSemaphore(DISK_CONCURRENCY);
  const disk = <T>(work: () => Promise<T>): Promise<T> => diskSlots.run(work);
  const endpointOf = (inst: Instance) => ({
    instanceId: inst.id,
    rootDir: root(inst),
    address: inst.address,
    port: inst.sshPort,
  });

  /**
   * The boot step's plan (cloud-init style): what it writes to authorized_keys and the sshd drop-in for `config`,
   * from the files as they are now. boot() writes it; previewBoot() (an on-restart dry run) shows it, so both are
   * this one computation.
   */
  async function planCloudInit(rootDir: string, config: BootConfig) {
    const akFile = hostPath(rootDir, AUTHORIZED_KEYS_GUEST_PATH);
    // The guest's file is read up to the size sshd itself reads (guest-file-limits.ts): a larger one is left as it
    // is (a guest cannot make the boot parse megabytes on the shared event loop); the boot's proof then reports
    // the key as not verified.
    const current = await readCapped(akFile, AUTHORIZED_KEYS_MAX_BYTES).catch((err: unknown) =>
      err instanceof GuestFileTooLarge ? undefined : null,
    );
    const plan =
      current === undefined
        ? undefined
        : planAuthorizedKeys(
            current,
            config.publicKey
              ? [
                  {
                    keyPairName: config.keyPairName ?? 'key',
                    publicKey: config.publicKey,
                    expiresAt: config.keyExpiresAt,
                  },
                ]
              : [],
          );
    return {
      akFile,
      akBefore: current,
      akPlan: plan,
      dropInFile: hostPath(rootDir, SSHD_DROP_IN_PATH),
      dropIn: renderSshdDropIn({ passwordAuthentication: config.passwordLogin }),
    };
  }

  async function applyCloudInit(rootDir: string, config: BootConfig): Promise<void> {
    const p = await planCloudInit(rootDir, config);
    if (p.akPlan?.changed) await writeAtomic(p.akFile, p.akPlan.content, 0o600);
    await writeAtomic(p.dropInFile, p.dropIn, 0o644);
    if (config.newPasswordHash) await setShadowHash(rootDir, 'root', config.newPasswordHash);
  }

  /** Reads the plan's files only: nothing is created, not even a directory (a disk that is not there is null). */
  async function previewCloudInit(inst: Instance, config: BootConfig): Promise<BootFilesPreview | null> {
    const dir = root(inst);
    if (!(await fs.stat(dir).catch(() => null))?.isDirectory()) return null;
    const p = await planCloudInit(dir, config);
    if (p.akBefore === undefined || !p.akPlan)
      throw new GuestFileTooLarge(
        p.akFile,
        AUTHORIZED_KEYS_MAX_BYTES,
        AUTHORIZED_KEYS_GUEST_PATH,
        'its next boot leaves it as it is',
      );
    const dropBefore = await readGuestText(p.dropInFile, SSHD_DROP_IN_PATH);
    return {
      authorizedKeys: {
        path: AUTHORIZED_KEYS_GUEST_PATH,
        before: p.akBefore,
        after: p.akPlan.content,
        changed: p.akPlan.changed,
      },
      dropIn: { path: SSHD_DROP_IN_PATH, before: dropBefore, after: p.dropIn },
    };
  }

  return {
    kind: 'sim',
    images: () => SIM_IMAGES,
    instanceTypes: () => SIM_INSTANCE_TYPES,
    addressFor: (sequence) => ({ address: simAddress(sequence), sshPort: opts.sshPort }),

    provision: (inst, rootPasswordHash) =>
      disk(async () => {
        const dir = root(inst);
        await initRootfs(dir, { hostname: inst.hostName, rootPasswordHash });
        const pub = await readHostKey(dir);
        return { hostKeySha256: sha256Fingerprint(pub) };
      }),

    async boot(inst, config) {
      const dir = root(inst);
      await opts.fleet.stop(inst.id, endpointOf(inst));
      await sleep(opts.bootDelayMs);
      if (!isLinux(inst)) return;
      await disk(async () => {
        await initRootfs(dir, { hostname: inst.hostName, rootPasswordHash: null });
        await applyCloudInit(dir, config);
      });
      await opts.fleet.serve(endpointOf(inst));
    },

    previewBoot: (inst, config) => (isLinux(inst) ? disk(() => previewCloudInit(inst, config)) : Promise.resolve(null)),

    async shutdown(inst) {
      await opts.fleet.stop(inst.id, endpointOf(inst));
      await sleep(opts.bootDelayMs / 2);
    },

    async resume(inst) {
      if (!isLinux(inst)) return;
      await opts.fleet.adopt(endpointOf(inst));
    },

    async destroy(inst) {
      await opts.fleet.stop(inst.id, endpointOf(inst));
      await disk(() => fs.rm(root(inst), { recursive: true, force: true }));
    },

    hashPassword: (password) => hashPassword(password),

    async close() {
      await opts.fleet.stopAll();
    },
  };
}

/** Where a simulated instance's disk lives in the data directory (shared by every process of a cluster). */
export function instanceRoot(dataDir: string, inst: Pick<Instance, 'id'>): string {
  return path.join(dataDir, 'sim', 'instances', inst.id);
}

/**
 * Drift scans read a simulated instance's files from its disk, as a cloud's guest agent would (drift-source.ts):
 * the same files its sshd reads at every login, through hostPath, so a symlink planted on the machine cannot make
 * keyfleet read a file of its own host. Works while the machine is stopped too (the disk is there).
 */
export function createSimDriftSource(dataDir: string): DriftSource {
  return {
    backend: 'sim',
    async filesOf(inst) {
      const dir = instanceRoot(dataDir, inst);
      if (!(await fs.stat(dir).catch(() => null))?.isDirectory()) return null;
      return {
        async read(guestPath) {
          try {
            // Bounded as sshd's own reads are: a drift scan of a guest's huge file reads its head only.
            const { bytes } = await readHead(hostPath(dir, guestPath), AUTHORIZED_KEYS_MAX_BYTES);
            return bytes.toString('utf8');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
            throw err;
          }
        },
        // A revocation removes hand-added copies of a key (issue 19): written beside the file and renamed over it,
        // so sshd reads the old file or the new one, never a part; the file keeps its mode.
        async replace(guestPath, content) {
          const file = hostPath(dir, guestPath);
          const { mode, size } = await fs.stat(file);
          // read() gave only the head of a larger file: rewriting from it would drop the rest.
          if (size > AUTHORIZED_KEYS_MAX_BYTES)
            throw new GuestFileTooLarge(file, AUTHORIZED_KEYS_MAX_BYTES, guestPath, 'so keyfleet does not rewrite it');
          await writeAtomic(file, content, mode & 0o7777);
          await fs.chmod(file, mode & 0o7777);
        },
      };
    },
  };
}

/** A guest file's text for a preview, bounded as sshd's reads are; null when it does not exist. */
async function readGuestText(hostFile: string, guestPath: string): Promise<string | null> {
  try {
    return await readCapped(hostFile, AUTHORIZED_KEYS_MAX_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof GuestFileTooLarge)
      throw new GuestFileTooLarge(hostFile, AUTHORIZED_KEYS_MAX_BYTES, guestPath, 'so keyfleet does not show it');
    throw err;
  }
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.keyfleet-${process.pid}-${Date.now()}`;
  await fs.writeFile(tmp, content, { mode });
  await fs.rename(tmp, file);
}

/** 'SHA256:…' of an OpenSSH public key line, as ssh-keygen -l prints it. */
export function sha256Fingerprint(publicKeyLine: string): string {
  return fingerprints(Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64')).sha256;
}
