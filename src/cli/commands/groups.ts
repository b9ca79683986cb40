/** Client commands for user groups (account administrators): members get the policies attached to their groups. */
import type { Command } from 'commander';
import { printJson, printTable } from '../output.js';
import { withClient, type Ctx } from '../with-client.js';

const enc = encodeURIComponent;

export function fillGroupCommands(groups: Command, ctx: Ctx): void {
  groups
    .command('ls')
    .description('groups of the account, or of one user with --user-name')
    .option('--user-name <user>', 'the groups this user belongs to')
    .action(
      withClient(ctx, async (c, g, o: { userName?: string }) => {
        const r = await c.request('GET', o.userName ? `/api/v1/users/${enc(o.userName)}/groups` : '/api/v1/groups');
        if (g.json) return printJson(r);
        if (o.userName)
          return printTable(
            ['Name', 'Description', 'Created'],
            r.groups.map((x: any) => [x.name, x.description, x.createdAt]),
          );
        printTable(
          ['Name', 'Members', 'Policies', 'Description', 'Created'],
          r.groups.map((x: any) => [x.name, String(x.memberCount), String(x.policyCount), x.description, x.createdAt]),
        );
      }),
    );
  groups
    .command('create <name>')
    .option('--description <text>')
    .action(
      withClient(ctx, async (c, g, name: string, o: { description?: string }) => {
        const r = await c.request('POST', '/api/v1/groups', { name, description: o.description });
        if (g.json) return printJson(r);
        process.stdout.write(`Created group ${r.group.name}\n`);
      }),
    );
  groups
    .command('delete <name>')
    .description('delete a group; its members lose its policies')
    .action(
      withClient(ctx, async (c, g, name: string) => {
        await c.request('DELETE', `/api/v1/groups/${enc(name)}`);
        if (g.json) return printJson({ deleted: name });
        process.stdout.write(`Deleted group ${name}\n`);
      }),
    );
  groups
    .command('show <name>')
    .description("a group's members and policies")
    .action(
      withClient(ctx, async (c, g, name: string) => {
        const r = await c.request('GET', `/api/v1/groups/${enc(name)}`);
        if (g.json) return printJson(r);
        process.stdout.write(`Group ${r.group.name}${r.group.description ? ` — ${r.group.description}` : ''}\n`);
        printTable(
          ['Member', 'Administrator'],
          r.members.map((u: any) => [u.name, u.isAccountAdmin ? 'yes' : '']),
          `${r.members.length} member${r.members.length === 1 ? '' : 's'}`,
        );
        printTable(
          ['Policy', 'Description'],
          r.policies.map((p: any) => [p.name, p.description]),
          `${r.policies.length} polic${r.policies.length === 1 ? 'y' : 'ies'}`,
        );
      }),
    );
  for (const [cmd, method] of [
    ['add-user', 'PUT'],
    ['remove-user', 'DELETE'],
  ] as const) {
    groups.command(`${cmd} <group> <user>`).action(
      withClient(ctx, async (c, g, group: string, user: string) => {
        await c.request(method, `/api/v1/groups/${enc(group)}/members/${enc(user)}`);
        if (g.json) return printJson({ [method === 'PUT' ? 'added' : 'removed']: user, group });
        process.stdout.write(method === 'PUT' ? `Added ${user} to ${group}\n` : `Removed ${user} from ${group}\n`);
      }),
    );
  }
  for (const [cmd, method] of [
    ['attach', 'PUT'],
    ['detach', 'DELETE'],
  ] as const) {
    groups.command(`${cmd} <group> <policy>`).action(
      withClient(ctx, async (c, g, group: string, policy: string) => {
        await c.request(method, `/api/v1/groups/${enc(group)}/policies/${enc(policy)}`);
        if (g.json) return printJson({ [method === 'PUT' ? 'attached' : 'detached']: policy, group });
        process.stdout.write(
          method === 'PUT' ? `Attached ${policy} to ${group}\n` : `Detached ${policy} from ${group}\n`,
        );
      }),
    );
  }
}
