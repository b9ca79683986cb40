/** Client commands: key pairs, instances, bind/unbind and tasks, against a running keyfleet. */
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { type Ctx, withClient } from '../with-client.js';
import { EXIT } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';

const enc = encodeURIComponent;

export function fillKeyPairCommands(kp: Command, ctx: Ctx): void {
  kp.command('ls').description('list key pairs').option('--name <pattern>', 'name, * wildcards').option('--fingerprint <fp>').option('--offset <n>', 'skip', '0').option('--limit <n>', 'page size', '50')
    .action(withClient(ctx, async (c, g, o: { name?: string; fingerprint?: string; offset: string; limit: string }) => {
      const q = new URLSearchParams({ offset: o.offset, limit: o.limit, ...(o.name ? { name: o.name } : {}), ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}) });
      const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/key-pairs?${q}`);
      if (g.json) return printJson(r);
      printTable(['Name', 'Type', 'SHA256 fingerprint', 'Created'], r.keyPairs.map((k: any) => [k.name, `${k.algorithm} ${k.bits}`, k.fingerprintSha256, k.createdAt]), `${r.total} key pair(s)`);
    }));
  kp.command('create <name>').description('create a key pair; the private key is written once to --out (mode 0600)').option('--type <rsa|ed25519>', 'key type', 'rsa').requiredOption('--out <file>', 'where to write the private key')
    .action(withClient(ctx, async (c, g, name: string, o: { type: string; out: string }) => {
      if (fs.existsSync(o.out)) throw new Error(`${o.out} exists; refusing to overwrite a private key file.`);
      const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/key-pairs`, { name, type: o.type });
      fs.writeFileSync(o.out, r.privateKey, { mode: 0o600, flag: 'wx' });
      if (g.json) return printJson({ keyPair: r.keyPair, privateKeyFile: o.out });
      printFields({ Name: r.keyPair.name, Type: `${r.keyPair.algorithm} ${r.keyPair.bits}`, SHA256: r.keyPair.fingerprintSha256, MD5: r.keyPair.fingerprintMd5, 'Private key': `${o.out} (shown once, not kept by keyfleet)` });
    }));
  kp.command('import <name>').description('import an OpenSSH public key').requiredOption('--public-key <file>', 'public key file (- for stdin)')
    .action(withClient(ctx, async (c, g, name: string, o: { publicKey: string }) => {
      const text = fs.readFileSync(o.publicKey === '-' ? 0 : o.publicKey, 'utf8');
      const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/key-pairs`, { name, publicKey: text.trim() });
      if (g.json) return printJson(r);
      printFields({ Name: r.keyPair.name, Type: `${r.keyPair.algorithm} ${r.keyPair.bits}`, SHA256: r.keyPair.fingerprintSha256, MD5: r.keyPair.fingerprintMd5 });
    }));
  kp.command('show <name>').action(withClient(ctx, async (c, g, name: string) => {
    const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}`);
    if (g.json) return printJson(r);
    printFields({ Name: r.keyPair.name, Type: `${r.keyPair.algorithm} ${r.keyPair.bits}`, SHA256: r.keyPair.fingerprintSha256, MD5: r.keyPair.fingerprintMd5, 'Bound to': r.boundCount ? `${r.boundCount}: ${r.boundInstances.join(', ')}` : 'no instance', 'Public key': r.keyPair.publicKey });
  }));
  kp.command('delete <name>').description('delete a key pair (refused while bound)').action(withClient(ctx, async (c, g, name: string) => {
    await c.request('DELETE', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}`);
    if (g.json) return printJson({ deleted: name });
    process.stdout.write(`Deleted key pair ${name}\n`);
  }));
}

export function fillInstanceCommands(inst: Command, ctx: Ctx): void {
  inst.command('ls').option('--status <status>').option('--search <text>').option('--key-pair <name>').option('--pending-restart').option('--offset <n>', 'skip', '0').option('--limit <n>', 'page size', '50')
    .action(withClient(ctx, async (c, g, o: { status?: string; search?: string; keyPair?: string; pendingRestart?: boolean; offset: string; limit: string }) => {
      const q = new URLSearchParams({ offset: o.offset, limit: o.limit });
      if (o.status) q.set('status', o.status);
      if (o.search) q.set('search', o.search);
      if (o.keyPair) q.set('keyPairName', o.keyPair);
      if (o.pendingRestart) q.set('pendingRestart', 'true');
      const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/instances?${q}`);
      if (g.json) return printJson(r);
      printTable(['ID', 'Name', 'Status', 'OS', 'SSH', 'Key pair', 'Restart needed'], r.instances.map((i: any) => [i.id, i.name, i.status, i.osType, i.osType === 'linux' ? `${i.address}:${i.sshPort}` : '-', i.keyPairName, i.pendingRestart ? 'yes' : '']), `${r.total} instance(s)`);
    }));
  inst.command('run').description('create instances').requiredOption('--image <id>').option('--type <instanceType>').option('--amount <n>', 'how many', '1').option('--name <name>').option('--key-pair <name>').option('--no-start', 'create stopped')
    .action(withClient(ctx, async (c, g, o: { image: string; type?: string; amount: string; name?: string; keyPair?: string; start: boolean }) => {
      const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/instances`, { imageId: o.image, instanceType: o.type, amount: Number(o.amount), name: o.name, keyPairName: o.keyPair, password: process.env.KEYFLEET_INSTANCE_PASSWORD, start: o.start });
      if (g.json) return printJson(r);
      process.stdout.write(r.instanceIds.join('\n') + '\n');
    }));
  inst.command('show <id>').action(withClient(ctx, async (c, g, id: string) => {
    const r = await c.request('GET', `/api/v1/instances/${enc(id)}`);
    if (g.json) return printJson(r);
    const i = r.instance;
    printFields({ ID: i.id, Name: i.name, Status: i.status, OS: i.osName, SSH: `ssh -p ${i.sshPort} ${i.loginUser}@${i.address}`, 'Key pair': i.keyPairName, 'Password login': i.passwordLogin, 'Restart needed': i.pendingRestart, 'Host key': i.hostKeySha256 });
  }));
  for (const [name, path] of [['start', 'start'], ['stop', 'stop'], ['restart', 'restart']] as const) {
    inst.command(`${name} <id>`).option('--wait', 'wait until the instance is Running/Stopped').action(withClient(ctx, async (c, g, id: string, o: { wait?: boolean }) => {
      let r = await c.request('POST', `/api/v1/instances/${enc(id)}/${path}`);
      while (o.wait && ['Pending', 'Starting', 'Stopping'].includes(r.instance.status)) {
        await new Promise((res) => setTimeout(res, 200));
        r = await c.request('GET', `/api/v1/instances/${enc(id)}`);
      }
      if (g.json) return printJson(r);
      process.stdout.write(`${id}: ${r.instance.status}\n`);
    }));
  }
  inst.command('reset-password <id>').description('new root password from KEYFLEET_INSTANCE_PASSWORD; takes effect at the next start/restart')
    .action(withClient(ctx, async (c, g, id: string) => {
      const password = process.env.KEYFLEET_INSTANCE_PASSWORD;
      if (!password) throw new Error('Set KEYFLEET_INSTANCE_PASSWORD (passwords are not taken on the command line).');
      const r = await c.request('POST', `/api/v1/instances/${enc(id)}/reset-password`, { password });
      if (g.json) return printJson(r);
      process.stdout.write(`${id}: password set; restart the instance for it to take effect\n`);
    }));
  inst.command('delete <id>').option('--force').action(withClient(ctx, async (c, g, id: string, o: { force?: boolean }) => {
    await c.request('DELETE', `/api/v1/instances/${enc(id)}${o.force ? '?force=true' : ''}`);
    if (g.json) return printJson({ deleted: id });
    process.stdout.write(`Deleted instance ${id}\n`);
  }));
}

/** `bind` and `unbind`: the same options, the action named by the command. */
export function fillBindCommand(cmd: Command, ctx: Ctx): void {
  const action = cmd.name() as 'bind' | 'unbind';
  cmd
    .option('--key-pair <name>', 'key pair name')
    .option('--from-file <file>', 'instance ids, one per line (- for stdin)')
    .option('--live', 'apply now over SSH and verify by login (default: at next restart)')
    .option('--password-env <var>', 'live: environment variable holding the root password')
    .option('--private-key <file>', 'live: private key of the key pair bound now')
    .option('--port <port>', 'live: SSH port')
    .option('--no-verify', 'live: skip the fresh login that proves each change (one SSH connection per host)')
    .option('--dry-run', 'show per instance what would change; change nothing')
    .option('--no-wait', 'return the task id without waiting')
    .action(withClient(ctx, async (c, g, ids: string[], o: { keyPair?: string; fromFile?: string; live?: boolean; passwordEnv?: string; privateKey?: string; port?: string; verify: boolean; dryRun?: boolean; wait: boolean }) => {
      const all = [...ids, ...(o.fromFile ? fs.readFileSync(o.fromFile === '-' ? 0 : o.fromFile, 'utf8').split(/\s+/).filter(Boolean) : [])];
      const credential = o.privateKey ? { kind: 'privateKey', privateKey: fs.readFileSync(o.privateKey, 'utf8') } : o.passwordEnv ? { kind: 'password', password: process.env[o.passwordEnv] ?? '' } : undefined;
      const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/bindings`, {
        action,
        keyPairName: o.keyPair,
        instanceIds: all,
        mode: o.live ? 'live' : 'on-restart',
        credential,
        port: o.port ? Number(o.port) : undefined,
        verify: o.verify === false ? false : undefined,
        dryRun: o.dryRun || undefined,
      });
      let task = r.task;
      if (!o.wait) return g.json ? printJson(r) : void process.stdout.write(`task ${task.id}\n`);
      task = await follow(c, task, !g.json && process.stderr.isTTY);
      const items = await c.request('GET', `/api/v1/tasks/${task.id}/items?limit=10000`);
      if (g.json) printJson({ task, items: items.items });
      else {
        const failed = items.items.filter((i: any) => i.status === 'failed');
        printTable(['Instance', 'Result', 'Detail'], items.items.slice(0, 200).map((i: any) => [i.instanceId, i.status, i.errorCode ? `${i.errorCode}: ${i.errorMessage}` : i.note]),
          `task ${task.id}: ${task.succeeded} succeeded, ${task.failed} failed of ${task.total}${failed.length ? '' : ''}`);
      }
      if (task.failed > 0) process.exitCode = EXIT.partial;
    }));
}

export function fillTaskCommands(tasks: Command, ctx: Ctx): void {
  tasks.command('ls').option('--status <s>').option('--limit <n>', 'page size', '20').action(withClient(ctx, async (c, g, o: { status?: string; limit: string }) => {
    const q = new URLSearchParams({ limit: o.limit, ...(o.status ? { status: o.status } : {}) });
    const r = await c.request('GET', `/api/v1/tasks?${q}`);
    if (g.json) return printJson(r);
    printTable(['Task', 'Kind', 'Mode', 'Key pair', 'Status', 'Done', 'Created'], r.tasks.map((t: any) => [t.id, t.kind, t.mode, t.keyPairName, t.status, `${t.succeeded + t.failed}/${t.total}`, t.createdAt]), `${r.total} task(s)`);
  }));
  tasks.command('show <id>').action(withClient(ctx, async (c, g, id: string) => {
    const t = await c.request('GET', `/api/v1/tasks/${enc(id)}`);
    const items = await c.request('GET', `/api/v1/tasks/${enc(id)}/items?limit=10000`);
    if (g.json) return printJson({ ...t, items: items.items });
    printFields({ Task: t.task.id, Kind: t.task.kind, Mode: t.task.mode, 'Key pair': t.task.keyPairName, Status: t.task.status, Succeeded: t.task.succeeded, Failed: t.task.failed, Total: t.task.total });
    printTable(['Instance', 'Result', 'Detail'], items.items.slice(0, 200).map((i: any) => [i.instanceId, i.status, i.errorCode ? `${i.errorCode}: ${i.errorMessage}` : i.note]));
  }));
  tasks.command('wait <id>').action(withClient(ctx, async (c, g, id: string) => {
    const t = await c.request('GET', `/api/v1/tasks/${enc(id)}`);
    const done = await follow(c, t.task, !g.json && process.stderr.isTTY);
    if (g.json) printJson({ task: done });
    else process.stdout.write(`task ${done.id}: ${done.status} (${done.succeeded} succeeded, ${done.failed} failed)\n`);
    if (done.failed > 0) process.exitCode = EXIT.partial;
  }));
}

/**
 * Follows a task until it finishes, drawing a progress bar on a terminal: from the server's progress stream, or by
 * polling when the stream ends early (a proxy that buffers or cuts it).
 */
async function follow(c: KeyfleetClient, task: any, bar: boolean): Promise<any> {
  const progress = bar ? new cliProgress.SingleBar({ format: ' {bar} {value}/{total} instances | {failed} failed | {status}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  progress?.start(task.total, task.succeeded + task.failed, { failed: task.failed, status: task.status });
  let t = task;
  const show = (x: any) => progress?.update(x.succeeded + x.failed, { failed: x.failed, status: x.status });
  await c.stream(`/api/v1/tasks/${task.id}/progress`, (_event, data) => {
    if (data?.task) {
      t = data.task;
      show(t);
    }
  }).catch(() => undefined);
  while (!t.finishedAt) {
    await new Promise((r) => setTimeout(r, 250));
    t = (await c.request('GET', `/api/v1/tasks/${task.id}`)).task;
    show(t);
  }
  progress?.stop();
  return t;
}
