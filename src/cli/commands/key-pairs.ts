/** Key pair commands: list, create (the private key written once), import, show, delete. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { type Ctx, withClient } from '../with-client.js';
import { printFields, printJson, printTable } from '../output.js';
import { fillEscrowCommands, readPrivateKeyFile } from './key-pair-escrow.js';

const enc = encodeURIComponent;

export function fillKeyPairCommands(kp: Command, ctx: Ctx): void {
  kp.command('ls')
    .description('list key pairs')
    .option('--name <pattern>', 'name, * wildcards')
    .option('--fingerprint <fp>')
    .option('--offset <n>', 'skip', '0')
    .option('--limit <n>', 'page size', '50')
    .action(
      withClient(ctx, async (c, g, o: { name?: string; fingerprint?: string; offset: string; limit: string }) => {
        const q = new URLSearchParams({
          offset: o.offset,
          limit: o.limit,
          ...(o.name ? { name: o.name } : {}),
          ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
        });
        const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/key-pairs?${q}`);
        if (g.json) return printJson(r);
        printTable(
          ['Name', 'Type', 'SHA256 fingerprint', 'Created'],
          r.keyPairs.map((k: any) => [k.name, `${k.algorithm} ${k.bits}`, k.fingerprintSha256, k.createdAt]),
          `${r.total} key pair(s)`,
        );
      }),
    );
  kp.command('create <name>')
    .description('create a key pair; the private key is written once to --out (mode 0600)')
    .option('--type <rsa|ed25519>', 'key type', 'rsa')
    .requiredOption('--out <file>', 'where to write the private key')
    .option('--escrow', 'also keep the private key in keyfleet, sealed (kp escrow export|clear)')
    .action(
      withClient(ctx, async (c, g, name: string, o: { type: string; out: string; escrow?: boolean }) => {
        if (fs.existsSync(o.out)) throw new Error(`${o.out} exists; refusing to overwrite a private key file.`);
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/key-pairs`, {
          name,
          type: o.type,
          ...(o.escrow ? { escrow: true } : {}),
        });
        fs.writeFileSync(o.out, r.privateKey, { mode: 0o600, flag: 'wx' });
        if (g.json) return printJson({ keyPair: r.keyPair, privateKeyFile: o.out });
        printFields({
          ...keyPairFields(r.keyPair),
          'Private key': r.keyPair.privateKeyEscrowed
            ? `${o.out} (also kept by keyfleet, sealed)`
            : `${o.out} (shown once, not kept by keyfleet)`,
        });
      }),
    );
  kp.command('import <name>')
    .description('import an OpenSSH public key')
    .requiredOption('--public-key <file>', 'public key file (- for stdin)')
    .option('--private-key <file>', 'escrow the matching private key too (kept sealed)')
    .action(
      withClient(ctx, async (c, g, name: string, o: { publicKey: string; privateKey?: string }) => {
        const text = fs.readFileSync(o.publicKey === '-' ? 0 : o.publicKey, 'utf8');
        const r = await c.request('POST', `/api/v1/regions/${enc(g.region)}/key-pairs`, {
          name,
          publicKey: text.trim(),
          ...(o.privateKey ? { privateKey: readPrivateKeyFile(o.privateKey) } : {}),
        });
        if (g.json) return printJson(r);
        printFields(keyPairFields(r.keyPair));
      }),
    );
  kp.command('show <name>').action(
    withClient(ctx, async (c, g, name: string) => {
      const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}`);
      if (g.json) return printJson(r);
      printFields({
        ...keyPairFields(r.keyPair),
        'Bound to': r.boundCount ? `${r.boundCount}: ${r.boundInstances.join(', ')}` : 'no instance',
        'Public key': r.keyPair.publicKey,
      });
    }),
  );
  kp.command('delete <name>')
    .description('delete a key pair (refused while bound)')
    .action(
      withClient(ctx, async (c, g, name: string) => {
        await c.request('DELETE', `/api/v1/regions/${enc(g.region)}/key-pairs/${enc(name)}`);
        if (g.json) return printJson({ deleted: name });
        process.stdout.write(`Deleted key pair ${name}\n`);
      }),
    );
  fillEscrowCommands(kp, ctx);
}

/** What every key pair answer shows first: its name, type and both fingerprints. */
function keyPairFields(kp: any): Record<string, string> {
  return {
    Name: kp.name,
    Type: `${kp.algorithm} ${kp.bits}`,
    SHA256: kp.fingerprintSha256,
    MD5: kp.fingerprintMd5,
    Escrow: kp.privateKeyEscrowed ? 'private key kept (sealed)' : 'no',
  };
}
