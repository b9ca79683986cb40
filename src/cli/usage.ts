/**
 * Usage errors: a command line the CLI itself can tell is wrong (a required option missing, a bad value, nothing to
 * act on) exits 2 before anything is sent, as commander's own parse errors do, so a script can tell "I called it
 * wrong" (2) from "the server said no" (1).
 */
import { type Command, InvalidArgumentError } from 'commander';

export class UsageError extends Error {}

/** Option placeholders that take a whole number: `--limit <n>`, `--port <port>`. */
const NUMERIC_PLACEHOLDER = /<(n|port)>/;

function wholeNumber(value: string): string {
  if (!/^\d{1,15}$/.test(value.trim())) throw new InvalidArgumentError('Not a whole number.');
  return value.trim();
}

/**
 * Gives every numeric option of a command tree the whole-number check, once, where the command is loaded: a bad
 * `--limit ten` is a usage error (exit 2) rather than a request the server refuses (exit 1). The value stays a
 * string, as the commands expect.
 */
export function checkNumericOptions(cmd: Command): void {
  for (const option of cmd.options) {
    if (NUMERIC_PLACEHOLDER.test(option.flags) && !option.parseArg) option.argParser(wholeNumber);
  }
  for (const sub of cmd.commands) checkNumericOptions(sub);
}
