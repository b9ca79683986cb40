/**
 * `keyfleet serve` runs the server from its TypeScript sources through tsx, whether this CLI runs compiled
 * (dist/cli/, see scripts/build-cli.mjs) or from source: the server is the whole app and starts once, so it keeps
 * the one run-from-source path the tests use, while client commands stay compiled and quick.
 */
import type { Command } from 'commander';

// The server module is named by URL, not by an import esbuild could follow, so the compiled CLI does not bundle
// the app. This file sits in src/cli/ and its compiled form in dist/cli/: both two levels below the root.
const SERVER_MODULE = new URL('../../src/cli/commands/serve.ts', import.meta.url);

export function fillServeCommand(cmd: Command): void {
  cmd.action(async () => {
    const compiled = !import.meta.url.endsWith('.ts');
    if (compiled) (await import('tsx/esm/api')).register();
    const { serve }: typeof import('./commands/serve.js') = await import(SERVER_MODULE.href);
    await serve();
  });
}
