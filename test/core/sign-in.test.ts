/**
 * Sign-in and sessions in the core (issue 18), on a real embedded store and a fake clock:
 * - every password sign-in costs one hash verification, whether or not the account, the user or its password
 *   exists (so the answer time does not tell), counted with an injected hasher rather than timed;
 * - past five failures a user's sign-ins wait, the right password included, and no hash is checked meanwhile;
 * - a session ends with the credential that opened it: its access key disabled or deleted, its user deleted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type AccountService,
  createAccountService,
  type RequestContext,
} from '../../src/core/account/account-service.js';
import { createIdentityService, type IdentityService } from '../../src/core/account/identity-service.js';
import { createRateLimiter } from '../../src/core/account/rate-limiter.js';
import type { Caller } from '../../src/core/caller.js';
import type { IdGen } from '../../src/core/clock.js';
import { CoreError } from '../../src/core/errors.js';
import type { PasswordHasher } from '../../src/core/ports.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { freshPostgres, PG_URL } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const ADMIN_PW = 'Admin-Pass-0001';
const ALICE_PW = 'Alice-Pass-0001';

/** A cheap hasher that counts its work: what the slow one would cost is the number of calls. */
function countingHasher() {
  const calls = { hash: 0, verify: 0 };
  const hasher: PasswordHasher = {
    async hash(password) {
      calls.hash++;
      return `h:${randomBytes(4).toString('hex')}:${password}`;
    },
    async verify(password, hash) {
      calls.verify++;
      return hash.slice(hash.indexOf(':', 2) + 1) === password;
    },
  };
  return { hasher, calls };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<CoreError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CoreError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`sign-in and sessions (core, ${kind})`, {
    skip: kind === 'postgres' && !PG_URL ? 'KEYFLEET_TEST_PG_URL is not set' : false,
  }, () => {
    let store: OpenedStore;
    let drop: () => Promise<void> = async () => undefined;
    let clock: FakeClock;
    let accounts: AccountService;
    let identity: IdentityService;
    let calls: { hash: number; verify: number };
    let admin: Caller;
    let n = 0;
    let ip = 0;
    /** Each test signs in from its own address, so the per-address count of one does not reach into another. */
    let ctx: RequestContext;

    before(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgres();
        drop = db.drop;
        store = await openStore({ databaseUrl: db.url, dataDir: tempDir() });
      } else {
        store = await openStore({ dataDir: tempDir() });
      }
      clock = fakeClock();
      const counting = countingHasher();
      calls = counting.calls;
      const ids: IdGen = { next: (p) => `${p}${++n}`, uuid: () => `uuid-${++n}`, random: () => 0.5 };
      const secrets = createSecretBox(randomBytes(32));
      const limiter = createRateLimiter({ perSecond: 0, burst: 1, clock });
      const deps = { store, secrets, passwords: counting.hasher, clock, ids };
      accounts = createAccountService({ ...deps, sessionTtlMs: 86_400_000, limiter });
      identity = createIdentityService(deps);
      await accounts.bootstrap({ accountName: 'keyfleet', adminName: 'admin', adminPassword: ADMIN_PW });
      admin = (await accounts.signIn({ userName: 'admin', password: ADMIN_PW }, { ...fresh() })).caller;
      await identity.createUser(admin, { name: 'alice', password: ALICE_PW });
      await identity.createUser(admin, { name: 'nopass' });
    });
    after(async () => {
      await store?.close();
      await drop();
    });

    function fresh(): RequestContext {
      ctx = { face: 'native', sourceIp: `10.9.0.${++ip}`, requestId: `r-${ip}` };
      return ctx;
    }

    test('one hash verification per password sign-in, whether or not the account, user or password exists', async () => {
      fresh();
      const attempts: Array<[string, Record<string, string>]> = [
        ['wrong password of a real user', { userName: 'alice', password: 'Not-Her-Pass-1' }],
        ['no such user', { userName: 'nobody', password: 'Not-Her-Pass-1' }],
        ['a user without a password', { userName: 'nopass', password: 'Not-Her-Pass-1' }],
        ['no such account', { accountName: 'no-such-account', userName: 'alice', password: ALICE_PW }],
      ];
      for (const [what, input] of attempts) {
        const before = { ...calls };
        const err = await rejectsWith(accounts.signIn(input, fresh()), 'Auth.Unauthenticated');
        assert.equal(err.message, 'The user name or password (or access key) is not correct.', what);
        assert.equal(calls.verify - before.verify, 1, `${what}: one verification`);
        assert.equal(calls.hash - before.hash, 0, `${what}: no hashing (the stand-in hash is made once)`);
      }
      const before = { ...calls };
      await accounts.signIn({ userName: 'alice', password: ALICE_PW }, fresh());
      assert.equal(calls.verify - before.verify, 1, 'a success costs the same');
    });

    test('past five failures even the right password waits, with no hash checked; then it is accepted', async () => {
      const from = fresh();
      for (let i = 0; i < 5; i++)
        await rejectsWith(
          accounts.signIn({ userName: 'alice', password: `Wrong-Pass-${i}` }, from),
          'Auth.Unauthenticated',
        );
      const before = calls.verify;
      const refused = await rejectsWith(
        accounts.signIn({ userName: 'alice', password: ALICE_PW }, from),
        'Auth.Throttled',
      );
      assert.equal(refused.details.retryAfterSeconds, 1);
      // From another address too: the count is the user's, not only the address's.
      await rejectsWith(accounts.signIn({ userName: 'alice', password: ALICE_PW }, fresh()), 'Auth.Throttled');
      assert.equal(calls.verify, before, 'a refused attempt checks no password');
      await clock.advance(1_000);
      await accounts.signIn({ userName: 'alice', password: ALICE_PW }, from);
      // The success cleared alice's failures: one more wrong password is not refused for waiting.
      await rejectsWith(
        accounts.signIn({ userName: 'alice', password: 'Wrong-Pass-x' }, fresh()),
        'Auth.Unauthenticated',
      );
    });

    test('a name that does not exist is throttled the same way (the answer tells nothing about existence)', async () => {
      const from = fresh();
      for (let i = 0; i < 5; i++)
        await rejectsWith(
          accounts.signIn({ userName: 'ghost', password: `Wrong-Pass-${i}` }, from),
          'Auth.Unauthenticated',
        );
      const refused = await rejectsWith(accounts.signIn({ userName: 'ghost', password: 'x' }, from), 'Auth.Throttled');
      assert.equal(refused.details.retryAfterSeconds, 1);
    });

    test('access-key sign-ins are throttled per key', async () => {
      const { accessKeyId } = await identity.createAccessKey(admin, 'alice');
      const from = fresh();
      for (let i = 0; i < 5; i++)
        await rejectsWith(accounts.signIn({ accessKeyId, accessKeySecret: `nope-${i}` }, from), 'Auth.Unauthenticated');
      await rejectsWith(accounts.signIn({ accessKeyId, accessKeySecret: 'nope' }, fresh()), 'Auth.Throttled');
      await identity.deleteAccessKey(admin, accessKeyId);
    });

    test('a session opened with an access key ends when the key is disabled, and stays ended when it is enabled again', async () => {
      const key = await identity.createAccessKey(admin, 'alice');
      const { token } = await accounts.signIn(key, fresh());
      const password = await accounts.signIn({ userName: 'alice', password: ALICE_PW }, fresh());
      assert.ok(await accounts.resolveToken(token, ctx));
      await identity.setAccessKeyStatus(admin, key.accessKeyId, 'Inactive');
      assert.equal(await accounts.resolveToken(token, ctx), null);
      await identity.setAccessKeyStatus(admin, key.accessKeyId, 'Active');
      assert.equal(await accounts.resolveToken(token, ctx), null, 'the session is gone, not suspended');
      assert.ok(await accounts.resolveToken(password.token, ctx), "the user's password session is not the key's");
      await identity.deleteAccessKey(admin, key.accessKeyId);
    });

    test('a session opened with an access key ends when the key is deleted', async () => {
      const key = await identity.createAccessKey(admin, 'alice');
      const { token } = await accounts.signIn(key, fresh());
      await identity.deleteAccessKey(admin, key.accessKeyId);
      assert.equal(await accounts.resolveToken(token, ctx), null);
    });

    test('a session whose key was disabled while its sign-in was in flight is refused all the same', async () => {
      const key = await identity.createAccessKey(admin, 'alice');
      const { token } = await accounts.signIn(key, fresh());
      // The key's row changed without its sessions being deleted: the order a racing sign-in would leave behind.
      const row = (await store.accounts.getAccessKey(key.accessKeyId))!;
      await store.accounts.updateAccessKey({ ...row, status: 'Inactive' });
      assert.equal(await accounts.resolveToken(token, ctx), null);
      await store.accounts.updateAccessKey({ ...row, status: 'Active' });
      assert.equal(await accounts.resolveToken(token, ctx), null, 'the refused session was deleted');
      await identity.deleteAccessKey(admin, key.accessKeyId);
    });

    test('a restart with a new configured secret or administrator password ends what the old one opened', async () => {
      const boot = (accessKeySecret: string, adminPassword: string) =>
        accounts.bootstrap({
          accountName: 'keyfleet',
          adminName: 'admin',
          accessKeyId: 'LTAIcoreTestKey0001',
          accessKeySecret,
          adminPassword,
        });
      await boot('first-secret-0001', ADMIN_PW);
      const byKey = await accounts.signIn(
        { accessKeyId: 'LTAIcoreTestKey0001', accessKeySecret: 'first-secret-0001' },
        fresh(),
      );
      const byPassword = await accounts.signIn({ userName: 'admin', password: ADMIN_PW }, fresh());
      await boot('first-secret-0001', ADMIN_PW);
      assert.ok(await accounts.resolveToken(byKey.token, ctx), 'the same configuration ends nothing');
      assert.ok(await accounts.resolveToken(byPassword.token, ctx));
      await boot('second-secret-0002', ADMIN_PW);
      assert.equal(await accounts.resolveToken(byKey.token, ctx), null, 'a new secret');
      assert.ok(await accounts.resolveToken(byPassword.token, ctx));
      await boot('second-secret-0002', 'Admin-Pass-0002');
      assert.equal(await accounts.resolveToken(byPassword.token, ctx), null, 'a new administrator password');
      await boot('second-secret-0002', ADMIN_PW);
    });

    test('every session of a user ends when the user is deleted, or its password changes', async () => {
      await identity.createUser(admin, { name: 'bob', password: 'Bob-Pass-00001' });
      const key = await identity.createAccessKey(admin, 'bob');
      const byKey = await accounts.signIn(key, fresh());
      const byPassword = await accounts.signIn({ userName: 'bob', password: 'Bob-Pass-00001' }, fresh());
      await identity.setPassword(admin, 'bob', 'Bob-Pass-00002');
      assert.equal(await accounts.resolveToken(byPassword.token, ctx), null);
      const again = await accounts.signIn({ userName: 'bob', password: 'Bob-Pass-00002' }, fresh());
      await identity.deleteUser(admin, 'bob');
      assert.equal(await accounts.resolveToken(byKey.token, ctx), null);
      assert.equal(await accounts.resolveToken(again.token, ctx), null);
    });
  });
}
