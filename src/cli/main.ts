/**
 * The `keyfleet` command. `serve` starts the server; every other command is a client of a running server's
 * native API, with tables for people, `--json` for scripts, and exit codes scripts can trust:
 *   0 success · 1 error from the server or bad input · 2 usage error · 3 a batch finished with failed instances
 *   · 4 server unreachable.
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { ApiError, KeyfleetClient } from './client.js';
import { TOP_COMMANDS, type TopCommand } from './command-index.js';
import { EXIT, type GlobalOptions } from './options.js';
import { checkNumericOptions, UsageError } from './usage.js';
import type { Ctx } from './with-client.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('keyfleet')
    .description('Self-hosted SSH key pairs for fleets: bind, unbind, prove it with a real login.')
    .addOption(
      new Option('--endpoint <url>', 'keyfleet server')
        .env('KEYFLEET_ENDPOINT')
        .default(`http://127.0.0.1:${process.env.KEYFLEET_PORT ?? '8080'}`),
    )
    .addOption(new Option('--region <id>', 'region').env('KEYFLEET_REGION').default('cn-hangzhou'))
    .option('--json', 'machine-readable output', false)
    .option('--user <name>', 'sign in as this user (password from KEYFLEET_PASSWORD) instead of an access key')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const ctx: Ctx = (cmd) => {
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
  addLazyCommands(program, ctx);
  return program;
}

/**
 * Creates each top-level command with only its name and description, and loads the rest of the one being run just
 * before commander dispatches to it, or shows its help.
 */
function addLazyCommands(program: Command, ctx: Ctx): void {
  const notLoaded = new Map<Command, TopCommand>();
  const topCommands = TOP_COMMANDS.map((entry) => {
    const cmd = program.command(entry.args ? `${entry.name} ${entry.args}` : entry.name).description(entry.description);
    if (entry.alias) cmd.alias(entry.alias);
    notLoaded.set(cmd, entry);
    return cmd;
  });
  const load = async (cmd: Command) => {
    const entry = notLoaded.get(cmd);
    if (!entry) return;
    notLoaded.delete(cmd);
    (await entry.load())(cmd, ctx);
    checkNumericOptions(cmd);
  };
  program.hook('preSubcommand', (_program, cmd) => load(cmd));
  // Commander's own `help <command>` shows the command's help without dispatching to it, so without loading it.
  program.helpCommand(false);
  program
    .command('help [command]')
    .description('display help for command')
    .allowExcessArguments()
    .action(async (name?: string) => {
      if (name === undefined) program.help();
      const cmd = topCommands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!cmd) program.help({ error: true });
      await load(cmd);
      cmd.help();
    });
  // Commander writes `[options]` after a command that has options; a command not loaded has none yet.
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command): string {
      const term = Help.prototype.subcommandTerm.call(this, cmd);
      return notLoaded.get(cmd)?.hasOptions ? term.replace(/^(\S+)/, '$1 [options]') : term;
    },
  });
}

/**
 * A reader that went away (`keyfleet tasks ls | head -1`) ends the output, not the command: stdout stops writing
 * and the command finishes as it would (it still signs out) and exits 0, as a Unix tool killed by SIGPIPE is
 * taken to have succeeded by a pipeline. Node ignores SIGPIPE, so without this a write raised EPIPE with a stack.
 */
function endOutputQuietlyOnEpipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
}

async function main(): Promise<void> {
  endOutputQuietlyOnEpipe();
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`keyfleet: ${err.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (err instanceof ApiError) {
      const json = process.argv.includes('--json');
      if (json)
        process.stdout.write(
          JSON.stringify({
            error: { code: err.code, message: err.message, status: err.status, requestId: err.requestId },
          }) + '\n',
        );
      else
        process.stderr.write(
          `keyfleet: ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}\n`,
        );
      process.exitCode = err.status === 0 ? EXIT.unreachable : EXIT.error;
      return;
    }
    process.stderr.write(`keyfleet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.error;
  }
}

await main();
