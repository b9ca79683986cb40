/**
 * The key pair quota is checked before a key is generated: an account at its quota must not make keyfleet spend
 * CPU on an RSA key it then throws away (issue 18: one tenant must not slow another). Real embedded store, a key
 * generator that counts its calls.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Caller } from '../../src/core/caller.js';
import { isCoreError } from '../../src/core/errors.js';
import type { KeyMaterial } from '../../src/core/keypair/key-material.js';
import { createKeyPairService } from '../../src/core/keypair/keypair-service.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSshKeyMaterial } from '../../src/crypto/ssh-key-material.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { fakeClock } from '../support/fake-clock.js';
import { tempDir } from '../support/tmp.js';

const REGION = 'cn-hangzhou';
let store: OpenedStore;
let n = 0;

before(async () => {
  store = await openStore({ dataDir: tempDir() });
  await store.accounts.insertAccount({ id: 'acc-q', name: 'quota', createdAt: new Date(0) });
  await store.accounts.insertResourceGroup({ id: 'rg-q', accountId: 'acc-q', name: 'default', createdAt: new Date(0) });
});
after(() => store.close());

const caller: Caller = {
  accountId: 'acc-q',
  userId: 'u-q',
  userName: 'alice',
  isAccountAdmin: true,
  isSystemAdmin: false,
  accessKeyId: null,
  sessionId: null,
  face: 'native',
  sourceIp: '127.0.0.1',
  requestId: 'req-q',
  permissions: null,
};

test('CreateKeyPair at the quota is refused before any key is generated; nothing is stored', async () => {
  const real = createSshKeyMaterial();
  let generated = 0;
  const counting: KeyMaterial = {
    ...real,
    generate: (...args: Parameters<KeyMaterial['generate']>) => {
      generated++;
      return real.generate(...args);
    },
  };
  const service = createKeyPairService({
    store,
    keys: counting,
    secrets: createSecretBox(randomBytes(32)),
    clock: fakeClock(),
    ids: { next: (p) => `${p}${++n}`, uuid: () => `u-${++n}`, random: () => 0.5 },
    regions: [{ id: REGION, localName: 'Hangzhou' }],
    quotaPerRegion: 2,
  });
  await service.create(caller, { regionId: REGION, name: 'one', type: 'ed25519' });
  await service.create(caller, { regionId: REGION, name: 'two', type: 'ed25519' });
  assert.equal(generated, 2);
  await assert.rejects(
    service.create(caller, { regionId: REGION, name: 'three', type: 'rsa' }),
    (e) => isCoreError(e) && e.code === 'KeyPair.QuotaExceeded',
  );
  assert.equal(generated, 2, 'no key was generated for a request the quota refuses');
  assert.equal(await store.keyPairs.count('acc-q', REGION), 2);
});
