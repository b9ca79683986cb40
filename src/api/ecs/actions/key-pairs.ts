/** CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs (API.md §3.1–§3.4). */
import { CoreError } from '../../../core/errors.js';
import { ecsErrors } from '../errors.js';
import { checkCreateKeyPairName, checkImportKeyPairName } from '../key-pair-names.js';
import { fingerprintOf, keyPairView } from '../views.js';
import type { ActionHandler } from './context.js';

/** DescribeKeyPairs pages: PageSize 1-50, default 10 (API.md §3.3). */
const KEY_PAIR_PAGE = { min: 1, max: 50 };
const PAGE_NUMBER = { min: 1, max: 1_000_000_000 };

export const keyPairActions = {
  /** Generates an RSA 2048 key pair (Alibaba's only kind); the private key is in this response and nowhere else. */
  CreateKeyPair: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const name = checkCreateKeyPairName(params.required('KeyPairName'));
    const { keyPair, privateKey } = await core.keyPairs.create(caller, {
      regionId,
      name,
      resourceGroupId: params.optional('ResourceGroupId'),
      tags: params.tagsToSet(),
      type: 'rsa',
    });
    return {
      KeyPairName: keyPair.name,
      KeyPairId: keyPair.id,
      KeyPairFingerPrint: fingerprintOf(keyPair),
      PrivateKeyBody: privateKey,
    };
  },

  ImportKeyPair: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const name = checkImportKeyPairName(params.required('KeyPairName'));
    const publicKey = params.required('PublicKeyBody');
    const keyPair = await core.keyPairs.import(caller, {
      regionId,
      name,
      publicKey,
      resourceGroupId: params.optional('ResourceGroupId'),
      tags: params.tagsToSet(),
    });
    return { KeyPairName: keyPair.name, KeyPairFingerPrint: fingerprintOf(keyPair) };
  },

  DescribeKeyPairs: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const pageNumber = params.integer('PageNumber', PAGE_NUMBER, 1);
    const pageSize = params.integer('PageSize', KEY_PAIR_PAGE, 10);
    const includePublicKey = params.boolean('IncludePublicKey', false);
    const page = await core.keyPairs.list(caller, {
      regionId,
      // `*` is a wildcard, no `*` an exact name (API.md §3.3): the core's pattern has the same meaning.
      namePattern: params.filter('KeyPairName', 255),
      fingerprint: params.filter('KeyPairFingerPrint', 128),
      resourceGroupId: params.filter('ResourceGroupId', 64),
      tags: params.tagFilters(),
      offset: (pageNumber - 1) * pageSize,
      limit: pageSize,
    });
    return {
      PageNumber: pageNumber,
      PageSize: pageSize,
      TotalCount: page.total,
      KeyPairs: { KeyPair: page.items.map((kp) => keyPairView(kp, includePublicKey)) },
    };
  },

  /** All or nothing; refused while any of the key pairs is bound (API.md §2). */
  DeleteKeyPairs: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const names = params.jsonArray('KeyPairNames', ecsErrors.keyPairNamesNotSupported);
    // The elements are the core's to judge (non-empty strings, at most 100): it answers with codes this face maps.
    // Only a non-string is refused here, with the core's own error: the gate names the key pairs before the core
    // runs, and naming a deeply nested array overflows the stack.
    if (names.some((n) => typeof n !== 'string'))
      throw new CoreError('Batch.Malformed', 'Key pair names must be non-empty strings.', {
        parameter: 'KeyPairNames',
      });
    await core.keyPairs.delete(caller, regionId, names as string[]);
    return {};
  },
} satisfies Record<string, ActionHandler>;
