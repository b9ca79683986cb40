/**
 * Configuration: read from the environment once, here, and passed down as plain values. Nothing else in the
 * code base reads process.env.
 */
import path from 'node:path';
import { parseNetwork } from '../common/address.js';
import { DEFAULT_REGIONS, type Region } from '../core/region.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  regions: Region[];
  sim: { serve: boolean; sshPort: number; bootDelayMs: number };
  bootstrap: {
    accountName: string;
    adminName: string;
    accessKeyId?: string;
    accessKeySecret?: string;
    adminPassword?: string;
  };
  masterKey: string | undefined;
  tasks: {
    concurrency: number;
    chunk: number;
    leaseMs: number;
    itemsPerSecond: number;
    sweepMs: number;
    /** How often due binding expiries are looked for (issue 19). */
    expirySweepMs: number;
    expiryRetryMs: number;
    /** Delays between asks of a machine that did not answer after an interrupted live change (ADR 26). */
    reobserveMs: number[];
  };
  /** How often a process looks for rotation waves that are due or have finished. */
  rotationPollMs: number;
  liveTimeoutMs: number;
  /** KEYFLEET_HOST_NETWORKS: the networks (CIDRs, canonical) hosts may be registered in; undefined: any address. */
  hostNetworks: string[] | undefined;
  bodyLimitBytes: number;
  logLevel: string;
  sessionTtlMs: number;
  keyPairQuotaPerRegion: number;
  nativeMaxBatch: number;
  rateLimitPerSecond: number;
  /** KEYFLEET_REVOKE_*: how often due revocations are looked for; first retry delay of an unreachable machine. */
  revoke: { tickMs: number; retryMs: number };
  /** KEYFLEET_WEBHOOK_*: where webhook endpoints may point, and how deliveries are retried. */
  webhooks: WebhookConfig;
  /**
   * KEYFLEET_METRICS (0: off), KEYFLEET_METRICS_TOKEN (a bearer token /metrics then requires) and
   * KEYFLEET_METRICS_TASK_COUNTS_MAX_AGE_MS (how old the task gauges' store counts may be when served).
   */
  metrics: { enabled: boolean; token: string | undefined; taskCountsMaxAgeMs: number };
  /** KEYFLEET_DRAIN_DELAY_MS: on SIGTERM, how long /readyz says 503 before the listener closes (the balancer's checks). */
  drainDelayMs: number;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got '${raw}'.`);
  return n;
}

function regionsFrom(raw: string | undefined): Region[] {
  if (!raw) return DEFAULT_REGIONS;
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || ids.some((id) => !/^[a-z0-9-]{2,64}$/.test(id))) {
    throw new ConfigError(
      `KEYFLEET_REGIONS must be a comma-separated list of region IDs (a-z, 0-9, '-'); got '${raw}'.`,
    );
  }
  return ids.map((id) => DEFAULT_REGIONS.find((r) => r.id === id) ?? { id, localName: id });
}

/**
 * KEYFLEET_HOST_NETWORKS: comma-separated networks ('10.0.0.0/8, fd00::/8'; a bare address is that one address).
 * Unset or empty: hosts may be registered at any address keyfleet reaches. Each is checked here, so a typo stops
 * the start instead of silently allowing or refusing everything.
 */
/** KEYFLEET_REOBSERVE_MS: comma-separated delays in ms (1 to 8 of them, 100 ms to 1 day); the last repeats. */
function reobserveDelays(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [5_000, 30_000, 300_000];
  const parts = raw.split(',').map((p) => p.trim());
  const delays = parts.map(Number);
  if (parts.length > 8 || delays.some((d, i) => !/^\d+$/.test(parts[i]!) || d < 100 || d > 86_400_000))
    throw new ConfigError(
      `KEYFLEET_REOBSERVE_MS must be 1 to 8 comma-separated delays in ms, each from 100 to 86400000; got '${raw}'.`,
    );
  return delays;
}

function hostNetworksFrom(raw: string | undefined): string[] | undefined {
  const entries = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  return entries.map((entry) => {
    const network = parseNetwork(entry);
    if (!network)
      throw new ConfigError(
        `KEYFLEET_HOST_NETWORKS must be comma-separated networks such as 10.0.0.0/8 or fd00::/8; '${entry}' is not one.`,
      );
    return network.text;
  });
}

/** KEYFLEET_METRICS: '1' (default) or '0'; KEYFLEET_METRICS_TOKEN: 16 to 512 visible characters, or unset. */
function metricsFrom(env: NodeJS.ProcessEnv): Config['metrics'] {
  const flag = env.KEYFLEET_METRICS ?? '1';
  if (flag !== '0' && flag !== '1') throw new ConfigError(`KEYFLEET_METRICS must be 0 or 1; got '${flag}'.`);
  const token = env.KEYFLEET_METRICS_TOKEN || undefined;
  // The value itself is never echoed: it is a secret.
  if (token !== undefined && !/^[\x21-\x7e]{16,512}$/.test(token))
    throw new ConfigError('KEYFLEET_METRICS_TOKEN must be 16 to 512 visible ASCII characters (no spaces).');
  // The task gauges count the store at scrape time; this bounds how often, however many scrapers ask.
  const taskCountsMaxAgeMs = int(env, 'KEYFLEET_METRICS_TASK_COUNTS_MAX_AGE_MS', 1000, 0, 300_000);
  return { enabled: flag === '1', token, taskCountsMaxAgeMs };
}

export interface WebhookConfig {
  /** KEYFLEET_WEBHOOK_NETWORKS (CIDRs, canonical); undefined: any address. */
  networks: string[] | undefined;
  pollMs: number;
  timeoutMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  maxAttempts: number;
  concurrency: number;
}

/** KEYFLEET_WEBHOOK_NETWORKS as KEYFLEET_HOST_NETWORKS; the delivery settings as whole numbers in range. */
function webhooksFrom(env: NodeJS.ProcessEnv): WebhookConfig {
  const entries = (env.KEYFLEET_WEBHOOK_NETWORKS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const networks = entries.map((entry) => {
    const network = parseNetwork(entry);
    if (!network)
      throw new ConfigError(
        `KEYFLEET_WEBHOOK_NETWORKS must be comma-separated networks such as 10.0.0.0/8 or fd00::/8; '${entry}' is not one.`,
      );
    return network.text;
  });
  return {
    networks: networks.length > 0 ? networks : undefined,
    pollMs: int(env, 'KEYFLEET_WEBHOOK_POLL_MS', 1000, 10, 600_000),
    timeoutMs: int(env, 'KEYFLEET_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    backoffMs: int(env, 'KEYFLEET_WEBHOOK_BACKOFF_MS', 1000, 10, 3_600_000),
    backoffMaxMs: int(env, 'KEYFLEET_WEBHOOK_BACKOFF_MAX_MS', 3_600_000, 10, 24 * 3_600_000),
    maxAttempts: int(env, 'KEYFLEET_WEBHOOK_MAX_ATTEMPTS', 20, 1, 1000),
    concurrency: int(env, 'KEYFLEET_WEBHOOK_CONCURRENCY', 8, 1, 256),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const host = env.KEYFLEET_HOST ?? '127.0.0.1';
  if (!/^127\.\d+\.\d+\.\d+$|^localhost$|^::1$/.test(host) && env.KEYFLEET_ALLOW_REMOTE !== '1') {
    throw new ConfigError(
      `KEYFLEET_HOST '${host}' is not a loopback address; set KEYFLEET_ALLOW_REMOTE=1 (behind TLS) to serve other networks.`,
    );
  }
  const databaseUrl = env.KEYFLEET_DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('KEYFLEET_DATABASE_URL must be a postgres:// URL (leave it unset for the embedded store).');
  return {
    host,
    port: int(env, 'KEYFLEET_PORT', 8080, 0, 65535),
    dataDir: path.resolve(cwd, env.KEYFLEET_DATA_DIR ?? './.keyfleet'),
    databaseUrl,
    regions: regionsFrom(env.KEYFLEET_REGIONS),
    sim: {
      serve: env.KEYFLEET_SIM_SERVE !== '0',
      sshPort: int(env, 'KEYFLEET_SIM_SSH_PORT', 2222, 1, 65535),
      bootDelayMs: int(env, 'KEYFLEET_SIM_BOOT_MS', 300, 0, 600_000),
    },
    bootstrap: {
      accountName: 'keyfleet',
      adminName: 'admin',
      accessKeyId: env.KEYFLEET_ACCESS_KEY_ID || undefined,
      accessKeySecret: env.KEYFLEET_ACCESS_KEY_SECRET || undefined,
      adminPassword: env.KEYFLEET_ADMIN_PASSWORD || undefined,
    },
    masterKey: env.KEYFLEET_MASTER_KEY || undefined,
    tasks: {
      // 64 sessions in flight keep two cores busy while each host answers (bench/hosts-vs-ansible.ts: 32 left ~10% idle).
      concurrency: int(env, 'KEYFLEET_TASK_CONCURRENCY', 64, 1, 1024),
      chunk: int(env, 'KEYFLEET_TASK_CHUNK', 64, 1, 10_000),
      leaseMs: int(env, 'KEYFLEET_TASK_LEASE_MS', 120_000, 1000, 3_600_000),
      itemsPerSecond: int(env, 'KEYFLEET_TASK_ITEMS_PER_SECOND', 0, 0, 1_000_000),
      // How soon the items of a process that died (its leases expired) are taken over by another.
      sweepMs: int(env, 'KEYFLEET_TASK_SWEEP_MS', 15_000, 100, 3_600_000),
      expirySweepMs: int(env, 'KEYFLEET_EXPIRY_SWEEP_MS', 5_000, 100, 3_600_000),
      expiryRetryMs: int(env, 'KEYFLEET_EXPIRY_RETRY_MS', 300_000, 1_000, 86_400_000),
      reobserveMs: reobserveDelays(env.KEYFLEET_REOBSERVE_MS),
    },
    rotationPollMs: int(env, 'KEYFLEET_ROTATION_POLL_MS', 1_000, 50, 600_000),
    liveTimeoutMs: int(env, 'KEYFLEET_LIVE_TIMEOUT_MS', 10_000, 100, 600_000),
    hostNetworks: hostNetworksFrom(env.KEYFLEET_HOST_NETWORKS),
    bodyLimitBytes: int(env, 'KEYFLEET_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: env.KEYFLEET_LOG_LEVEL ?? 'info',
    sessionTtlMs: int(env, 'KEYFLEET_SESSION_TTL_S', 24 * 3600, 60, 30 * 24 * 3600) * 1000,
    keyPairQuotaPerRegion: int(env, 'KEYFLEET_KEY_PAIR_QUOTA', 500, 1, 10_000_000),
    nativeMaxBatch: int(env, 'KEYFLEET_NATIVE_MAX_BATCH', 10_000, 1, 100_000),
    rateLimitPerSecond: int(env, 'KEYFLEET_RATE_LIMIT', 0, 0, 1_000_000),
    revoke: {
      tickMs: int(env, 'KEYFLEET_REVOKE_TICK_MS', 2_000, 100, 3_600_000),
      retryMs: int(env, 'KEYFLEET_REVOKE_RETRY_MS', 10_000, 100, 3_600_000),
    },
    webhooks: webhooksFrom(env),
    metrics: metricsFrom(env),
    drainDelayMs: int(env, 'KEYFLEET_DRAIN_DELAY_MS', 0, 0, 600_000),
  };
}
