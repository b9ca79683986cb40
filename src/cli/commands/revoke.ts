/**
 * `keyfleet revoke`: take a key away from every managed machine of the region and show the report that proves it.
 * `plan` reads every machine and stores the plan (nothing changes); `apply` carries it out; `show` prints the
 * report as a table, JSON or CSV, and its exit code says whether every machine refused the key.
 */
import fs from 'node:fs';
import { type Command, Option } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { EXIT } from '../options.js';
import { printJson, printTable } from '../output.js';
import { UsageError } from '../usage.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;
const PAGE = 1000;

const SHOW_EXIT_CODES = `
Exit codes:
  0  every machine refuses the key (proven by a publickey query)
  1  some machine failed (the report says why), or an error from the server
  3  not finished: machines are still pending or unreachable (retried until the deadline)
  4  server unreachable`;

interface Revocation {
  id: string;
  status: string;
  target: { kind: string; keyPairName?: string; fingerprint?: string };
  key: { type: string; fingerprintSha256: string; fingerprintMd5: string };
  keyPairNames: string[];
  includeUnmanaged: boolean;
  retryUntil: string | null;
  machineCount: number;
  counts: Record<string, number>;
  createdAt: string;
  finishedAt: string | null;
}

interface Machine {
  instanceId: string;
  name: string;
  backend: string;
  address: string;
  sshPort: number;
  boundKeyPairName: string | null;
  copies: Array<{ account: string; user: string; path: string; line: number; inBlock: boolean }>;
  scanError: string | null;
  state: string;
  outcome: string;
  detail: string | null;
}

/** Parses '90s', '30m', '8h', '2d' (or plain seconds). */
export function durationSeconds(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a duration (e.g. 90s, 30m, 8h, 2d)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

async function allMachines(c: KeyfleetClient, id: string): Promise<{ revocation: Revocation; machines: Machine[] }> {
  const machines: Machine[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await c.request('GET', `/api/v1/revocations/${enc(id)}/machines?offset=${offset}&limit=${PAGE}`);
    machines.push(...page.machines);
    if (page.machines.length < PAGE) return { revocation: page.revocation, machines };
  }
}

function summary(r: Revocation): string {
  const c = r.counts;
  const what = r.keyPairNames.length > 0 ? `key pair ${r.keyPairNames.join(', ')}` : r.key.type;
  const head = `revocation ${r.id} (${r.status}) of ${what} ${r.key.fingerprintSha256}: ${r.machineCount} machine(s)`;
  if (r.status === 'planned') return head;
  const until = r.retryUntil ? `, retrying until ${r.retryUntil}` : '';
  return `${head}: ${c.refused ?? 0} refused, ${c.unreachable ?? 0} unreachable${until}, ${c.pending ?? 0} pending, ${c.failed ?? 0} failed, ${c.skipped ?? 0} skipped`;
}

function copiesText(m: Machine): string {
  const where = m.copies.map((c) => `${c.user} line ${c.line}${c.inBlock ? " (keyfleet's block)" : ''}`);
  return where.join('\n') || (m.scanError ? `not read: ${m.scanError}` : '-');
}

function printPlan(r: Revocation, machines: Machine[]): void {
  const interesting = machines.filter(
    (m) => m.boundKeyPairName || m.copies.length > 0 || m.scanError || m.state === 'skipped',
  );
  printTable(
    ['Machine', 'Bound', 'Copies', 'State'],
    interesting.map((m) => [
      `${m.name} (${m.instanceId})\n${m.address}:${m.sshPort}`,
      m.boundKeyPairName ?? '-',
      copiesText(m),
      m.outcome,
    ]),
    `${summary(r)}; ${machines.length - interesting.length} machine(s) without the key not shown`,
  );
}

function printReport(r: Revocation, machines: Machine[]): void {
  printTable(
    ['Machine', 'Address', 'Outcome'],
    machines.map((m) => [`${m.name} (${m.instanceId})`, `${m.address}:${m.sshPort}`, m.outcome]),
    summary(r),
  );
}

function exitCodeOf(r: Revocation): number {
  if ((r.counts.failed ?? 0) > 0) return EXIT.error;
  if (r.status !== 'finished') return EXIT.partial;
  return EXIT.ok;
}

export function fillRevokeCommands(revoke: Command, ctx: Ctx): void {
  revoke
    .command('plan')
    .description(
      "read every registered host and simulated instance of the region (the managed user's and root's authorized_keys) and store a plan: where the key is bound and every line that authorises it; changes nothing",
    )
    .option('--key-pair <name>', 'the key pair to revoke')
    .option('--fingerprint <fp>', 'the key by fingerprint: SHA256:… or MD5:aa:bb:… as ssh-keygen -l prints it')
    .option('--public-key <file>', "the key by its public key line (a key keyfleet never bound, too); '-' reads stdin")
    .action(
      withClient(ctx, async (c, g, o: { keyPair?: string; fingerprint?: string; publicKey?: string }) => {
        const body = o.keyPair
          ? { keyPairName: o.keyPair }
          : o.fingerprint
            ? { fingerprint: o.fingerprint }
            : o.publicKey
              ? { publicKey: fs.readFileSync(o.publicKey === '-' ? 0 : o.publicKey, 'utf8').trim() }
              : {};
        const { revocation } = await c.request('POST', `/api/v1/regions/${enc(g.region)}/revocations`, body);
        const { machines } = await allMachines(c, revocation.id);
        if (g.json) printJson({ revocation, machines });
        else {
          printPlan(revocation, machines);
          process.stdout.write(`apply with: keyfleet revoke apply ${revocation.id} [--include-unmanaged]\n`);
        }
      }),
    );

  revoke
    .command('apply <revocationId>')
    .description(
      "apply a plan: a live unbind where the key is bound; with --include-unmanaged, lines outside keyfleet's block that authorise it are removed (every other line kept byte for byte); each machine is then asked whether it still accepts the key; unreachable machines are retried until the deadline",
    )
    .option('--include-unmanaged', "also remove copies outside keyfleet's block (hand-added lines)")
    .option('--retry-until <time>', 'retry unreachable machines until this ISO 8601 time')
    .option('--retry-for <duration>', 'retry unreachable machines for this long (90s, 30m, 8h, 2d; default 24h)')
    .option('--private-key <file>', "running simulated instances where the key is bound: the key pair's private key")
    .option(
      '--password-env <var>',
      'running simulated instances where the key is bound: variable holding the root password',
    )
    .option('--wait', 'wait until the revocation finishes and print the report')
    .addHelpText('after', SHOW_EXIT_CODES)
    .action(
      withClient(
        ctx,
        async (
          c,
          g,
          id: string,
          o: {
            includeUnmanaged?: boolean;
            retryUntil?: string;
            retryFor?: string;
            privateKey?: string;
            passwordEnv?: string;
            wait?: boolean;
          },
        ) => {
          const credential = o.privateKey
            ? { kind: 'privateKey', privateKey: fs.readFileSync(o.privateKey, 'utf8') }
            : o.passwordEnv
              ? { kind: 'password', password: process.env[o.passwordEnv] ?? '' }
              : undefined;
          let { revocation } = await c.request('POST', `/api/v1/revocations/${enc(id)}/apply`, {
            includeUnmanaged: o.includeUnmanaged === true,
            ...(o.retryUntil ? { retryUntil: o.retryUntil } : {}),
            ...(o.retryFor ? { retryForSeconds: durationSeconds(o.retryFor) } : {}),
            ...(credential ? { credential } : {}),
          });
          if (o.wait) {
            while (revocation.status !== 'finished') {
              await new Promise((r) => setTimeout(r, 500));
              revocation = (await c.request('GET', `/api/v1/revocations/${enc(id)}`)).revocation;
            }
            const { machines } = await allMachines(c, id);
            if (g.json) printJson({ revocation, machines });
            else printReport(revocation, machines);
          } else if (g.json) printJson({ revocation });
          else process.stdout.write(`${summary(revocation)}\nreport: keyfleet revoke show ${revocation.id}\n`);
          process.exitCode = exitCodeOf(revocation);
        },
      ),
    );

  revoke
    .command('show <revocationId>')
    .description(
      'the plan or the report: per machine refused (verified at …), unreachable (retrying until …) or failed (why)',
    )
    .addOption(new Option('--output <format>', 'table, json or csv').choices(['table', 'json', 'csv']).default('table'))
    .addHelpText('after', SHOW_EXIT_CODES)
    .action(
      withClient(ctx, async (c, g, id: string, o: { output: 'table' | 'json' | 'csv' }) => {
        const format = g.json ? 'json' : o.output;
        if (format === 'csv') {
          process.stdout.write(await c.text(`/api/v1/revocations/${enc(id)}/report?format=csv`));
          const { revocation } = await c.request('GET', `/api/v1/revocations/${enc(id)}`);
          process.exitCode = exitCodeOf(revocation);
          return;
        }
        const { revocation, machines } = await allMachines(c, id);
        if (format === 'json') printJson({ revocation, machines });
        else if (revocation.status === 'planned') printPlan(revocation, machines);
        else printReport(revocation, machines);
        process.exitCode = exitCodeOf(revocation);
      }),
    );

  revoke
    .command('list')
    .description('revocations of the region, newest first')
    .action(
      withClient(ctx, async (c, g) => {
        const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/revocations?limit=100`);
        if (g.json) printJson(r);
        else
          printTable(
            ['Id', 'Status', 'Key', 'Machines', 'Refused', 'Unreachable', 'Failed', 'Created'],
            r.revocations.map((x: Revocation) => [
              x.id,
              x.status,
              x.keyPairNames.join(', ') || x.key.fingerprintSha256,
              x.machineCount,
              x.counts.refused,
              x.counts.unreachable,
              x.counts.failed,
              x.createdAt,
            ]),
          );
      }),
    );
}
