/**
 * CreateKeypair is two operations in one (API.md §3.1): with `public_key` it imports, without it keyfleet generates
 * an RSA 2048 key pair (Huawei's default) and returns the private key once. `key_protection` asks for escrow: the
 * imported private key, or the generated one, is sealed by the core with the configured key-encryption key
 * (envelope encryption); `encryption.type`/`kms_key_name` are accepted for compatibility and do not change that.
 */
import type { Static } from 'typebox';
import type { Caller } from '../../core/caller.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/index.js';
import type { KeyPair } from '../../core/keypair/keypair.js';
import type { CreateKeypairAction } from './schemas.js';

export interface CreatedKeyPair {
  keyPair: KeyPair;
  /** Only when keyfleet generated the key. */
  privateKey?: string;
}

export async function createOrImportKeyPair(
  core: Core,
  caller: Caller,
  regionId: string,
  action: Static<typeof CreateKeypairAction>,
): Promise<CreatedKeyPair> {
  if (action.type === 'x509') {
    throw new CoreError('Input.Invalid', "Key pairs of type 'x509' are not supported; use type 'ssh'.", {
      parameter: 'type',
    });
  }
  const escrowed = action.key_protection?.private_key;
  if (action.public_key !== undefined) {
    const keyPair = await core.keyPairs.import(caller, {
      regionId,
      name: action.name,
      publicKey: action.public_key,
      privateKey: escrowed,
    });
    return { keyPair };
  }
  if (escrowed !== undefined) {
    throw new CoreError(
      'Input.Missing',
      'Give public_key together with key_protection.private_key: importing a key pair needs its public key.',
      { parameter: 'public_key' },
    );
  }
  const { keyPair, privateKey } = await core.keyPairs.create(caller, {
    regionId,
    name: action.name,
    type: 'rsa',
    escrow: action.key_protection !== undefined,
  });
  return { keyPair, privateKey };
}
