/**
 * `keyfleet kp escrow …`: keep a key pair's private key sealed in keyfleet (put), write it back to a file (export,
 * which needs its own permission, keypair:ExportPrivateKey), stop keeping it (clear). With escrow, a live unbind or
 * replace sent without a credential logs in with the kept key (and the audit trail says so).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { printFields, printJson } from '../output.js';
import { type Ctx, withClient } from '../with-client.js';

const enc = encodeURIComponent;

/** Reads a private key file (- for stdin) without echoing it anywhere. */
export function readPrivateKeyFile(file: string): string {
  return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
}

export function fillEscrowCommands(kp: Command, ctx: Ctx): void {
  const escrow = kp
    .command('escrow')
    .description("keep a key pair's private key in keyfleet (sealed), export or clear it");
  escrow
    .command('put <name>')
    .description("escrow the key pair's private key; refused unless it matches the public key")
    .requiredOption('--private-key <file>', 'private key file (- for stdin)')
    .action(
      withClient(ctx, async (c, g, name: string, o: { privateKey: string }) => {
        const r = await c.request('PUT', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}/escrow`, {
          privateKey: readPrivateKeyFile(o.privateKey),
        });
        if (g.json) return printJson(r);
        printFields({ Name: r.keyPair.name, Escrow: 'private key kept (sealed)' });
      }),
    );
  escrow
    .command('export <name>')
    .description('write the escrowed private key to --out (mode 0600; needs keypair:ExportPrivateKey)')
    .requiredOption('--out <file>', 'where to write the private key (- for stdout)')
    .action(
      withClient(ctx, async (c, g, name: string, o: { out: string }) => {
        if (o.out !== '-' && fs.existsSync(o.out))
          throw new Error(`${o.out} exists; refusing to overwrite a private key file.`);
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}/escrow/export`);
        if (o.out === '-') return void process.stdout.write(r.privateKey);
        fs.writeFileSync(o.out, r.privateKey, { mode: 0o600, flag: 'wx' });
        if (g.json) return printJson({ name, privateKeyFile: o.out });
        process.stdout.write(`Wrote the escrowed private key of ${name} to ${o.out}\n`);
      }),
    );
  escrow
    .command('clear <name>')
    .description('stop keeping the private key (live changes then need a credential again)')
    .action(
      withClient(ctx, async (c, g, name: string) => {
        await c.request('DELETE', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}/escrow`);
        if (g.json) return printJson({ name, privateKeyEscrowed: false });
        process.stdout.write(`Cleared the escrowed private key of ${name}\n`);
      }),
    );
}
