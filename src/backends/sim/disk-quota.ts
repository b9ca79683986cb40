/**
 * The disk quota of a simulated instance: what SFTP may make its root filesystem grow to. Every instance's rootfs
 * lies on the volume that also holds keyfleet's data, so without it one SFTP write of a byte at offset 2^40 made a
 * 1 TiB (sparse) file there.
 *
 * Usage is counted by apparent size (st_size), so a sparse file costs what it claims: the quota bounds what a
 * later `cp` or backup of the volume would have to hold, not just the blocks in use. It is measured by walking the
 * rootfs once, then kept by adding what each accepted write or resize grows; what is deleted is not subtracted
 * (SFTP, commands and keyfleet itself all change files), so the figure only overestimates, and when a growth would
 * not fit it is measured again — at most once per remeasureMs (2 s) per instance, so a guest at its limit cannot make
 * every write walk its files. A rootfs with more than maxEntries files and directories counts as full.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface DiskQuotaLimits {
  /** Bytes of apparent file size one instance's rootfs may hold. */
  bytes: number;
  /** Files and directories one rootfs may hold (each costs an inode and a walk step). */
  entries: number;
  /** The least time between two walks of one rootfs when a growth does not fit. */
  remeasureMs: number;
}

export const DEFAULT_DISK_QUOTA: DiskQuotaLimits = { bytes: 64 * 1024 * 1024, entries: 20_000, remeasureMs: 2_000 };

export interface DiskQuota {
  /** Reserves `growth` bytes on the instance at rootDir: false when they do not fit (nothing is reserved). */
  allowGrowth(rootDir: string, growth: number): Promise<boolean>;
  /** Drops what is remembered of an instance (it stopped: its files may change without SFTP). */
  forget(rootDir: string): void;
}

interface Usage {
  bytes: number;
  measuredAt: number;
}

export function createDiskQuota(limits: DiskQuotaLimits = DEFAULT_DISK_QUOTA): DiskQuota {
  const usage = new Map<string, Usage>();
  const measuring = new Map<string, Promise<Usage>>();

  const measure = (rootDir: string): Promise<Usage> => {
    const running = measuring.get(rootDir);
    if (running) return running;
    const next = measureRootfs(rootDir, limits.entries).then((bytes) => {
      const fresh = { bytes, measuredAt: Date.now() };
      usage.set(rootDir, fresh);
      return fresh;
    });
    measuring.set(rootDir, next);
    const done = () => measuring.delete(rootDir);
    next.then(done, done);
    return next;
  };

  return {
    async allowGrowth(rootDir, growth) {
      if (growth <= 0) return true;
      let current = usage.get(rootDir) ?? (await measure(rootDir));
      if (current.bytes + growth > limits.bytes && Date.now() - current.measuredAt >= limits.remeasureMs)
        current = await measure(rootDir);
      if (current.bytes + growth > limits.bytes) return false;
      // Charged to the latest figure, in case a re-measure replaced it meanwhile.
      (usage.get(rootDir) ?? current).bytes += growth;
      return true;
    },
    forget(rootDir) {
      usage.delete(rootDir);
    },
  };
}

/**
 * The apparent size of every file under rootDir plus ENTRY_BYTES per entry (symlinks not followed); Infinity past
 * maxEntries entries.
 */
async function measureRootfs(rootDir: string, maxEntries: number): Promise<number> {
  let bytes = 0;
  let entries = 0;
  const pending = [rootDir];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let handle: import('node:fs').Dir;
    try {
      handle = await fsp.opendir(dir, { bufferSize: 64 });
    } catch {
      continue;
    }
    try {
      for (let entry = await handle.read(); entry !== null; entry = await handle.read()) {
        if (++entries > maxEntries) return Number.POSITIVE_INFINITY;
        bytes += ENTRY_BYTES;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) pending.push(full);
        else if (entry.isFile()) bytes += (await fsp.lstat(full).catch(() => null))?.size ?? 0;
      }
    } finally {
      await handle.close().catch(() => {});
    }
  }
  return bytes;
}

/** What a new file or directory is charged (a block): creating empty files is not free either. */
export const ENTRY_BYTES = 4096;

/**
 * One open file's reservations, made one after another so pipelined writes are charged once each for what they
 * add past the furthest end reserved so far (not each from the size the file had when it was opened). The end
 * never moves back: a truncate is not subtracted, like a deletion.
 */
export class FileReservations {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly quota: DiskQuota,
    private readonly rootDir: string,
    private reservedEnd: number,
  ) {}

  /** Reserves what making the file `end` bytes long would add; false (nothing reserved) when it does not fit. */
  reserveUpTo(end: number): Promise<boolean> {
    const next = this.chain.then(async () => {
      const growth = end - this.reservedEnd;
      if (!(await this.quota.allowGrowth(this.rootDir, growth))) return false;
      this.reservedEnd = Math.max(this.reservedEnd, end);
      return true;
    });
    this.chain = next.catch(() => {});
    return next;
  }
}

/** The error an SFTP request refused by the quota fails with (sftp-server answers ENOSPC with a failure). */
export function noSpace(): NodeJS.ErrnoException {
  return Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
}
