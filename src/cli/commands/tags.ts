/**
 * Client commands for tags and resource groups (issue 20). `tags add|rm|ls` change and list the tags of key pairs
 * (named by name) and instances (by id) in the region; `resource-groups` creates, renames, deletes and lists groups
 * and moves resources into them. `--tag key=value` (or `--tag key`: any value) filters `kp ls` and `instances ls`.
 */
import { type Command, CommanderError } from 'commander';
import { printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;

/** Repeatable `--tag` values. */
export const collectTag = (v: string, all: string[] = []) => [...all, v];

/** `key=value` (the key ends at the first '='); for adding, a bare `key` means an empty value. */
function parseTag(s: string): { key: string; value: string } {
  const at = s.indexOf('=');
  return at < 0 ? { key: s, value: '' } : { key: s.slice(0, at), value: s.slice(at + 1) };
}

function resourceType(t: string): 'keypair' | 'instance' {
  if (t === 'keypair' || t === 'kp' || t === 'key-pair') return 'keypair';
  if (t === 'instance' || t === 'i') return 'instance';
  // A usage error (exit 2), said the way commander says its own.
  process.stderr.write(`error: the resource type '${t}' is not keypair or instance\n`);
  throw new CommanderError(2, 'keyfleet.resourceType', `the resource type '${t}' is not keypair or instance`);
}

export function fillTagCommands(tags: Command, ctx: Ctx): void {
  tags
    .command('add <type> <ids...>')
    .description('add tags to key pairs (by name) or instances (by id); a key they have takes the new value')
    .requiredOption('--tag <key=value>', 'a tag (repeat for more; at most 20 per resource)', collectTag)
    .action(
      withClient(ctx, async (c, g, type: string, ids: string[], o: { tag: string[] }) => {
        await c.request('POST', `/api/v1/regions/${enc(g.region)}/tags`, {
          resourceType: resourceType(type),
          resourceIds: ids,
          tags: o.tag.map(parseTag),
        });
        if (g.json) return printJson({ tagged: ids });
        process.stdout.write(`Tagged ${ids.length} ${resourceType(type)}(s).\n`);
      }),
    );
  tags
    .command('rm <type> <ids...>')
    .description('remove tag keys (--key, repeatable) or every tag (--all) from key pairs or instances')
    .option('--key <key>', 'a tag key to remove (repeat for more)', collectTag)
    .option('--all', 'remove every tag')
    .action(
      withClient(ctx, async (c, g, type: string, ids: string[], o: { key?: string[]; all?: boolean }) => {
        await c.request('POST', `/api/v1/regions/${enc(g.region)}/tags/remove`, {
          resourceType: resourceType(type),
          resourceIds: ids,
          ...(o.key ? { keys: o.key } : {}),
          ...(o.all ? { all: true } : {}),
        });
        if (g.json) return printJson({ untagged: ids });
        process.stdout.write(`Removed tags from ${ids.length} ${resourceType(type)}(s).\n`);
      }),
    );
  tags
    .command('ls <type> [ids...]')
    .description('the tags of key pairs or instances (all pages), optionally only those with --tag')
    .option('--tag <key[=value]>', 'only resources with this tag (repeat: all must match)', collectTag)
    .action(
      withClient(ctx, async (c, g, type: string, ids: string[], o: { tag?: string[] }) => {
        const rows: any[] = [];
        let nextToken: string | null = null;
        do {
          const q = new URLSearchParams({ resourceType: resourceType(type) });
          for (const id of ids) q.append('resourceId', id);
          for (const t of o.tag ?? []) q.append('tag', t);
          if (nextToken) q.set('nextToken', nextToken);
          const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/tags?${q}`);
          rows.push(...r.tags);
          nextToken = r.nextToken;
        } while (nextToken);
        if (g.json) return printJson({ tags: rows });
        printTable(
          ['Resource', 'Key', 'Value'],
          rows.map((t) => [t.resourceId, t.key, t.value]),
          `${rows.length} tag(s)`,
        );
      }),
    );
}

export function fillResourceGroupCommands(rg: Command, ctx: Ctx): void {
  rg.command('ls')
    .description("the account's resource groups")
    .action(
      withClient(ctx, async (c, g) => {
        const r = await c.request('GET', '/api/v1/resource-groups');
        if (g.json) return printJson(r);
        printTable(
          ['Id', 'Name'],
          r.resourceGroups.map((x: any) => [x.id, x.name]),
        );
      }),
    );
  rg.command('create <name>')
    .description('create a resource group (1-50 letters, digits, . _ -)')
    .action(
      withClient(ctx, async (c, g, name: string) => {
        const r = await c.request('POST', '/api/v1/resource-groups', { name });
        if (g.json) return printJson(r);
        process.stdout.write(`Created resource group ${r.id} (${r.name})\n`);
      }),
    );
  rg.command('rename <id> <name>')
    .description('rename a resource group (not the default one)')
    .action(
      withClient(ctx, async (c, g, id: string, name: string) => {
        const r = await c.request('PATCH', `/api/v1/resource-groups/${enc(id)}`, { name });
        if (g.json) return printJson(r);
        process.stdout.write(`Renamed ${r.id} to ${r.name}\n`);
      }),
    );
  rg.command('rm <id>')
    .description('delete an empty resource group (move its key pairs and instances out first)')
    .action(
      withClient(ctx, async (c, g, id: string) => {
        await c.request('DELETE', `/api/v1/resource-groups/${enc(id)}`);
        if (g.json) return printJson({ deleted: id });
        process.stdout.write(`Deleted resource group ${id}\n`);
      }),
    );
  rg.command('move <id> <type> <resourceIds...>')
    .description('move key pairs (by name) or instances (by id) of the region into the group')
    .action(
      withClient(ctx, async (c, g, id: string, type: string, resourceIds: string[]) => {
        const moved = [];
        for (const resourceId of resourceIds)
          moved.push(
            await c.request('POST', `/api/v1/resource-groups/${enc(id)}/members`, {
              regionId: g.region,
              resourceType: resourceType(type),
              resourceId,
            }),
          );
        if (g.json) return printJson({ moved });
        process.stdout.write(`Moved ${moved.length} ${resourceType(type)}(s) into ${id}\n`);
      }),
    );
}
