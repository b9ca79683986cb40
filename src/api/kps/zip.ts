/**
 * BatchExportPrivateKey answers with a zip archive (API.md §5: the documented response is "keypairs.zip"). One
 * `<name>.pem` file per key pair, as the console's download names a private key. Built in memory: at most ten keys.
 */
import { zipSync } from 'fflate';

export function zipPrivateKeys(keys: ReadonlyArray<{ name: string; privateKey: string }>): Buffer {
  const files: Record<string, Uint8Array> = {};
  for (const k of keys)
    files[`${k.name}.pem`] = new TextEncoder().encode(k.privateKey.endsWith('\n') ? k.privateKey : `${k.privateKey}\n`);
  return Buffer.from(zipSync(files, { level: 6 }));
}
