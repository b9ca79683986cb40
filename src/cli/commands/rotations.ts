/**
 * Rotations in waves: start one (key pair A replaced by B on the instances bound to A), follow it with a progress
 * bar, list and show them (waves and per-machine results), pause, resume and cancel.
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { EXIT } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';
import { UsageError } from '../usage.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;

/** '90', '90s', '5m', '2h' → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a duration: use e.g. 90, 90s, 5m or 2h`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/** '5' → a count; '10%' → a percentage. */
export function parseCanary(text: string): { canary?: number; canaryPercent?: number } {
  const m = /^(\d+)(%)?$/.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a canary size: a count (5) or a percentage (10%)`);
  return m[2] ? { canaryPercent: Number(m[1]) } : { canary: Number(m[1]) };
}

const waveText = (d: any): string => {
  const running = d.waves.find((w: any) => w.status === 'running');
  const done = d.waves.filter((w: any) => w.status === 'done').length;
  return running ? `wave ${running.n}/${d.waves.length} running` : `${done}/${d.waves.length} waves done`;
};

/** Follows a rotation until it is no longer running (or paused with no wave in flight), drawing a progress bar. */
async function followRotation(c: KeyfleetClient, id: string, bar: boolean): Promise<any> {
  const progress = bar
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} machines | {failed} failed | {waves} | {status}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let d = await c.request('GET', `/api/v1/rotations/${enc(id)}`);
  const payload = (x: any) => ({ failed: x.rotation.failed, waves: waveText(x), status: x.rotation.status });
  progress?.start(d.rotation.total, d.rotation.succeeded + d.rotation.failed, payload(d));
  const inFlight = (x: any) => x.waves.some((w: any) => w.status === 'running');
  while (d.rotation.status === 'running' || inFlight(d)) {
    await new Promise((r) => setTimeout(r, 500));
    d = await c.request('GET', `/api/v1/rotations/${enc(id)}`);
    progress?.update(d.rotation.succeeded + d.rotation.failed, payload(d));
  }
  progress?.stop();
  return d;
}

function printRotation(d: any): void {
  const r = d.rotation;
  printFields({
    Rotation: r.id,
    From: r.fromKeyPairName,
    To: r.toKeyPairName,
    Mode: r.mode,
    Status: r.status,
    Reason: r.reason ?? '',
    Machines: `${r.succeeded} replaced, ${r.failed} failed, of ${r.total}`,
    Waves: `canary ${r.canarySize}, then ${r.waveSize} per wave, ${r.pauseSeconds} s apart; stop above ${r.maxFailures} failure(s) in a wave`,
    'Next wave': r.nextWaveAt ?? '',
  });
  printTable(
    ['Wave', 'Attempt', 'Size', 'Status', 'Succeeded', 'Failed', 'Task'],
    d.waves.map((w: any) => [
      w.canary ? `${w.n} (canary)` : w.n,
      w.attempt,
      w.size,
      w.status,
      w.succeeded,
      w.failed,
      w.taskId ?? '',
    ]),
  );
}

function exitCodeOf(r: any): void {
  if (r.status !== 'completed' || r.failed > 0) process.exitCode = EXIT.partial;
}

export function fillRotationCommands(rotations: Command, ctx: Ctx): void {
  rotations
    .command('start [instanceIds...]')
    .description('replace key pair --from by --to on the instances bound to it (or those given), in waves')
    .requiredOption('--from <name>', 'the key pair replaced (A)')
    .requiredOption('--to <name>', 'the key pair that replaces it (B)')
    .requiredOption('--wave-size <n>', 'machines per wave after the canary')
    .option('--canary <n|pct%>', 'the first wave: a count or a percentage of the machines', '1')
    .option('--pause <duration>', 'between waves: 90, 90s, 5m, 2h', '0')
    .option('--max-failures <n>', 'a wave with more failed machines stops the rotation', '0')
    .option('--from-file <file>', 'instance ids, one per line (- for stdin): a selection of those bound to --from')
    .option('--on-restart', 'record each change for the machine’s next start (default: live, now over SSH)')
    .option('--password-env <var>', 'live: environment variable holding the root password')
    .option('--private-key <file>', 'live: private key to log in with (kept sealed for the rotation)')
    .option('--port <port>', 'live: SSH port')
    .option('--no-wait', 'return the rotation id without following it')
    .action(
      withClient(ctx, async (c, g, ids: string[], o: Record<string, any>) => {
        const all = [
          ...ids,
          ...(o.fromFile
            ? fs
                .readFileSync(o.fromFile === '-' ? 0 : o.fromFile, 'utf8')
                .split(/\s+/)
                .filter(Boolean)
            : []),
        ];
        const credential = o.privateKey
          ? { kind: 'privateKey', privateKey: fs.readFileSync(o.privateKey, 'utf8') }
          : o.passwordEnv
            ? { kind: 'password', password: process.env[o.passwordEnv] ?? '' }
            : undefined;
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/rotations`, {
          fromKeyPairName: o.from,
          toKeyPairName: o.to,
          instanceIds: all.length ? all : undefined,
          mode: o.onRestart ? 'on-restart' : 'live',
          credential,
          port: o.port ? Number(o.port) : undefined,
          waveSize: Number(o.waveSize),
          pauseSeconds: parseDuration(o.pause),
          maxFailures: Number(o.maxFailures),
          ...parseCanary(o.canary),
        });
        if (!o.wait) return g.json ? printJson(r) : void process.stdout.write(`rotation ${r.rotation.id}\n`);
        const d = await followRotation(c, r.rotation.id, !g.json && process.stderr.isTTY);
        if (g.json) printJson(d);
        else printRotation(d);
        exitCodeOf(d.rotation);
      }),
    );
  rotations
    .command('ls')
    .option('--status <s>', 'running, paused, stopped, cancelled or completed')
    .option('--limit <n>', 'page size', '20')
    .action(
      withClient(ctx, async (c, g, o: { status?: string; limit: string }) => {
        const q = new URLSearchParams({ limit: o.limit, ...(o.status ? { status: o.status } : {}) });
        const r = await c.request('GET', `/api/v1/rotations?${q}`);
        if (g.json) return printJson(r);
        printTable(
          ['Rotation', 'From', 'To', 'Status', 'Replaced', 'Failed', 'Waves', 'Created'],
          r.rotations.map((x: any) => [
            x.id,
            x.fromKeyPairName,
            x.toKeyPairName,
            x.status,
            `${x.succeeded}/${x.total}`,
            x.failed,
            x.waveCount,
            x.createdAt,
          ]),
          `${r.total} rotation(s)`,
        );
      }),
    );
  rotations
    .command('show <id>')
    .description('the rotation, its waves and the result of each machine')
    .option('--wave <n>', 'only the machines of this wave')
    .action(
      withClient(ctx, async (c, g, id: string, o: { wave?: string }) => {
        const d = await c.request('GET', `/api/v1/rotations/${enc(id)}`);
        const q = new URLSearchParams({ limit: '1000', ...(o.wave ? { wave: o.wave } : {}) });
        const m = await c.request('GET', `/api/v1/rotations/${enc(id)}/machines?${q}`);
        if (g.json) return printJson({ ...d, machines: m.machines });
        printRotation(d);
        printTable(
          ['Instance', 'Wave', 'Result', 'Detail'],
          m.machines.map((x: any) => [
            x.instanceId,
            x.wave,
            x.status,
            x.errorCode ? `${x.errorCode}: ${x.detail}` : (x.detail ?? ''),
          ]),
          `${m.total} machine(s)`,
        );
      }),
    );
  rotations
    .command('watch <id>')
    .description('follow a rotation with a progress bar until it stops, completes, is paused or cancelled')
    .action(
      withClient(ctx, async (c, g, id: string) => {
        const d = await followRotation(c, id, !g.json && process.stderr.isTTY);
        if (g.json) printJson(d);
        else printRotation(d);
        exitCodeOf(d.rotation);
      }),
    );
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    const cmd = rotations.command(`${verb} <id>`);
    if (verb === 'pause') cmd.option('--reason <text>', 'why (kept with the rotation)');
    cmd.action(
      withClient(ctx, async (c, g, id: string, o: { reason?: string }) => {
        const r = await c.request(
          'POST',
          `/api/v1/rotations/${enc(id)}/${verb}`,
          verb === 'pause' ? { reason: o.reason } : undefined,
        );
        if (g.json) return printJson(r);
        process.stdout.write(`rotation ${r.rotation.id} ${r.rotation.status}\n`);
      }),
    );
  }
}
