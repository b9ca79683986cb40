/**
 * `keyfleet hosts`: register existing machines as instances (ADR 9), one at a time or from an inventory file
 * (Ansible-style INI or CSV `name,address,port,user`). An import is one server task (POST /hosts/imports): the
 * server reads and checks the inventory, registers each host as one item, and this command follows the task and
 * prints one result row per host; one host's failure does not stop the others.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { KeyfleetClient } from '../client.js';
import { followTask } from '../follow-task.js';
import { EXIT } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;

interface HostOptions {
  managementKey?: string;
  managementUser?: string;
  hostKey?: string;
  homeDir?: string;
  dropIn?: string;
  reloadCommand?: string;
  validateCommand?: string;
  passwordLogin?: string;
  sudo?: boolean;
}

function sharedBody(o: HostOptions): Record<string, string | boolean> {
  const body: Record<string, string | boolean> = {};
  if (o.managementKey) body.managementPrivateKey = fs.readFileSync(o.managementKey, 'utf8');
  if (o.managementUser) body.managementUser = o.managementUser;
  if (o.dropIn) body.dropInPath = o.dropIn;
  if (o.reloadCommand) body.reloadCommand = o.reloadCommand;
  if (o.validateCommand) body.validateCommand = o.validateCommand;
  if (o.passwordLogin) body.passwordLogin = o.passwordLogin;
  if (o.sudo) body.sudo = true;
  return body;
}

function withHostOptions(cmd: Command): Command {
  return cmd
    .option('--management-key <file>', 'private key keyfleet keeps (sealed) and logs in with')
    .option('--management-user <user>', 'user keyfleet logs in as (default: the login user)')
    .option('--drop-in <path>', 'sshd drop-in keyfleet writes (default /etc/ssh/sshd_config.d/10-keyfleet.conf)')
    .option('--reload-command <cmd>', 'how sshd is reloaded (default: systemctl reload ssh)')
    .option('--validate-command <cmd>', 'how sshd config is checked before a reload (default: sshd -t)')
    .option('--sudo', 'the management user is not root: run file operations and commands through sudo -n')
    .option(
      '--password-login <managed|unmanaged>',
      'managed (default): binding turns sshd password login off, unbinding on; unmanaged: keyfleet never touches sshd',
    );
}

async function register(c: KeyfleetClient, region: string, body: Record<string, unknown>): Promise<any> {
  return c.request('POST', `/api/v1/regions/${enc(region)}/hosts`, body);
}

export function fillHostCommands(hosts: Command, ctx: Ctx): void {
  // `--login-user`, not `--user`: the global `--user` already names the keyfleet user to sign in as.
  withHostOptions(
    hosts
      .command('add <name>')
      .description('register a host; without --host-key the key seen now is pinned and shown')
      .requiredOption('--address <address>', 'host name or IP')
      .option('--port <n>', 'SSH port', '22')
      .requiredOption('--login-user <user>', 'user whose authorized_keys keyfleet manages')
      .option('--home-dir <path>', "login user's home (default /root or /home/<user>)")
      .option('--host-key <SHA256:…>', 'host key fingerprint given up front'),
  ).action(
    withClient(
      ctx,
      async (c, g, name: string, o: HostOptions & { address: string; port: string; loginUser: string }) => {
        const body = {
          name,
          address: o.address,
          port: Number(o.port),
          loginUser: o.loginUser,
          ...sharedBody(o),
          ...(o.hostKey ? { hostKeySha256: o.hostKey } : {}),
          ...(o.homeDir ? { homeDir: o.homeDir } : {}),
        };
        const r = await register(c, g.region, body);
        if (g.json) return printJson(r);
        printFields({
          ID: r.instance.id,
          Name: r.instance.name,
          SSH: `${r.instance.loginUser}@${r.instance.address}:${r.instance.sshPort}`,
          'Host key': `${r.hostKeySha256}${r.pinnedOnFirstUse ? ' (pinned on first use: compare it with the host)' : ' (as given)'}`,
          'Management key': r.instance.host?.hasManagementKey
            ? 'held, sealed'
            : 'none: give a credential per operation',
        });
      },
    ),
  );
  withHostOptions(
    hosts
      .command('import <inventory>')
      .description(
        'register every host of an Ansible-style INI or CSV (name,address,port,user) inventory as one server task; host keys are pinned on first use',
      )
      .option('--format <csv|ini>', 'inventory format (default: by file extension, else detected by the server)')
      .option(
        '--login-user <user>',
        'user whose authorized_keys keyfleet manages, for lines that name none (default root)',
      ),
  ).action(
    withClient(ctx, async (c, g, file: string, o: HostOptions & { format?: string; loginUser?: string }) => {
      const format =
        o.format === 'csv' || o.format === 'ini'
          ? o.format
          : file.toLowerCase().endsWith('.csv')
            ? 'csv'
            : file.toLowerCase().endsWith('.ini')
              ? 'ini'
              : 'auto';
      const { managementPrivateKey, ...defaults } = sharedBody(o);
      // The server reads and checks every line first: a bad line refuses the whole inventory, listing each bad line.
      const submitted = await c.request('POST', '/api/v1/hosts/imports', {
        regionId: g.region,
        inventory: fs.readFileSync(file, 'utf8'),
        format,
        ...(managementPrivateKey ? { managementPrivateKey } : {}),
        defaults: { ...defaults, ...(o.loginUser ? { loginUser: o.loginUser } : {}) },
      });
      const task = await followTask(c, submitted.task, !g.json && process.stderr.isTTY, 'hosts');
      const items: any[] = (await c.request('GET', `/api/v1/tasks/${enc(task.id)}/items?limit=1000`)).items;
      type Row = {
        name: string;
        address: string;
        line: number;
        ok: boolean;
        instanceId?: string;
        hostKeySha256?: string;
        error?: { code: string; message: string };
      };
      const rows: Row[] = items.map((i) => ({
        name: i.host.name,
        address: `${i.host.address}:${i.host.port}`,
        line: i.host.line,
        ok: i.status === 'succeeded',
        ...(i.status === 'succeeded'
          ? { instanceId: i.instanceId, hostKeySha256: i.host.hostKeySha256 }
          : { error: { code: i.errorCode, message: i.errorMessage } }),
      }));
      if (g.json) printJson({ task, hosts: rows, registered: task.succeeded, failed: task.failed });
      else
        printTable(
          ['Name', 'Address', 'Result', 'Host key (pinned)'],
          rows.map((r) => [
            r.name,
            r.address,
            r.ok ? r.instanceId : `${r.error!.code}: ${r.error!.message}`,
            r.hostKeySha256,
          ]),
          `task ${task.id}: ${task.succeeded} registered, ${task.failed} failed`,
        );
      if (task.failed > 0) process.exitCode = EXIT.partial;
    }),
  );
}
