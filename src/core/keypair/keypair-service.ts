import type { Caller } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { Page, SecretBox, Store } from '../ports.js';
import { type Region, requireRegion } from '../region.js';
import type { GeneratedKeyType, KeyMaterial } from './key-material.js';
import { type KeyPair, type Tag, validateKeyPairName, validateTagFilters, validateTags } from './keypair.js';
import { parsePublicKey } from './public-key.js';
import { LIST_PAGE, pageOf } from '../paging.js';

export interface KeyPairServiceDeps {
  store: Store;
  keys: KeyMaterial;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  regions: readonly Region[];
  /** Key pairs per account and region (Alibaba: 500). */
  quotaPerRegion: number;
}

export interface KeyPairInput {
  regionId: string;
  name: string;
  resourceGroupId?: string;
  tags?: Tag[];
  description?: string;
}

export interface KeyPairQuery {
  regionId?: string;
  namePattern?: string;
  fingerprint?: string;
  resourceGroupId?: string;
  tags?: Tag[];
  offset?: number;
  limit?: number;
}

/** Where a key pair is bound, for messages that say why it cannot be deleted. */
export interface KeyPairUsage {
  keyPairName: string;
  instanceIds: string[];
  total: number;
}

export const MAX_DELETE_BATCH = 100;

export function createKeyPairService(deps: KeyPairServiceDeps) {
  const { store, keys, clock, ids, regions, secrets } = deps;

  async function resolveResourceGroup(caller: Caller, resourceGroupId: string | undefined): Promise<string> {
    const groups = await store.accounts.listResourceGroups(caller.accountId);
    if (!resourceGroupId) {
      const def = groups.find((g) => g.name === 'default') ?? groups[0];
      if (!def) throw new CoreError('Internal', 'The account has no resource group.');
      return def.id;
    }
    if (!groups.some((g) => g.id === resourceGroupId)) {
      throw new CoreError('ResourceGroup.NotFound', `The resource group '${resourceGroupId}' does not exist.`, {
        resourceGroupId,
      });
    }
    return resourceGroupId;
  }

  async function checkQuota(repos: Pick<Store, 'keyPairs'>, accountId: string, regionId: string): Promise<void> {
    if ((await repos.keyPairs.count(accountId, regionId)) >= deps.quotaPerRegion) {
      throw new CoreError(
        'KeyPair.QuotaExceeded',
        `The quota of ${deps.quotaPerRegion} key pairs in region '${regionId}' is used up.`,
        { quota: deps.quotaPerRegion },
      );
    }
  }

  async function insertChecked(caller: Caller, kp: KeyPair): Promise<void> {
    await store.transaction(async (tx) => {
      await checkQuota(tx, caller.accountId, kp.regionId);
      if (await tx.keyPairs.get(caller.accountId, kp.regionId, kp.name)) {
        throw new CoreError(
          'KeyPair.AlreadyExists',
          `A key pair named '${kp.name}' already exists in region '${kp.regionId}'.`,
          { keyPairName: kp.name },
        );
      }
      await tx.keyPairs.insert(kp);
    });
  }

  async function prepare(caller: Caller, input: KeyPairInput) {
    const region = requireRegion(regions, input.regionId);
    const name = validateKeyPairName(input.name);
    const tags = validateTags(input.tags);
    const resourceGroupId = await resolveResourceGroup(caller, input.resourceGroupId);
    const description = (input.description ?? '').slice(0, 1024);
    return { region, name, tags, resourceGroupId, description };
  }

  function record(
    caller: Caller,
    base: Awaited<ReturnType<typeof prepare>>,
    publicKey: string,
    escrow: string | null,
  ): KeyPair {
    const info = parsePublicKey(publicKey);
    return {
      id: ids.next('kp-', 20),
      accountId: caller.accountId,
      regionId: base.region.id,
      name: base.name,
      algorithm: info.algorithm,
      bits: info.bits,
      publicKey: info.comment ? `${info.openssh} ${info.comment}` : info.openssh,
      fingerprintMd5: info.fingerprintMd5,
      fingerprintSha256: info.fingerprintSha256,
      resourceGroupId: base.resourceGroupId,
      tags: base.tags,
      description: base.description,
      createdAt: clock.now(),
      escrowedPrivateKey: escrow,
    };
  }

  return {
    /** Generates a key pair. The private key is returned once; it is kept (sealed) only when escrow is asked for. */
    async create(
      caller: Caller,
      input: KeyPairInput & { type?: GeneratedKeyType; escrow?: boolean },
    ): Promise<{ keyPair: KeyPair; privateKey: string }> {
      const base = await prepare(caller, input);
      const type = input.type ?? 'rsa';
      if (type !== 'rsa' && type !== 'ed25519') {
        throw new CoreError(
          'Input.Invalid',
          `The key type '${String(type)}' is not supported; use 'rsa' or 'ed25519'.`,
          { parameter: 'type' },
        );
      }
      // Fail fast on a used-up quota or a taken name before spending CPU on key generation (an account at its
      // quota must not make keyfleet generate and discard an RSA key per request); both are checked again, in the
      // transaction that inserts.
      await checkQuota(store, caller.accountId, base.region.id);
      if (await store.keyPairs.get(caller.accountId, base.region.id, base.name)) {
        throw new CoreError(
          'KeyPair.AlreadyExists',
          `A key pair named '${base.name}' already exists in region '${base.region.id}'.`,
          { keyPairName: base.name },
        );
      }
      const generated = await keys.generate(type, base.name);
      const kp = record(caller, base, generated.publicKey, null);
      if (input.escrow) kp.escrowedPrivateKey = secrets.seal(generated.privateKey, escrowContext(kp));
      await insertChecked(caller, kp);
      return { keyPair: kp, privateKey: generated.privateKey };
    },

    async import(caller: Caller, input: KeyPairInput & { publicKey: string; privateKey?: string }): Promise<KeyPair> {
      const base = await prepare(caller, input);
      if (typeof input.publicKey !== 'string' || input.publicKey.trim() === '') {
        throw new CoreError('Input.Missing', 'The public key is required.', { parameter: 'PublicKeyBody' });
      }
      const kp = record(caller, base, input.publicKey, null);
      if (input.privateKey !== undefined) {
        assertPrivateMatchesPublic(keys, input.privateKey, kp.publicKey);
        kp.escrowedPrivateKey = secrets.seal(input.privateKey, escrowContext(kp));
      }
      await insertChecked(caller, kp);
      return kp;
    },

    async list(caller: Caller, q: KeyPairQuery): Promise<Page<KeyPair>> {
      if (q.regionId !== undefined) requireRegion(regions, q.regionId);
      return store.keyPairs.list({
        accountId: caller.accountId,
        regionId: q.regionId,
        namePattern: q.namePattern,
        fingerprint: q.fingerprint,
        resourceGroupId: q.resourceGroupId,
        tags: validateTagFilters(q.tags),
        ...pageOf(q, LIST_PAGE),
      });
    },

    async get(caller: Caller, regionId: string, name: string): Promise<KeyPair> {
      requireRegion(regions, regionId);
      const kp = await store.keyPairs.get(caller.accountId, regionId, name);
      if (!kp) throw notFound(name, regionId);
      return kp;
    },

    async usage(caller: Caller, kp: KeyPair, limit = 10): Promise<KeyPairUsage> {
      const page = await store.instances.boundTo(caller.accountId, kp.id, limit);
      return { keyPairName: kp.name, instanceIds: page.items, total: page.total };
    },

    async updateDescription(caller: Caller, regionId: string, name: string, description: string): Promise<KeyPair> {
      requireRegion(regions, regionId);
      if (typeof description !== 'string' || description.length > 1024) {
        throw new CoreError('Input.Invalid', 'The description must be a string of at most 1024 characters.', {
          parameter: 'description',
        });
      }
      return store.transaction(async (tx) => {
        const kp = await tx.keyPairs.get(caller.accountId, regionId, name);
        if (!kp) throw notFound(name, regionId);
        kp.description = description;
        await tx.keyPairs.update(kp);
        return kp;
      });
    },

    /** Deletes key pairs; all or nothing, and refused while any of them is bound to an instance. */
    async delete(caller: Caller, regionId: string, names: string[]): Promise<void> {
      requireRegion(regions, regionId);
      if (!Array.isArray(names) || names.length === 0) {
        throw new CoreError('Batch.Empty', 'Give at least one key pair name.', { parameter: 'KeyPairNames' });
      }
      if (names.length > MAX_DELETE_BATCH) {
        throw new CoreError(
          'Batch.TooLarge',
          `At most ${MAX_DELETE_BATCH} key pairs can be deleted in one call; ${names.length} were given.`,
          { limit: MAX_DELETE_BATCH },
        );
      }
      if (names.some((n) => typeof n !== 'string' || n === '')) {
        throw new CoreError('Batch.Malformed', 'Key pair names must be non-empty strings.', {
          parameter: 'KeyPairNames',
        });
      }
      const unique = [...new Set(names)];
      await store.transaction(async (tx) => {
        const found: KeyPair[] = [];
        for (const name of unique) {
          const kp = await tx.keyPairs.get(caller.accountId, regionId, name);
          if (!kp) throw notFound(name, regionId);
          const bound = await tx.instances.boundTo(caller.accountId, kp.id, 5);
          if (bound.total > 0) {
            throw new CoreError(
              'KeyPair.InUse',
              `The key pair '${name}' is bound to ${bound.total} instance(s) (${bound.items.join(', ')}${bound.total > bound.items.length ? ', …' : ''}); unbind it first.`,
              { keyPairName: name, instanceIds: bound.items, boundCount: bound.total },
            );
          }
          found.push(kp);
        }
        await tx.keyPairs.delete(
          caller.accountId,
          found.map((k) => k.id),
        );
      });
    },

    async exportPrivateKey(caller: Caller, regionId: string, name: string): Promise<string> {
      requireRegion(regions, regionId);
      const kp = await store.keyPairs.get(caller.accountId, regionId, name);
      if (!kp) throw notFound(name, regionId);
      if (!kp.escrowedPrivateKey)
        throw new CoreError('PrivateKey.NotEscrowed', `No private key is kept for key pair '${name}'.`, {
          keyPairName: name,
        });
      return secrets.open(kp.escrowedPrivateKey, escrowContext(kp));
    },

    /** Keeps (or replaces) a key pair's private key, sealed; answers the key pair as it is now. */
    async importPrivateKey(caller: Caller, regionId: string, name: string, privateKey: string): Promise<KeyPair> {
      requireRegion(regions, regionId);
      return store.transaction(async (tx) => {
        const kp = await tx.keyPairs.get(caller.accountId, regionId, name);
        if (!kp) throw notFound(name, regionId);
        assertPrivateMatchesPublic(keys, privateKey, kp.publicKey);
        kp.escrowedPrivateKey = secrets.seal(privateKey, escrowContext(kp));
        await tx.keyPairs.update(kp);
        return kp;
      });
    },

    async clearPrivateKey(caller: Caller, regionId: string, name: string): Promise<void> {
      requireRegion(regions, regionId);
      await store.transaction(async (tx) => {
        const kp = await tx.keyPairs.get(caller.accountId, regionId, name);
        if (!kp) throw notFound(name, regionId);
        kp.escrowedPrivateKey = null;
        await tx.keyPairs.update(kp);
      });
    },
  };
}

export type KeyPairService = ReturnType<typeof createKeyPairService>;

export function notFound(name: string, regionId: string): CoreError {
  return new CoreError('KeyPair.NotFound', `The key pair '${name}' does not exist in region '${regionId}'.`, {
    keyPairName: name,
  });
}

/**
 * Binds a sealed private key to its key pair, so a sealed blob copied onto another record does not open. Exported
 * for the live executor, which opens a bound key pair's escrow to log in when a request gives no credential.
 */
export function escrowContext(kp: Pick<KeyPair, 'accountId' | 'id'>): string {
  return `keypair:${kp.accountId}:${kp.id}`;
}

/** Longest private key accepted for escrow (an RSA 16384-bit PEM is about 12.7 KB). */
export const MAX_PRIVATE_KEY_LENGTH = 16_384;

function assertPrivateMatchesPublic(keys: KeyMaterial, privateKey: string, publicKey: string): void {
  if (typeof privateKey !== 'string' || privateKey.trim() === '' || privateKey.length > MAX_PRIVATE_KEY_LENGTH) {
    throw new CoreError(
      'Input.Invalid',
      `The private key must be a non-empty OpenSSH or PEM text of at most ${MAX_PRIVATE_KEY_LENGTH} characters.`,
      { parameter: 'privateKey' },
    );
  }
  const derived = keys.publicKeyOf(privateKey);
  const body = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');
  if (body(derived) !== body(publicKey)) {
    throw new CoreError('PrivateKey.Mismatch', "The private key does not belong to the key pair's public key.");
  }
}
