/**
 * The outgoing bandwidth of one simulated instance, as a cloud caps each instance's network: what its sessions send
 * (command output, SFTP file data) is paced to BYTES_PER_SECOND with a burst of BURST_BYTES, over all its sessions
 * together. Every byte a session sends is encrypted on the event loop every tenant shares: eight `cat`s of 8 MiB
 * from one instance at full speed tripled another tenant's API p99 (bench/hostile-tenant.ts). keyfleet's own reads
 * (authorized_keys, sshd_config: at most 1 MiB) fit in the burst.
 */
const BYTES_PER_SECOND = 16 * 1024 * 1024;
const BURST_BYTES = 1024 * 1024;

interface Bucket {
  tokens: number;
  at: number;
  chain: Promise<void>;
}

const buckets = new Map<string, Bucket>();

/** Resolves when the instance at rootDir may send `bytes` more (in order of asking). */
export function paceInstanceOutput(rootDir: string, bytes: number): Promise<void> {
  let bucket = buckets.get(rootDir);
  if (!bucket) {
    bucket = { tokens: BURST_BYTES, at: performance.now(), chain: Promise.resolve() };
    buckets.set(rootDir, bucket);
  }
  const b = bucket;
  const next = b.chain.then(async () => {
    const now = performance.now();
    b.tokens = Math.min(BURST_BYTES, b.tokens + ((now - b.at) / 1000) * BYTES_PER_SECOND);
    b.at = now;
    b.tokens -= bytes;
    if (b.tokens < 0) await new Promise((r) => setTimeout(r, (-b.tokens / BYTES_PER_SECOND) * 1000));
    // Idle for 100 ms, a bucket is full again (the burst refills in 62 ms): forget it, a new one starts full.
    if (b.chain === next)
      setTimeout(() => {
        if (b.chain === next && buckets.get(rootDir) === b) buckets.delete(rootDir);
      }, 100).unref();
  });
  b.chain = next;
  return next;
}
