/**
 * `keyfleet backup` and `keyfleet restore`: what they read from the environment, the passphrase prompt, and what
 * they tell the user. They work on the data directory itself (backup.ts says why), so the CLI loads this module
 * through tsx as it loads the server (src/cli/commands/backup.ts).
 *
 * Exit codes as the other commands': 0 done, 1 refused (the message says why), 2 configuration or usage error.
 */
import { ConfigError, loadConfig } from './config.js';
import { BackupError, type BackupSummary, createBackup, type RestoreSummary, restoreBackup } from './backup.js';
import { masterKeyPath, readMasterKey } from './data-dir.js';

export const PASSPHRASE_ENV = 'KEYFLEET_BACKUP_PASSPHRASE';
const MIN_PASSPHRASE = 12;

export interface BackupCommandOptions {
  includeKey?: boolean;
  passphraseEnv?: string;
  dataDir?: string;
  json?: boolean;
}

/**
 * Reads lines from the terminal without echoing them: readline edits each line, its output goes nowhere. One
 * interface for every question, so a line typed ahead is not lost between two of them.
 */
async function promptLines(questions: string[]): Promise<string[]> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  const nowhere = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: nowhere, terminal: true });
  const lines = rl[Symbol.asyncIterator]();
  const answers: string[] = [];
  try {
    for (const q of questions) {
      process.stderr.write(q);
      const next = await lines.next();
      process.stderr.write('\n');
      if (next.done) break;
      answers.push(next.value);
    }
  } finally {
    rl.close();
  }
  return answers;
}

async function passphrase(envName: string, confirm: boolean): Promise<string | undefined> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) return undefined;
  const [first, again] = await promptLines(confirm ? ['Backup passphrase: ', 'Again: '] : ['Backup passphrase: ']);
  if (first === undefined) return undefined;
  if (confirm && again !== first) throw new BackupError('Restore.NeedPassphrase', 'The passphrases differ.');
  return first;
}

function config(dataDir: string | undefined) {
  const env = dataDir ? { ...process.env, KEYFLEET_DATA_DIR: dataDir } : process.env;
  return loadConfig(env);
}

async function run<T>(json: boolean | undefined, body: () => Promise<T>, print: (r: T) => string): Promise<void> {
  try {
    const result = await body();
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : print(result));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyfleet: configuration error: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (!(err instanceof BackupError)) throw err;
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message } }, null, 2)}\n`);
    else process.stderr.write(`keyfleet: ${err.message}\n`);
    process.exitCode = 1;
  }
}

function describeBackup(s: BackupSummary, keyFile: string): string {
  const lines = [
    `Backup written to ${s.file} (${s.bytes} bytes, mode 0600; schema ${s.schemaVersion ?? '-'}).`,
    `  ${s.counts.keyPairs} key pairs, ${s.counts.instances} instances, ${s.counts.unfinishedTasks} unfinished tasks (a restored keyfleet finishes them).`,
  ];
  if (s.keyIncluded)
    lines.push(
      `The key-encryption key (key ${s.keyId}) is inside, sealed with your passphrase (scrypt + AES-256-GCM).`,
      'Without the passphrase the backup cannot decrypt escrowed private keys and sealed secrets: keep it apart from the file.',
    );
  else if (!s.keyId)
    lines.push(
      `No key-encryption key was found here (KEYFLEET_MASTER_KEY is not set and there is no ${keyFile}), so this backup`,
      'cannot say which key it needs. Without that key the restored store cannot decrypt escrowed private keys and',
      'sealed secrets: keep the key keyfleet serves with safe, apart from the backup.',
    );
  else
    lines.push(
      `The key-encryption key (key ${s.keyId}) is NOT in this backup. Without it the restored store cannot decrypt`,
      `escrowed private keys and sealed secrets (access key secrets, management keys): keep KEYFLEET_MASTER_KEY or ${keyFile}`,
      'safe, apart from the backup, or take the backup with --include-key (sealed with a passphrase).',
    );
  return `${lines.join('\n')}\n`;
}

export async function backupCommand(file: string, o: BackupCommandOptions): Promise<void> {
  await run(
    o.json,
    async () => {
      const c = config(o.dataDir);
      if (c.databaseUrl)
        throw new BackupError(
          'Backup.Postgres',
          'keyfleet uses PostgreSQL here (KEYFLEET_DATABASE_URL): back it up with pg_dump, and keep the key-encryption key (KEYFLEET_MASTER_KEY) apart.',
        );
      const masterKey = readMasterKey(c.dataDir, c.masterKey);
      let pass: string | undefined;
      if (o.includeKey) {
        if (!masterKey)
          throw new BackupError(
            'Backup.NoStore',
            `There is no key-encryption key to include (no ${masterKeyPath(c.dataDir)}).`,
          );
        const envName = o.passphraseEnv ?? PASSPHRASE_ENV;
        pass = await passphrase(envName, true);
        if (pass === undefined)
          throw new BackupError(
            'Restore.NeedPassphrase',
            `--include-key needs a passphrase: set ${envName}, or run in a terminal to be asked.`,
          );
        if (pass.length < MIN_PASSPHRASE)
          throw new BackupError(
            'Restore.NeedPassphrase',
            `The passphrase must have at least ${MIN_PASSPHRASE} characters.`,
          );
      }
      return createBackup({ dataDir: c.dataDir, out: file, masterKey, passphrase: pass });
    },
    (s) => describeBackup(s, masterKeyPath(config(o.dataDir).dataDir)),
  );
}

function describeRestore(s: RestoreSummary): string {
  const lines = [
    `Restored backup ${s.backupId} (taken ${s.createdAt}, schema ${s.schemaVersion ?? '-'}) into ${s.dataDir}.`,
    "It passed SQLite's integrity check; `keyfleet serve` migrates it forward if needed and finishes its unfinished tasks.",
  ];
  if (s.key === 'restored-file')
    lines.push(`The key-encryption key (key ${s.keyId}) was restored to ${masterKeyPath(s.dataDir)} (0600).`);
  else if (s.key === 'configured') lines.push(`KEYFLEET_MASTER_KEY is the key this store needs (key ${s.keyId}).`);
  else if (s.keyId)
    lines.push(
      `The backup does not hold the key-encryption key. Before \`keyfleet serve\`, set KEYFLEET_MASTER_KEY or copy the key file`,
      `(key ${s.keyId}) to ${masterKeyPath(s.dataDir)} (mode 0600); keyfleet will not start with another key.`,
    );
  return `${lines.join('\n')}\n`;
}

export async function restoreCommand(file: string, o: BackupCommandOptions): Promise<void> {
  await run(
    o.json,
    async () => {
      const c = config(o.dataDir);
      if (c.databaseUrl)
        throw new BackupError(
          'Backup.Postgres',
          'keyfleet uses PostgreSQL here (KEYFLEET_DATABASE_URL): restore it with pg_restore, and give the same KEYFLEET_MASTER_KEY.',
        );
      const configuredKey = c.masterKey ? readMasterKey(c.dataDir, c.masterKey) : null;
      return restoreBackup({
        file,
        dataDir: c.dataDir,
        configuredKey,
        passphrase: () => passphrase(o.passphraseEnv ?? PASSPHRASE_ENV, false),
      });
    },
    describeRestore,
  );
}
