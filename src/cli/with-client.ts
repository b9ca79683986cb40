/** Runs a command body signed in, and signs out afterwards whatever happens. */
import type { Command } from 'commander';
import type { KeyfleetClient } from './client.js';
import type { GlobalOptions } from './options.js';

export type Ctx = (cmd: Command) => { global: GlobalOptions; client: KeyfleetClient };

export function withClient<A extends unknown[]>(
  ctx: Ctx,
  body: (c: KeyfleetClient, g: GlobalOptions, ...args: A) => Promise<void>,
) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const { client, global } = ctx(cmd);
    await client.signIn();
    try {
      await body(client, global, ...(args.slice(0, -1) as A));
    } finally {
      await client.signOut();
    }
  };
}
