/** Instance commands: list, run, show, start/stop/restart, reset-password, delete. */
import type { Command } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { type Ctx, withClient } from '../with-client.js';
import { printFields, printIds, printJson, printTable } from '../output.js';
import { UsageError } from '../usage.js';

const enc = encodeURIComponent;

/**
 * "verified at <time>" or "not verified: <why>": whether a fresh login proved what the machine does now.
 * `detail` adds what the proof showed. A server without the fields (older keyfleet) gets null.
 */
export function proofText(
  i: { verifiedAt?: string | null; verification?: string | null },
  detail = false,
): string | null {
  if (i.verifiedAt) {
    const at = `verified at ${i.verifiedAt.replace(/\.\d+Z$/, 'Z')}`;
    return detail && i.verification ? `${at} (${i.verification})` : at;
  }
  if (i.verification) return `not verified: ${i.verification}`;
  return null;
}

export function fillInstanceCommands(inst: Command, ctx: Ctx): void {
  inst
    .command('ls')
    .option('--status <status>')
    .option('--search <text>')
    .option('--key-pair <name>')
    .option('--pending-restart')
    .option('--expiring-within <duration>', "only bindings that expire within this long ('24h', '7d')")
    .option('--offset <n>', 'skip', '0')
    .option('--limit <n>', 'page size', '50')
    .option('--ids', 'only the ids of every matching instance, one per line (all pages), for files and pipes')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          o: {
            status?: string;
            search?: string;
            keyPair?: string;
            pendingRestart?: boolean;
            expiringWithin?: string;
            offset: string;
            limit: string;
            ids?: boolean;
          },
        ) => {
          const q = new URLSearchParams({ offset: o.offset, limit: o.limit });
          if (o.status) q.set('status', o.status);
          if (o.search) q.set('search', o.search);
          if (o.keyPair) q.set('keyPairName', o.keyPair);
          if (o.pendingRestart) q.set('pendingRestart', 'true');
          if (o.expiringWithin) q.set('expiringWithin', String(durationSeconds(o.expiringWithin)));
          if (o.ids) return printIds(await allInstanceIds(c, g.region, q));
          const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/instances?${q}`);
          if (g.json) return printJson(r);
          printTable(
            ['ID', 'Name', 'Status', 'OS', 'SSH', 'Key pair', 'Expires', 'Restart needed', 'Proof'],
            r.instances.map((i: any) => [
              i.id,
              i.name,
              i.status,
              i.osType,
              i.osType === 'linux' ? `${i.address}:${i.sshPort}` : '-',
              i.keyPairName,
              i.keyExpiresAt ?? '',
              i.pendingRestart ? 'yes' : '',
              proofText(i),
            ]),
            `${r.total} instance(s)`,
          );
        },
      ),
    );
  inst
    .command('run')
    .description('create instances (Linux instances serve SSH on their own 127.x.y.z address)')
    .requiredOption('--image <id>', 'image id (keyfleet images ls)')
    .option('--type <instanceType>', 'instance type (keyfleet instance-types ls)')
    .option('--amount <n>', 'how many', '1')
    .option('--name <name>')
    .option('--key-pair <name>')
    .option(
      '--password-env <var>',
      "environment variable holding the root password (8-30 characters, three of: upper, lower, digit, symbol); without it root has none, and a live bind needs the key pair's private key",
    )
    .option('--no-start', 'create stopped')
    .option('--wait', 'wait until every instance is Running (or Stopped with --no-start)')
    .option('--ids', 'print only the new ids, one per line, for files and pipes')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          o: {
            image: string;
            type?: string;
            amount: string;
            name?: string;
            keyPair?: string;
            passwordEnv?: string;
            start: boolean;
            wait?: boolean;
            ids?: boolean;
          },
        ) => {
          const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/instances`, {
            imageId: o.image,
            instanceType: o.type,
            amount: Number(o.amount),
            name: o.name,
            keyPairName: o.keyPair,
            password: passwordFromEnv(o.passwordEnv),
            start: o.start,
          });
          const ids: string[] = r.instanceIds;
          const instances = o.wait ? await waitSettled(c, ids) : null;
          if (o.ids) return printIds(ids);
          if (g.json) return printJson(instances ? { ...r, instances } : r);
          if (!instances) return printIds(ids);
          printTable(
            ['ID', 'Name', 'Status', 'SSH'],
            instances.map((i: any) => [
              i.id,
              i.name,
              i.status,
              i.osType === 'linux' ? `ssh -p ${i.sshPort} ${i.loginUser}@${i.address}` : '-',
            ]),
          );
        },
        (o: { passwordEnv?: string }) => void passwordFromEnv(o.passwordEnv),
      ),
    );
  inst
    .command('show <id>')
    .option(
      '--ssh',
      "print only ssh's arguments to reach it (-p <port> <user>@<address>), as in: ssh $(keyfleet i show <id> --ssh)",
    )
    .action(
      withClient(ctx, async (c, g, id: string, o: { ssh?: boolean }) => {
        const r = await c.request('GET', `/api/v1/instances/${enc(id)}`);
        const i = r.instance;
        if (o.ssh) return void process.stdout.write(`-p ${i.sshPort} ${i.loginUser}@${i.address}\n`);
        if (g.json) return printJson(r);
        printFields({
          ID: i.id,
          Name: i.name,
          Status: i.status,
          OS: i.osName,
          SSH: `ssh -p ${i.sshPort} ${i.loginUser}@${i.address}`,
          'Key pair': i.keyPairName,
          Expires: i.keyPairName ? (i.keyExpiresAt ?? 'never') : null,
          'Password login': i.passwordLogin,
          'Restart needed': i.pendingRestart,
          Proof: proofText(i, true),
          'Host key': i.hostKeySha256,
        });
      }),
    );
  for (const [name, path] of [
    ['start', 'start'],
    ['stop', 'stop'],
    ['restart', 'restart'],
  ] as const) {
    inst
      .command(`${name} <id>`)
      .option('--wait', 'wait until the instance is Running/Stopped')
      .action(
        withClient(ctx, async (c, g, id: string, o: { wait?: boolean }) => {
          let r = await c.request('POST', `/api/v1/instances/${enc(id)}/${path}`);
          while (o.wait && ['Pending', 'Starting', 'Stopping'].includes(r.instance.status)) {
            await new Promise((res) => setTimeout(res, 200));
            r = await c.request('GET', `/api/v1/instances/${enc(id)}`);
          }
          if (g.json) return printJson(r);
          process.stdout.write(`${id}: ${r.instance.status}\n`);
        }),
      );
  }
  inst
    .command('reset-password <id>')
    .description('set a new root password; takes effect at the next start/restart')
    .option('--password-env <var>', 'environment variable holding it', 'KEYFLEET_INSTANCE_PASSWORD')
    .action(
      withClient(
        ctx,
        async (c, g, id: string, o: { passwordEnv: string }) => {
          const password = passwordFromEnv(o.passwordEnv);
          const r = await c.request('POST', `/api/v1/instances/${enc(id)}/reset-password`, { password });
          if (g.json) return printJson(r);
          process.stdout.write(`${id}: password set; restart the instance for it to take effect\n`);
        },
        (_id: string, o: { passwordEnv: string }) => void passwordFromEnv(o.passwordEnv),
      ),
    );
  inst
    .command('delete <id>')
    .option('--force')
    .action(
      withClient(ctx, async (c, g, id: string, o: { force?: boolean }) => {
        await c.request('DELETE', `/api/v1/instances/${enc(id)}${o.force ? '?force=true' : ''}`);
        if (g.json) return printJson({ deleted: id });
        process.stdout.write(`Deleted instance ${id}\n`);
      }),
    );
}

/** '24h', '30m', '7d', '2w' or seconds, as the API's expiringWithin takes them (seconds). */
function durationSeconds(text: string): number {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a duration such as 24h, 30m or 7d.`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/**
 * The root password held in the environment variable `name` (passwords are not taken on the command line, where
 * `ps` and shell history would show them). Without --password-env, KEYFLEET_INSTANCE_PASSWORD if set (older
 * scripts), else none.
 */
function passwordFromEnv(name: string | undefined): string | undefined {
  if (name === undefined) return process.env.KEYFLEET_INSTANCE_PASSWORD || undefined;
  const value = process.env[name];
  if (!value) throw new UsageError(`--password-env ${name}: the environment variable ${name} is not set or empty.`);
  return value;
}

/** Every instance id the query matches, a page of 1000 at a time from its offset. */
async function allInstanceIds(c: KeyfleetClient, region: string, q: URLSearchParams): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = Number(q.get('offset') ?? 0); ; ) {
    q.set('offset', String(offset));
    q.set('limit', '1000');
    const r = await c.request('GET', `/api/v1/regions/${enc(region)}/instances?${q}`);
    ids.push(...r.instances.map((i: any) => i.id));
    offset += r.instances.length;
    if (r.instances.length === 0 || offset >= r.total) return ids;
  }
}

/** Polls until no instance is starting or stopping any more; returns them as they are then. */
async function waitSettled(c: KeyfleetClient, ids: string[]): Promise<any[]> {
  for (;;) {
    const instances = await Promise.all(
      ids.map(async (id) => (await c.request('GET', `/api/v1/instances/${enc(id)}`)).instance),
    );
    if (!instances.some((i) => ['Pending', 'Starting', 'Stopping'].includes(i.status))) return instances;
    await new Promise((res) => setTimeout(res, 200));
  }
}
