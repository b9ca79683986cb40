/** Key pair commands: list, create (the private key written once), import, show, delete. */
import fs from 'node:fs';
import { type Command, Option } from 'commander';
import { DEFAULT_KEY_TYPE, KEY_TYPES } from '../../common/key-types.js';
import { type Ctx, withClient } from '../with-client.js';
import { collectTag } from './tags.js';
import { printFields, printJson, printTable } from '../output.js';
import { fillEscrowCommands, readPrivateKeyFile } from './key-pair-escrow.js';

const enc = encodeURIComponent;
/** Bound instances `kp show` lists (one per row); past that it names the command that lists them all. */
const BOUND_SHOWN = 100;

export function fillKeyPairCommands(kp: Command, ctx: Ctx): void {
  kp.command('ls')
    .description('list key pairs')
    .option('--name <pattern>', 'name, * wildcards')
    .option('--fingerprint <fp>')
    .option('--tag <key[=value]>', 'only key pairs with this tag (repeat: all must match)', collectTag)
    .option('--offset <n>', 'skip', '0')
    .option('--limit <n>', 'page size', '50')
    .action(
      withClient(
        ctx,
        async (c, g, o: { name?: string; fingerprint?: string; tag?: string[]; offset: string; limit: string }) => {
          const q = new URLSearchParams({
            offset: o.offset,
            limit: o.limit,
            ...(o.name ? { name: o.name } : {}),
            ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
          });
          for (const t of o.tag ?? []) q.append('tag', t);
          const r = await c.request('GET', `/api/v1/regions/${enc(g.region)}/key-pairs?${q}`);
          if (g.json) return printJson(r);
          printTable(
            ['Name', 'Type', 'SHA256 fingerprint', 'Created'],
            r.keyPairs.map((k: any) => [k.name, `${k.algorithm} ${k.bits}`, k.fingerprintSha256, k.createdAt]),
            `${r.total} key pair(s)`,
          );
        },
      ),
    );
  kp.command('create <name>')
    .description('create a key pair; the private key is written once to --out (mode 0600)')
    .addOption(new Option('--type <type>', 'key type').choices(KEY_TYPES).default(DEFAULT_KEY_TYPE))
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
        'Public key': r.keyPair.publicKey,
        'Bound to': r.boundCount ? `${r.boundCount} instance${r.boundCount === 1 ? '' : 's'}` : 'no instance',
      });
      if (!r.boundCount) return;
      // One bound instance per row (a long list on one line could not be read or piped): the API's exact
      // keyPairName filter, a page of up to 100; past that, the command that lists them all.
      const q = new URLSearchParams({ keyPairName: name, limit: String(BOUND_SHOWN) });
      const page = await c.request('GET', `/api/v1/regions/${enc(g.region)}/instances?${q}`);
      printTable(
        ['Instance', 'Name', 'Status', 'Expires'],
        page.instances.map((i: any) => [i.id, i.name, i.status, i.keyExpiresAt ?? 'never']),
        page.total > BOUND_SHOWN
          ? `${BOUND_SHOWN} of ${page.total} shown; all: keyfleet instances ls --key-pair ${name} --limit ${page.total}`
          : undefined,
      );
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
