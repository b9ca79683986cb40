/**
 * The `keyfleet` command. `serve` starts the server; every other command is a client of a running server's
 * native API, with tables for people, `--json` for scripts, and exit codes scripts can trust:
 *   0 success · 1 error from the server or bad input · 2 usage error · 3 a batch finished with failed instances
 *   · 4 server unreachable.
 */
import { Command, CommanderError, Option } from 'commander';
import { ApiError, KeyfleetClient } from './client.js';
import { registerDriftCommands } from './commands/drift.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerHostCommands } from './commands/hosts.js';
import { registerIdentityCommands } from './commands/identity.js';
import { registerClientCommands } from './commands/resources.js';
import { serve } from './commands/serve.js';
import { EXIT, type GlobalOptions } from './options.js';


function buildProgram(): Command {
  const program = new Command();
  program
    .name('keyfleet')
    .description('Self-hosted SSH key pairs for fleets: bind, unbind, prove it with a real login.')
    .addOption(new Option('--endpoint <url>', 'keyfleet server').env('KEYFLEET_ENDPOINT').default(`http://127.0.0.1:${process.env.KEYFLEET_PORT ?? '8080'}`))
    .addOption(new Option('--region <id>', 'region').env('KEYFLEET_REGION').default('cn-hangzhou'))
    .option('--json', 'machine-readable output', false)
    .option('--user <name>', 'sign in as this user (password from KEYFLEET_PASSWORD) instead of an access key')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program.command('serve').description('start keyfleet (API, simulated fleet, console) with its embedded defaults').action(async () => {
    await serve();
  });

  const ctx = (cmd: Command) => {
    const g = cmd.optsWithGlobals() as GlobalOptions;
    return {
      global: g,
      client: new KeyfleetClient({
        endpoint: g.endpoint,
        accessKeyId: g.user ? undefined : process.env.KEYFLEET_ACCESS_KEY_ID,
        accessKeySecret: g.user ? undefined : process.env.KEYFLEET_ACCESS_KEY_SECRET,
        userName: g.user,
        password: process.env.KEYFLEET_PASSWORD,
      }),
    };
  };
  registerClientCommands(program, ctx);
  registerHostCommands(program, ctx);
  registerDriftCommands(program, ctx);
  registerIdentityCommands(program, ctx);
  registerGroupCommands(program, ctx);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (err instanceof ApiError) {
      const json = process.argv.includes('--json');
      if (json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message, status: err.status, requestId: err.requestId } }) + '\n');
      else process.stderr.write(`keyfleet: ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}\n`);
      process.exitCode = err.status === 0 ? EXIT.unreachable : EXIT.error;
      return;
    }
    process.stderr.write(`keyfleet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.error;
  }
}

await main();
