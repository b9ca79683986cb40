/** bind and unbind: one instance, a list or a file of thousands; on restart or live; a result per instance. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { type Ctx, withClient } from '../with-client.js';
import { EXIT } from '../options.js';
import { printJson, printTable } from '../output.js';
import { followTask } from '../follow-task.js';
import { renderDryRuns, wantsColour } from '../dry-run-output.js';
import { UsageError } from '../usage.js';

const enc = encodeURIComponent;

/** `bind` and `unbind`: the same options, the action named by the command. */
export function fillBindCommand(cmd: Command, ctx: Ctx): void {
  const action = cmd.name() as 'bind' | 'unbind';
  if (action === 'bind') cmd.requiredOption('--key-pair <name>', 'key pair name');
  else cmd.option('--key-pair <name>', 'key pair name (default: the one bound to each instance)');
  cmd
    .option('--from-file <file>', 'instance ids, one per line (- for stdin)')
    .option('--live', 'apply now over SSH and verify by login (default: at next restart)')
    .option('--password-env <var>', 'live: environment variable holding the root password')
    .option('--private-key <file>', 'live: private key of the key pair bound now')
    .option('--port <port>', 'live: SSH port')
    .option('--no-verify', 'live: skip the fresh login that proves each change (one SSH connection per host)')
    .option('--dry-run', 'show per instance what would change; change nothing')
    .option('--no-wait', 'return the task id without waiting');
  if (action === 'bind')
    cmd
      .option(
        '--expires-in <duration>',
        "bind: the binding ends after this long ('8h', '30m', '20s', '7d'; at most a year)",
      )
      .option('--expires-at <time>', 'bind: the binding ends at this ISO time (e.g. 2026-12-24T18:00:00Z)');
  cmd.action(
    withClient(
      ctx,
      async (
        c,
        g,
        ids: string[],
        o: {
          keyPair?: string;
          fromFile?: string;
          live?: boolean;
          passwordEnv?: string;
          privateKey?: string;
          port?: string;
          verify: boolean;
          dryRun?: boolean;
          wait: boolean;
          expiresIn?: string;
          expiresAt?: string;
        },
      ) => {
        const all = [
          ...ids,
          ...(o.fromFile
            ? fs
                .readFileSync(o.fromFile === '-' ? 0 : o.fromFile, 'utf8')
                .split(/\s+/)
                .filter(Boolean)
            : []),
        ];
        const credential = credentialOf(o);
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/bindings`, {
          action,
          keyPairName: o.keyPair,
          instanceIds: all,
          mode: o.live ? 'live' : 'on-restart',
          credential,
          port: o.port ? Number(o.port) : undefined,
          verify: o.verify === false ? false : undefined,
          dryRun: o.dryRun || undefined,
          expiresIn: o.expiresIn,
          expiresAt: o.expiresAt,
        });
        let task = r.task;
        if (!o.wait) return g.json ? printJson(r) : void process.stdout.write(`task ${task.id}\n`);
        task = await followTask(c, task, !g.json && process.stderr.isTTY);
        const items = await c.request('GET', `/api/v1/tasks/${task.id}/items?limit=10000`);
        if (g.json) printJson({ task, items: items.items });
        else {
          const failed = items.items.filter((i: any) => i.status === 'failed');
          printTable(
            ['Instance', 'Result', 'Detail'],
            items.items
              .slice(0, 200)
              .map((i: any) => [i.instanceId, i.status, i.errorCode ? `${i.errorCode}: ${i.errorMessage}` : i.note]),
            `task ${task.id}: ${task.succeeded} succeeded, ${task.failed} failed of ${task.total}${failed.length ? '' : ''}`,
          );
          if (o.dryRun) process.stdout.write(renderDryRuns(items.items, wantsColour()));
        }
        if (task.failed > 0) process.exitCode = EXIT.partial;
      },
      (ids: string[], o: { fromFile?: string; privateKey?: string; passwordEnv?: string }) => {
        if (ids.length === 0 && !o.fromFile)
          throw new UsageError(`${action}: name the instances (ids as arguments, or --from-file <file>).`);
        if (o.privateKey && o.passwordEnv) throw new UsageError('Give --private-key or --password-env, not both.');
        if (o.passwordEnv && !process.env[o.passwordEnv])
          throw new UsageError(`--password-env ${o.passwordEnv}: the environment variable is not set or empty.`);
      },
    ),
  );
}

/** The live credential the options name: a private key file, or the root password in an environment variable. */
function credentialOf(o: { privateKey?: string; passwordEnv?: string }) {
  return o.privateKey
    ? { kind: 'privateKey', privateKey: fs.readFileSync(o.privateKey, 'utf8') }
    : o.passwordEnv
      ? { kind: 'password', password: process.env[o.passwordEnv] ?? '' }
      : undefined;
}

/** `extend <instanceId>`: a new expiry for the instance's binding, written in the mode it was bound in (issue 19). */
export function fillExtendCommand(cmd: Command, ctx: Ctx): void {
  cmd
    .option('--expires-in <duration>', "the binding ends this long from now ('8h', '30m', '7d'; at most a year)")
    .option('--expires-at <time>', 'the binding ends at this ISO time (e.g. 2026-12-24T18:00:00Z)')
    .option('--password-env <var>', 'live (simulated instance): environment variable holding the root password')
    .option('--private-key <file>', 'live (simulated instance): private key of the key pair bound')
    .option('--no-wait', 'return the task id without waiting')
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          id: string,
          o: { expiresIn?: string; expiresAt?: string; passwordEnv?: string; privateKey?: string; wait: boolean },
        ) => {
          const r = await c.request('POST', `/api/v1/instances/${enc(id)}/expiry`, {
            expiresIn: o.expiresIn,
            expiresAt: o.expiresAt,
            credential: credentialOf(o),
          });
          if (!o.wait) return g.json ? printJson(r) : void process.stdout.write(`task ${r.task.id}\n`);
          const task = await followTask(c, r.task, !g.json && process.stderr.isTTY);
          const items = await c.request('GET', `/api/v1/tasks/${task.id}/items?limit=10`);
          const inst = await c.request('GET', `/api/v1/instances/${enc(id)}`);
          if (g.json) return printJson({ task, items: items.items, instance: inst.instance });
          const item = items.items[0];
          printTable(
            ['Instance', 'Result', 'Expires', 'Detail'],
            [
              [
                id,
                item?.status ?? task.status,
                inst.instance.keyExpiresAt ?? 'never',
                item?.errorCode ? `${item.errorCode}: ${item.errorMessage}` : item?.note,
              ],
            ],
            `task ${task.id}`,
          );
          if (task.failed > 0) process.exitCode = EXIT.partial;
        },
      ),
    );
}
