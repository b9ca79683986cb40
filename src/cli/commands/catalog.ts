/**
 * `images ls` and `instance-types ls`: what `instances run --image/--type` take, and whether instances of each can
 * take a key pair (the server's answer, by the same rule that refuses a bind: Windows images and non-I/O-optimized
 * types cannot).
 */
import type { Command } from 'commander';
import { printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const keyPairs = (refusal: string | null) => (refusal === null ? 'yes' : `no: ${refusal}`);

export function fillImageCommands(images: Command, ctx: Ctx): void {
  images
    .command('ls')
    .description('list images (ids for instances run --image)')
    .action(
      withClient(ctx, async (c, g) => {
        const r = await c.request('GET', '/api/v1/images');
        if (g.json) return printJson(r);
        printTable(
          ['Image', 'OS', 'Key pairs'],
          r.images.map((i: any) => [i.id, i.osName, keyPairs(i.keyPairRefusal)]),
          `${r.images.length} image(s)`,
        );
      }),
    );
}

export function fillInstanceTypeCommands(types: Command, ctx: Ctx): void {
  types
    .command('ls')
    .description('list instance types (ids for instances run --type)')
    .action(
      withClient(ctx, async (c, g) => {
        const r = await c.request('GET', '/api/v1/instance-types');
        if (g.json) return printJson(r);
        printTable(
          ['Type', 'vCPU', 'Memory GiB', 'Key pairs'],
          r.instanceTypes.map((t: any) => [t.id, t.cpu, t.memoryGiB, keyPairs(t.keyPairRefusal)]),
          `${r.instanceTypes.length} instance type(s)`,
        );
      }),
    );
}
