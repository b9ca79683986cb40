/** Task commands: list, show, wait. */
import type { Command } from 'commander';
import { type Ctx, withClient } from '../with-client.js';
import { EXIT } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';
import { followTask } from '../follow-task.js';

const enc = encodeURIComponent;

export function fillTaskCommands(tasks: Command, ctx: Ctx): void {
  tasks
    .command('ls')
    .option('--status <s>')
    .option('--limit <n>', 'page size', '20')
    .action(
      withClient(ctx, async (c, g, o: { status?: string; limit: string }) => {
        const q = new URLSearchParams({ limit: o.limit, ...(o.status ? { status: o.status } : {}) });
        const r = await c.request('GET', `/api/v1/tasks?${q}`);
        if (g.json) return printJson(r);
        printTable(
          ['Task', 'Kind', 'Mode', 'Key pair', 'Status', 'Done', 'Created'],
          r.tasks.map((t: any) => [
            t.id,
            t.kind,
            t.mode,
            t.keyPairName,
            t.status,
            `${t.succeeded + t.failed}/${t.total}`,
            t.createdAt,
          ]),
          `${r.total} task(s)`,
        );
      }),
    );
  tasks.command('show <id>').action(
    withClient(ctx, async (c, g, id: string) => {
      const t = await c.request('GET', `/api/v1/tasks/${enc(id)}`);
      const items = await c.request('GET', `/api/v1/tasks/${enc(id)}/items?limit=10000`);
      if (g.json) return printJson({ ...t, items: items.items });
      printFields({
        Task: t.task.id,
        Kind: t.task.kind,
        Mode: t.task.mode,
        'Key pair': t.task.keyPairName,
        Status: t.task.status,
        Succeeded: t.task.succeeded,
        Failed: t.task.failed,
        Total: t.task.total,
      });
      printTable(
        ['Instance', 'Result', 'Detail'],
        items.items
          .slice(0, 200)
          .map((i: any) => [i.instanceId, i.status, i.errorCode ? `${i.errorCode}: ${i.errorMessage}` : i.note]),
      );
    }),
  );
  tasks.command('wait <id>').action(
    withClient(ctx, async (c, g, id: string) => {
      const t = await c.request('GET', `/api/v1/tasks/${enc(id)}`);
      const done = await followTask(c, t.task, !g.json && process.stderr.isTTY);
      if (g.json) printJson({ task: done });
      else
        process.stdout.write(`task ${done.id}: ${done.status} (${done.succeeded} succeeded, ${done.failed} failed)\n`);
      if (done.failed > 0) process.exitCode = EXIT.partial;
    }),
  );
}
