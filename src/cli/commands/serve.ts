import { ConfigError, loadConfig } from '../../app/config.js';
import { DataDirLockedError } from '../../app/data-dir.js';
import { startKeyfleet } from '../../app/keyfleet.js';

/** Starts keyfleet in the foreground; the generated administrator credentials are printed once, at creation. */
export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyfleet: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let kf;
  try {
    kf = await startKeyfleet(config);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`keyfleet: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const lines = [
    `keyfleet listening on ${kf.url} (data in ${config.dataDir}, ${config.databaseUrl ? 'PostgreSQL store' : 'embedded store'})`,
  ];
  if (kf.bootstrap.created) {
    lines.push(`Created account 'keyfleet' with administrator 'admin'. Shown once; keep them safe:`);
    lines.push(`  KEYFLEET_ACCESS_KEY_ID=${kf.bootstrap.accessKeyId}`);
    if (kf.bootstrap.generatedAccessKeySecret)
      lines.push(`  KEYFLEET_ACCESS_KEY_SECRET=${kf.bootstrap.generatedAccessKeySecret}`);
    if (kf.bootstrap.generatedAdminPassword)
      lines.push(`  admin console password: ${kf.bootstrap.generatedAdminPassword}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  // SIGTERM and SIGINT drain (Keyfleet.close): /readyz turns 503 so the balancer stops sending requests, no task
  // item is claimed any more, items in flight finish and those claimed but not started are handed back at once,
  // open requests are answered, then the process exits 0. A rolling restart loses nothing.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`keyfleet: ${signal}, draining, then shutting down\n`);
    kf.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
