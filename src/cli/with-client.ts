/** Runs a command body signed in, and signs out afterwards whatever happens. */
import type { Command } from 'commander';
import type { KeyfleetClient } from './client.js';
import type { GlobalOptions } from './options.js';

export type Ctx = (cmd: Command) => { global: GlobalOptions; client: KeyfleetClient };

/**
 * `check`, given the same arguments as the body, runs before signing in: a usage error it throws (UsageError)
 * exits 2 without contacting the server.
 */
export function withClient<A extends unknown[]>(
  ctx: Ctx,
  body: (c: KeyfleetClient, g: GlobalOptions, ...args: A) => Promise<void>,
  check?: (...args: A) => void,
) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    check?.(...(args.slice(0, -1) as A));
    const { client, global } = ctx(cmd);
    await client.signIn();
    try {
      await body(client, global, ...(args.slice(0, -1) as A));
    } finally {
      await client.signOut();
    }
  };
}
