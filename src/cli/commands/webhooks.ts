/**
 * Client commands for webhook endpoints (account administrators): where the account's events are posted. The
 * signing secret is printed once, by `create` and `rotate-secret`; keyfleet cannot show it again.
 */
import type { Command } from 'commander';
import { printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;
const EVENTS = 'task.finished,verification.failed,drift.found';
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const secretNote = (secret: string) =>
  `Signing secret (shown once; keep it where the receiver can read it):\n${secret}\n`;

export function fillWebhookCommands(webhooks: Command, ctx: Ctx): void {
  webhooks
    .command('ls')
    .description("the account's webhook endpoints")
    .action(
      withClient(ctx, async (c, g) => {
        const r = await c.request('GET', '/api/v1/webhooks');
        if (g.json) return printJson(r);
        printTable(
          ['Id', 'URL', 'Events', 'Enabled', 'Description'],
          r.webhooks.map((w: any) => [w.id, w.url, w.events.join(','), w.enabled ? 'yes' : 'no', w.description]),
        );
      }),
    );
  webhooks
    .command('create <url>')
    .description('add an endpoint; prints its signing secret once')
    .option('--events <types>', `comma-separated event types (${EVENTS})`, EVENTS)
    .option('--description <text>')
    .option('--disabled', 'create it disabled (events are kept for it, not sent)')
    .action(
      withClient(ctx, async (c, g, url: string, o: { events: string; description?: string; disabled?: boolean }) => {
        const r = await c.request('POST', '/api/v1/webhooks', {
          url,
          events: list(o.events),
          description: o.description,
          ...(o.disabled ? { enabled: false } : {}),
        });
        if (g.json) return printJson(r);
        process.stdout.write(`Created webhook ${r.webhook.id} → ${r.webhook.url}\n${secretNote(r.secret)}`);
      }),
    );
  webhooks
    .command('show <id>')
    .description('an endpoint and its latest deliveries')
    .option('--limit <n>', 'deliveries to show', '20')
    .action(
      withClient(ctx, async (c, g, id: string, o: { limit: string }) => {
        const w = await c.request('GET', `/api/v1/webhooks/${enc(id)}`);
        const d = await c.request('GET', `/api/v1/webhooks/${enc(id)}/deliveries?limit=${enc(o.limit)}`);
        if (g.json) return printJson({ ...w, ...d });
        const x = w.webhook;
        process.stdout.write(
          `Webhook ${x.id} → ${x.url} (${x.enabled ? 'enabled' : 'disabled'}): ${x.events.join(', ')}\n`,
        );
        printTable(
          ['Event', 'Type', 'Status', 'Attempts', 'Last answer', 'Created'],
          d.deliveries.map((y: any) => [
            y.eventId,
            y.type,
            y.status,
            String(y.attempts),
            y.lastStatus !== null ? String(y.lastStatus) : (y.lastError ?? ''),
            y.createdAt,
          ]),
        );
      }),
    );
  webhooks
    .command('update <id>')
    .description("change an endpoint's URL, events or description, or enable/disable it")
    .option('--url <url>')
    .option('--events <types>', `comma-separated event types (${EVENTS})`)
    .option('--description <text>')
    .option('--enable')
    .option('--disable')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          id: string,
          o: { url?: string; events?: string; description?: string; enable?: boolean; disable?: boolean },
        ) => {
          const body: Record<string, unknown> = {};
          if (o.url !== undefined) body.url = o.url;
          if (o.events !== undefined) body.events = list(o.events);
          if (o.description !== undefined) body.description = o.description;
          if (o.enable) body.enabled = true;
          if (o.disable) body.enabled = false;
          const r = await c.request('PATCH', `/api/v1/webhooks/${enc(id)}`, body);
          if (g.json) return printJson(r);
          process.stdout.write(`Updated webhook ${r.webhook.id} (${r.webhook.enabled ? 'enabled' : 'disabled'})\n`);
        },
      ),
    );
  webhooks
    .command('rotate-secret <id>')
    .description('replace the signing secret at once; prints the new one once')
    .action(
      withClient(ctx, async (c, g, id: string) => {
        const r = await c.request('POST', `/api/v1/webhooks/${enc(id)}/rotate-secret`);
        if (g.json) return printJson(r);
        process.stdout.write(`Rotated the secret of webhook ${r.webhook.id}\n${secretNote(r.secret)}`);
      }),
    );
  webhooks
    .command('delete <id>')
    .description('delete an endpoint with its pending deliveries')
    .action(
      withClient(ctx, async (c, g, id: string) => {
        await c.request('DELETE', `/api/v1/webhooks/${enc(id)}`);
        if (g.json) return printJson({ deleted: id });
        process.stdout.write(`Deleted webhook ${id}\n`);
      }),
    );
}
