/** Client commands for users, access keys, policies, accounts and the audit trail. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { withClient, type Ctx } from '../with-client.js';
import { printFields, printJson, printTable } from '../output.js';

const enc = encodeURIComponent;

export function fillUserCommands(users: Command, ctx: Ctx): void {
  users.command('ls').action(
    withClient(ctx, async (c, g) => {
      const r = await c.request('GET', '/api/v1/users');
      if (g.json) return printJson(r);
      printTable(
        ['Name', 'Administrator', 'Console sign-in', 'Created'],
        r.users.map((u: any) => [u.name, u.isAccountAdmin ? 'yes' : '', u.consoleSignIn ? 'yes' : '', u.createdAt]),
      );
    }),
  );
  users
    .command('create <name>')
    .description('create a user; console password from KEYFLEET_NEW_PASSWORD if set')
    .option('--admin', 'account administrator')
    .action(
      withClient(ctx, async (c, g, name: string, o: { admin?: boolean }) => {
        const r = await c.request('POST', '/api/v1/users', {
          name,
          password: process.env.KEYFLEET_NEW_PASSWORD || undefined,
          isAccountAdmin: o.admin === true,
        });
        if (g.json) return printJson(r);
        process.stdout.write(`Created user ${r.user.name}\n`);
      }),
    );
  users.command('delete <name>').action(
    withClient(ctx, async (c, g, name: string) => {
      await c.request('DELETE', `/api/v1/users/${enc(name)}`);
      if (g.json) return printJson({ deleted: name });
      process.stdout.write(`Deleted user ${name}\n`);
    }),
  );
}

export function fillAccessKeyCommands(keys: Command, ctx: Ctx): void {
  keys.command('ls <user>').action(
    withClient(ctx, async (c, g, user: string) => {
      const r = await c.request('GET', `/api/v1/users/${enc(user)}/access-keys`);
      if (g.json) return printJson(r);
      printTable(
        ['Access key ID', 'Status', 'Created'],
        r.accessKeys.map((k: any) => [k.accessKeyId, k.status, k.createdAt]),
      );
    }),
  );
  keys
    .command('create <user>')
    .description('create an access key; the secret is shown once')
    .action(
      withClient(ctx, async (c, g, user: string) => {
        const r = await c.request('POST', `/api/v1/users/${enc(user)}/access-keys`);
        if (g.json) return printJson(r);
        printFields({ 'Access key ID': r.accessKeyId, 'Secret (shown once)': r.accessKeySecret });
      }),
    );
  for (const [name, status] of [
    ['disable', 'Inactive'],
    ['enable', 'Active'],
  ] as const) {
    keys.command(`${name} <accessKeyId>`).action(
      withClient(ctx, async (c, g, id: string) => {
        await c.request('PATCH', `/api/v1/access-keys/${enc(id)}`, { status });
        if (g.json) return printJson({ accessKeyId: id, status });
        process.stdout.write(`${id}: ${status}\n`);
      }),
    );
  }
  keys.command('delete <accessKeyId>').action(
    withClient(ctx, async (c, g, id: string) => {
      await c.request('DELETE', `/api/v1/access-keys/${enc(id)}`);
      if (g.json) return printJson({ deleted: id });
      process.stdout.write(`Deleted access key ${id}\n`);
    }),
  );
}

export function fillPolicyCommands(policies: Command, ctx: Ctx): void {
  policies.command('ls').action(
    withClient(ctx, async (c, g) => {
      const r = await c.request('GET', '/api/v1/policies');
      if (g.json) return printJson(r);
      printTable(
        ['Name', 'Statements', 'Description'],
        r.policies.map((p: any) => [p.name, p.document.Statement.length, p.description]),
      );
    }),
  );
  policies
    .command('create <name>')
    .requiredOption('--file <policy.json>', 'the policy document (- for stdin)')
    .option('--description <text>')
    .action(
      withClient(ctx, async (c, g, name: string, o: { file: string; description?: string }) => {
        const text = fs.readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
        let document: unknown;
        try {
          document = JSON.parse(text);
        } catch {
          throw new Error(`${o.file} is not valid JSON.`);
        }
        const r = await c.request('POST', '/api/v1/policies', { name, document, description: o.description });
        if (g.json) return printJson(r);
        process.stdout.write(`Created policy ${r.policy.name}\n`);
      }),
    );
  policies
    .command('delete <name>')
    .option('--force', 'detach it from every user and group that has it, then delete it')
    .action(
      withClient(ctx, async (c, g, name: string, o: { force?: boolean }) => {
        await c.request('DELETE', `/api/v1/policies/${enc(name)}${o.force ? '?force=true' : ''}`);
        if (g.json) return printJson({ deleted: name });
        process.stdout.write(`Deleted policy ${name}\n`);
      }),
    );
  for (const [name, method] of [
    ['attach', 'PUT'],
    ['detach', 'DELETE'],
  ] as const) {
    policies.command(`${name} <policy> <user>`).action(
      withClient(ctx, async (c, g, policy: string, user: string) => {
        await c.request(method, `/api/v1/users/${enc(user)}/policies/${enc(policy)}`);
        if (g.json) return printJson({ [name === 'attach' ? 'attached' : 'detached']: policy, user });
        process.stdout.write(
          `${name === 'attach' ? 'Attached' : 'Detached'} ${policy} ${name === 'attach' ? 'to' : 'from'} ${user}\n`,
        );
      }),
    );
  }
}

export function fillAccountCommands(accounts: Command, ctx: Ctx): void {
  accounts.command('ls').action(
    withClient(ctx, async (c, g) => {
      const r = await c.request('GET', '/api/v1/accounts');
      if (g.json) return printJson(r);
      printTable(
        ['Name', 'ID', 'Created'],
        r.accounts.map((a: any) => [a.name, a.id, a.createdAt]),
      );
    }),
  );
  accounts
    .command('create <name>')
    .description('create a tenant with its administrator; secrets shown once')
    .action(
      withClient(ctx, async (c, g, name: string) => {
        const r = await c.request('POST', '/api/v1/accounts', { name });
        if (g.json) return printJson(r);
        printFields({
          Account: r.account.name,
          Administrator: r.admin.name,
          'Access key ID': r.accessKeyId,
          'Secret (shown once)': r.accessKeySecret,
          'Console password (shown once)': r.adminPassword,
        });
      }),
    );
}

export function fillAuditCommand(audit: Command, ctx: Ctx): void {
  audit
    .option('--by <user>', 'entries of this user')
    .option('--action <action>', 'e.g. keypair:Unbind')
    .option('--resource <name>', 'e.g. instance/i-… or a full acs:ecs:… name')
    .option('--result <success|failure|denied>')
    .option('--stage <request|outcome>', 'request: what a call asked; outcome: what the task it submitted came to')
    .option('--task <id>', "a task's request entry and outcome entries")
    .option('--request <id>', 'the entries of one request')
    .option('--since <iso>')
    .option('--until <iso>')
    .option('--limit <n>', 'entries', '50')
    .option('--jsonl', 'export as JSON lines')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          o: {
            by?: string;
            action?: string;
            resource?: string;
            result?: string;
            stage?: string;
            task?: string;
            request?: string;
            since?: string;
            until?: string;
            limit: string;
            jsonl?: boolean;
          },
        ) => {
          const q = new URLSearchParams({ limit: o.limit });
          if (o.by) q.set('userName', o.by);
          if (o.action) q.set('action', o.action);
          if (o.resource) q.set('resource', o.resource);
          if (o.result) q.set('result', o.result);
          if (o.stage) q.set('stage', o.stage);
          if (o.task) q.set('taskId', o.task);
          if (o.request) q.set('requestId', o.request);
          if (o.since) q.set('from', new Date(o.since).toISOString());
          if (o.until) q.set('to', new Date(o.until).toISOString());
          const r = await c.request('GET', `/api/v1/audit?${q}`);
          if (o.jsonl) {
            for (const e of r.entries) process.stdout.write(JSON.stringify(e) + '\n');
            return;
          }
          if (g.json) return printJson(r);
          printTable(
            ['Time', 'User', 'Face', 'Action', 'Resources', 'Result'],
            r.entries.map((e: any) => [
              e.at,
              e.userName,
              e.face,
              e.taskId ? `${e.action}\n${e.stage === 'outcome' ? 'outcome of' : 'task'} ${e.taskId}` : e.action,
              e.resources.slice(0, 3).join('\n') + (e.resources.length > 3 ? `\n(+${e.resources.length - 3})` : ''),
              (e.errorCode ? `${e.result}: ${e.errorCode}` : e.result) + (e.detail ? `\n${e.detail}` : ''),
            ]),
            `${r.total} entr${r.total === 1 ? 'y' : 'ies'}`,
          );
        },
      ),
    );
}
