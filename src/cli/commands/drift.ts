/**
 * `keyfleet drift`: scan registered hosts and simulated instances for keys and settings keyfleet did not put
 * there, and repair them. `scan` is meant for cron: its exit code says whether anything drifted without parsing
 * the output.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { EXIT } from '../options.js';
import { printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;

const SCAN_EXIT_CODES = `
Exit codes:
  0  every machine scanned is in sync (machines skipped, e.g. for lack of a management key, do not count)
  1  drift found on at least one machine (or an error from the server)
  3  no drift found, but some machines could not be read (unreachable, host key changed, ...)
  4  server unreachable`;

interface KeyLineView {
  fingerprintSha256: string;
  keyType: string;
  comment: string;
  location: 'block' | 'outside';
  keyPairName: string | null;
  managementKey: boolean;
}

interface ResultView {
  instanceId: string;
  name: string;
  address: string;
  sshPort: number;
  status: string;
  findings: Array<{ code: string; message: string }>;
  unmanagedKeys: KeyLineView[];
  reason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

function describeKey(k: KeyLineView): string {
  const who = k.managementKey
    ? "keyfleet's management key"
    : k.keyPairName
      ? `key pair ${k.keyPairName}`
      : k.comment || 'unknown key';
  return `${k.fingerprintSha256} ${k.keyType} (${who}${k.location === 'block' ? ', in keyfleet block' : ''})`;
}

function detail(r: ResultView): string {
  if (r.reason) return r.reason;
  if (r.errorCode || r.errorMessage) return `${r.errorCode ? `${r.errorCode}: ` : ''}${r.errorMessage ?? ''}`;
  return r.findings.map((f) => `${f.code}: ${f.message}`).join('\n');
}

function printResults(results: ResultView[]): void {
  printTable(
    ['Host', 'Status', 'Findings', 'Unmanaged keys', 'Detail'],
    results.map((r) => [
      `${r.name} (${r.instanceId})\n${r.address}:${r.sshPort}`,
      r.status,
      r.findings.length,
      r.unmanagedKeys.map(describeKey).join('\n'),
      detail(r),
    ]),
    summary(results),
  );
}

function summary(results: ResultView[]): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  return `${results.length} host(s): ${count('in-sync')} in sync, ${count('drifted')} drifted, ${count('unreachable') + count('error')} not read, ${count('skipped')} skipped`;
}

function scanExitCode(results: ResultView[]): number {
  if (results.some((r) => r.status === 'drifted')) return EXIT.error;
  if (results.some((r) => r.status === 'unreachable' || r.status === 'error')) return EXIT.partial;
  return EXIT.ok;
}

async function waitForTask(c: KeyfleetClient, id: string): Promise<any> {
  for (;;) {
    const t = (await c.request('GET', `/api/v1/tasks/${enc(id)}`)).task;
    if (t.finishedAt) return t;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function fillDriftCommands(drift: Command, ctx: Ctx): void {
  drift
    .command('scan [instanceIds...]')
    .description(
      "read registered hosts (with their management keys) and simulated instances (from their disks), all in the region or those given, and report drift (with the fingerprint of every key inside keyfleet's block that keyfleet did not put there) and every key keyfleet did not write; changes nothing",
    )
    .addHelpText('after', SCAN_EXIT_CODES)
    .action(
      withClient(ctx, async (c, g, ids: string[]) => {
        const body = ids.length > 0 ? { instanceIds: ids } : {};
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/drift-scans`, body);
        if (g.json) printJson(r);
        else printResults(r.results);
        process.exitCode = scanExitCode(r.results);
      }),
    );

  drift
    .command('repair <instanceIds...>')
    .description(
      "scan the machines given and restore keyfleet's block and sshd drop-in on drifted ones with a live bind (or unbind) task: keys found inside the block that keyfleet did not put there are removed, lines outside it are kept",
    )
    .option('--wait', 'wait for the tasks and show per-host results')
    .option('--private-key <file>', 'simulated instances: private key of the key pair bound there')
    .option(
      '--password-env <var>',
      'simulated instances without a key pair: environment variable holding the root password',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 repaired or nothing to repair · 1 error · 3 a repair task finished with failed hosts · 4 server unreachable',
    )
    .action(
      withClient(ctx, async (c, g, ids: string[], o: { wait?: boolean; privateKey?: string; passwordEnv?: string }) => {
        const credential = o.privateKey
          ? { kind: 'privateKey', privateKey: fs.readFileSync(o.privateKey, 'utf8') }
          : o.passwordEnv
            ? { kind: 'password', password: process.env[o.passwordEnv] ?? '' }
            : undefined;
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/drift-repairs`, {
          instanceIds: ids,
          ...(credential ? { credential } : {}),
        });
        let tasks = r.tasks;
        const items: any[] = [];
        if (o.wait) {
          tasks = [];
          for (const t of r.tasks) {
            const done = await waitForTask(c, t.id);
            tasks.push(done);
            items.push(...(await c.request('GET', `/api/v1/tasks/${enc(t.id)}/items?limit=10000`)).items);
          }
        }
        if (g.json) printJson({ tasks, results: r.results, ...(o.wait ? { items } : {}) });
        else {
          const repairing = new Set(
            r.results.filter((x: ResultView) => x.status === 'drifted').map((x: ResultView) => x.instanceId),
          );
          const notRepaired = r.results.filter((x: ResultView) => !repairing.has(x.instanceId));
          if (tasks.length === 0) process.stdout.write('Nothing to repair.\n');
          for (const t of tasks)
            process.stdout.write(`task ${t.id}: ${t.kind} ${t.keyPairName ?? ''} on ${t.total} host(s): ${t.status}\n`);
          if (items.length > 0)
            printTable(
              ['Instance', 'Result', 'Detail'],
              items.map((i) => [i.instanceId, i.status, i.errorCode ? `${i.errorCode}: ${i.errorMessage}` : i.note]),
            );
          if (notRepaired.length > 0)
            printTable(
              ['Not repaired', 'Status', 'Why'],
              notRepaired.map((x: ResultView) => [
                `${x.name} (${x.instanceId})`,
                x.status,
                x.status === 'in-sync' ? 'already in sync' : detail(x),
              ]),
            );
        }
        if (tasks.some((t: any) => t.failed > 0)) process.exitCode = EXIT.partial;
      }),
    );
}
