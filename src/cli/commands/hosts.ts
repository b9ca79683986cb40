/**
 * `keyfleet hosts`: register existing machines as instances (ADR 9), one at a time or from an inventory file
 * (Ansible-style INI or CSV `name,address,port,user`). Import is a loop over the same register call, with one
 * result row per host; one host's failure does not stop the others.
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
// The inventory parser is shared with the web console: one pure module, allowed to both clients by dependency-cruiser.
import { parseInventory } from '../../api/native/inventory.js';
import { ApiError, type KeyfleetClient } from '../client.js';
import { EXIT } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

export { type InventoryHost, parseInventory } from '../../api/native/inventory.js';

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
    .option('--password-login <managed|unmanaged>', "managed (default): binding turns sshd password login off, unbinding on; unmanaged: keyfleet never touches sshd");
}

async function register(c: KeyfleetClient, region: string, body: Record<string, unknown>): Promise<any> {
  return c.request('POST', `/api/v1/regions/${enc(region)}/hosts`, body);
}

export function fillHostCommands(hosts: Command, ctx: Ctx): void {
  // `--login-user`, not `--user`: the global `--user` already names the keyfleet user to sign in as.
  withHostOptions(hosts.command('add <name>').description('register a host; without --host-key the key seen now is pinned and shown')
    .requiredOption('--address <address>', 'host name or IP').option('--port <n>', 'SSH port', '22').requiredOption('--login-user <user>', 'user whose authorized_keys keyfleet manages')
    .option('--home-dir <path>', "login user's home (default /root or /home/<user>)").option('--host-key <SHA256:…>', 'host key fingerprint given up front'))
    .action(withClient(ctx, async (c, g, name: string, o: HostOptions & { address: string; port: string; loginUser: string }) => {
      const body = { name, address: o.address, port: Number(o.port), loginUser: o.loginUser, ...sharedBody(o), ...(o.hostKey ? { hostKeySha256: o.hostKey } : {}), ...(o.homeDir ? { homeDir: o.homeDir } : {}) };
      const r = await register(c, g.region, body);
      if (g.json) return printJson(r);
      printFields({ ID: r.instance.id, Name: r.instance.name, SSH: `${r.instance.loginUser}@${r.instance.address}:${r.instance.sshPort}`, 'Host key': `${r.hostKeySha256}${r.pinnedOnFirstUse ? ' (pinned on first use: compare it with the host)' : ' (as given)'}`, 'Management key': r.instance.host?.hasManagementKey ? 'held, sealed' : 'none: give a credential per operation' });
    }));
  withHostOptions(hosts.command('import <inventory>').description('register every host of an Ansible-style INI or CSV (name,address,port,user) inventory; host keys are pinned on first use')
    .option('--format <csv|ini>', 'inventory format (default: by file extension)')
    .option('--parallel <n>', 'hosts contacted at once (each registration is one SSH login)', '8'))
    .action(withClient(ctx, async (c, g, file: string, o: HostOptions & { format?: string; parallel: string }) => {
      const format = o.format === 'csv' || o.format === 'ini' ? o.format : file.toLowerCase().endsWith('.csv') ? 'csv' : 'ini';
      const inventory = parseInventory(fs.readFileSync(file, 'utf8'), format);
      const shared = sharedBody(o);
      type Row = { name: string; address: string; ok: boolean; instanceId?: string; hostKeySha256?: string; error?: { code: string; message: string } };
      // Rows stay in inventory order; an unreachable host costs its timeout without holding up the others.
      const rows: Row[] = new Array(inventory.length);
      const parallel = Math.min(Math.max(1, Number(o.parallel) || 8), 64);
      const bar = !g.json && process.stderr.isTTY ? new cliProgress.SingleBar({ format: ' {bar} {value}/{total} hosts | {failed} failed', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
      bar?.start(inventory.length, 0, { failed: 0 });
      let next = 0;
      let failedSoFar = 0;
      await Promise.all(Array.from({ length: Math.min(parallel, inventory.length) }, async () => {
        while (next < inventory.length) {
          const n = next++;
          const h = inventory[n]!;
          try {
            const r = await register(c, g.region, { name: h.name, address: h.address, port: h.port, loginUser: h.user, ...shared });
            rows[n] = { name: h.name, address: `${h.address}:${h.port}`, ok: true, instanceId: r.instance.id, hostKeySha256: r.hostKeySha256 };
          } catch (err) {
            if (!(err instanceof ApiError) || err.status === 0) throw err;
            rows[n] = { name: h.name, address: `${h.address}:${h.port}`, ok: false, error: { code: err.code, message: err.message } };
            failedSoFar++;
          }
          bar?.increment(1, { failed: failedSoFar });
        }
      }));
      bar?.stop();
      const failed = rows.filter((r) => !r.ok).length;
      if (g.json) printJson({ hosts: rows, registered: rows.length - failed, failed });
      else printTable(['Name', 'Address', 'Result', 'Host key (pinned)'], rows.map((r) => [r.name, r.address, r.ok ? r.instanceId : `${r.error!.code}: ${r.error!.message}`, r.hostKeySha256]), `${rows.length - failed} registered, ${failed} failed`);
      if (failed > 0) process.exitCode = EXIT.partial;
    }));
}
