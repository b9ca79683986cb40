/**
 * `keyfleet backup <file>` and `keyfleet restore <file>`. Unlike the other client commands they work on the data
 * directory itself (src/app/backup.ts says why), so, like `serve`, they load their module from the TypeScript
 * sources through tsx, named by URL so the compiled CLI does not bundle the app.
 */
import type { Command } from 'commander';
import type { GlobalOptions } from '../options.js';

// This file is src/cli/commands/backup.ts in the sources and a chunk directly in dist/cli/ once compiled.
const MODULE = new URL(
  import.meta.url.endsWith('.ts') ? '../../app/backup-command.ts' : '../../src/app/backup-command.ts',
  import.meta.url,
);

/** What src/app/backup-command.ts exports; declared here so this client-side file imports nothing of the app. */
interface BackupModule {
  backupCommand(file: string, o: Opts & { json: boolean }): Promise<void>;
  restoreCommand(file: string, o: Opts & { json: boolean }): Promise<void>;
}

async function load(): Promise<BackupModule> {
  if (!import.meta.url.endsWith('.ts')) (await import('tsx/esm/api')).register();
  return import(MODULE.href);
}

interface Opts {
  includeKey?: boolean;
  passphraseEnv?: string;
  dataDir?: string;
}

const DATA_DIR_HELP = 'the data directory (default: KEYFLEET_DATA_DIR, else ./.keyfleet)';

export function fillBackupCommand(cmd: Command): void {
  cmd
    .option('--include-key', 'include the key-encryption key, sealed with a passphrase (scrypt + AES-256-GCM)')
    .option('--passphrase-env <var>', 'environment variable holding the passphrase', 'KEYFLEET_BACKUP_PASSPHRASE')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (file: string, o: Opts, c: Command) => {
      const { json } = c.optsWithGlobals() as GlobalOptions;
      await (await load()).backupCommand(file, { ...o, json });
    });
}

export function fillRestoreCommand(cmd: Command): void {
  cmd
    .option(
      '--passphrase-env <var>',
      "environment variable holding the backup's passphrase",
      'KEYFLEET_BACKUP_PASSPHRASE',
    )
    .option('--data-dir <dir>', `${DATA_DIR_HELP}; must be empty or absent`)
    .action(async (file: string, o: Opts, c: Command) => {
      const { json } = c.optsWithGlobals() as GlobalOptions;
      await (await load()).restoreCommand(file, { ...o, json });
    });
}
