/** Runs the real `keyfleet` CLI (bin/keyfleet.js, the compiled build when current) as a child process. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from '../../support/keyfleet.js';

export const BIN = path.resolve(import.meta.dirname, '../../../bin/keyfleet.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The CLI's environment for a keyfleet at `url`, signed with the test account's access key. */
export function cliEnvFor(url: string): Record<string, string> {
  return {
    KEYFLEET_ENDPOINT: url,
    KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
    KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
  };
}
