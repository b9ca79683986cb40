/** Instance commands: list, run, show, start/stop/restart, reset-password, delete. */
import type { Command } from 'commander';
import { type Ctx, withClient } from '../with-client.js';
import { collectTag } from './tags.js';
import { printFields, printJson, printTable } from '../output.js';

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
    .option('--tag <key[=value]>', 'only instances with this tag (repeat: all must match)', collectTag)
    .option('--expiring-within <duration>', "only bindings that expire within this long ('24h', '7d')")
    .option('--offset <n>', 'skip', '0')
    .option('--limit <n>', 'page size', '50')
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
            tag?: string[];
            expiringWithin?: string;
            offset: string;
            limit: string;
          },
        ) => {
          const q = new URLSearchParams({ offset: o.offset, limit: o.limit });
          if (o.status) q.set('status', o.status);
          if (o.search) q.set('search', o.search);
          if (o.keyPair) q.set('keyPairName', o.keyPair);
          if (o.pendingRestart) q.set('pendingRestart', 'true');
          for (const t of o.tag ?? []) q.append('tag', t);
          if (o.expiringWithin) q.set('expiringWithin', String(durationSeconds(o.expiringWithin)));
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
    .description('create instances')
    .requiredOption('--image <id>')
    .option('--type <instanceType>')
    .option('--amount <n>', 'how many', '1')
    .option('--name <name>')
    .option('--key-pair <name>')
    .option('--no-start', 'create stopped')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          o: { image: string; type?: string; amount: string; name?: string; keyPair?: string; start: boolean },
        ) => {
          const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/instances`, {
            imageId: o.image,
            instanceType: o.type,
            amount: Number(o.amount),
            name: o.name,
            keyPairName: o.keyPair,
            password: process.env.KEYFLEET_INSTANCE_PASSWORD,
            start: o.start,
          });
          if (g.json) return printJson(r);
          process.stdout.write(r.instanceIds.join('\n') + '\n');
        },
      ),
    );
  inst.command('show <id>').action(
    withClient(ctx, async (c, g, id: string) => {
      const r = await c.request('GET', `/api/v1/instances/${enc(id)}`);
      if (g.json) return printJson(r);
      const i = r.instance;
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
    .description('new root password from KEYFLEET_INSTANCE_PASSWORD; takes effect at the next start/restart')
    .action(
      withClient(ctx, async (c, g, id: string) => {
        const password = process.env.KEYFLEET_INSTANCE_PASSWORD;
        if (!password) throw new Error('Set KEYFLEET_INSTANCE_PASSWORD (passwords are not taken on the command line).');
        const r = await c.request('POST', `/api/v1/instances/${enc(id)}/reset-password`, { password });
        if (g.json) return printJson(r);
        process.stdout.write(`${id}: password set; restart the instance for it to take effect\n`);
      }),
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
  if (!m) throw new Error(`'${text}' is not a duration such as 24h, 30m or 7d.`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
