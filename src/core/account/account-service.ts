/**
 * Accounts, users, access keys and sign-in sessions. Faces authenticate a request here and get a Caller back;
 * they never read credentials from the store themselves.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Caller, Face } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import { CoreError } from '../errors.js';
import type { PasswordHasher, SecretBox, Store } from '../ports.js';
import { compilePermissions, type PermissionSet } from '../authz/policy.js';
import type { Account, User } from './account.js';
import { insertTenant } from './tenant.js';
import type { Task } from '../task/task.js';
import { accessKeyContext } from './account.js';
import type { RateLimiter } from './rate-limiter.js';
import { createSignInThrottle, type SignInThrottleOptions } from './sign-in-throttle.js';

export interface AccountServiceDeps {
  store: Store;
  secrets: SecretBox;
  passwords: PasswordHasher;
  clock: Clock;
  ids: IdGen;
  sessionTtlMs: number;
  limiter: RateLimiter;
  /** Failed sign-in throttling; the defaults of sign-in-throttle.ts when absent. */
  signInThrottle?: SignInThrottleOptions;
}

export interface BootstrapInput {
  accountName: string;
  adminName: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  adminPassword?: string;
}

/** Secrets made at bootstrap; shown once by the caller, never stored in the clear. */
export interface BootstrapResult {
  created: boolean;
  account: Account;
  admin: User;
  accessKeyId: string;
  generatedAccessKeySecret: string | null;
  generatedAdminPassword: string | null;
}

export interface RequestContext {
  face: Face;
  sourceIp: string;
  requestId: string;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createAccountService(deps: AccountServiceDeps) {
  const { store, secrets, passwords, clock, ids } = deps;
  const throttle = createSignInThrottle(clock, deps.signInThrottle);

  /**
   * A hash of a password nobody knows, in the hasher's own format: a sign-in for a user that does not exist (or
   * has no password) is verified against it, so it costs what a wrong password costs and its answer time does
   * not tell whether the user exists. Made once, on the first password sign-in, whichever user it names.
   */
  let dummyHash: Promise<string> | null = null;
  const dummy = (): Promise<string> => {
    dummyHash ??= passwords.hash(randomBytes(24).toString('base64url')).catch((err: unknown) => {
      dummyHash = null;
      throw err;
    });
    return dummyHash;
  };

  /** The user whose password this is, or null; one hash verification whatever the outcome. */
  async function userOfPassword(accountName: string, userName: string, password: string): Promise<User | null> {
    const fallback = await dummy();
    const account = await store.accounts.getAccountByName(accountName);
    const candidate = account ? await store.accounts.getUserByName(account.id, userName) : null;
    const ok = await passwords.verify(password, candidate?.passwordHash ?? fallback);
    return ok && candidate?.passwordHash ? candidate : null;
  }

  /** Compiled permissions per user, recompiled when the set of policies in effect (own and groups') changes. */
  const compiled = new Map<string, { stamp: string; set: PermissionSet }>();

  async function permissionsOf(user: User): Promise<PermissionSet | null> {
    if (user.isAccountAdmin || user.isSystemAdmin) return null;
    // The user row, read anyway to authenticate, says whether the attached policies changed; documents are read
    // and compiled again only then (this works across processes sharing one PostgreSQL).
    const stamp = String(user.policiesVersion);
    const hit = compiled.get(user.id);
    if (hit && hit.stamp === stamp) return hit.set;
    // Its own policies and its groups' (the version also changes with memberships and group attachments).
    const policies = await store.accounts.policiesInEffect(user.accountId, user.id);
    const set = compilePermissions(policies.map((p) => p.document));
    compiled.set(user.id, { stamp, set });
    return set;
  }

  async function callerOf(
    user: User,
    ctx: RequestContext,
    via: { accessKeyId?: string; sessionId?: string },
  ): Promise<Caller> {
    return {
      accountId: user.accountId,
      userId: user.id,
      userName: user.name,
      isAccountAdmin: user.isAccountAdmin,
      isSystemAdmin: user.isSystemAdmin,
      accessKeyId: via.accessKeyId ?? null,
      sessionId: via.sessionId ?? null,
      face: ctx.face,
      sourceIp: ctx.sourceIp,
      requestId: ctx.requestId,
      permissions: await permissionsOf(user),
    };
  }

  return {
    /** Creates the first account and its administrator on an empty store; idempotent afterwards. */
    async bootstrap(input: BootstrapInput): Promise<BootstrapResult> {
      const existing = await store.accounts.getAccountByName(input.accountName);
      if (existing) {
        const admin = await store.accounts.getUserByName(existing.id, input.adminName);
        if (!admin) throw new CoreError('Internal', `Account '${input.accountName}' has no user '${input.adminName}'.`);
        // Configuration wins over what an earlier start generated: an operator may pin credentials later.
        const accessKeyId = input.accessKeyId ?? '';
        if (input.accessKeyId && input.accessKeySecret) {
          const key = await store.accounts.getAccessKey(input.accessKeyId);
          const sealed = secrets.seal(
            input.accessKeySecret,
            accessKeyContext({ id: input.accessKeyId, accountId: existing.id }),
          );
          if (!key) {
            await store.accounts.insertAccessKey({
              id: input.accessKeyId,
              accountId: existing.id,
              userId: admin.id,
              sealedSecret: sealed,
              status: 'Active',
              createdAt: clock.now(),
            });
          } else if (
            key.accountId === existing.id &&
            secrets.open(key.sealedSecret, accessKeyContext(key)) !== input.accessKeySecret
          ) {
            await store.accounts.updateAccessKey({ ...key, sealedSecret: sealed });
            // A new secret is a new credential: what the old one opened ends, as when a key is disabled.
            await store.accounts.deleteSessionsOfAccessKey(existing.id, key.id);
          }
        }
        if (
          input.adminPassword &&
          !(admin.passwordHash && (await passwords.verify(input.adminPassword, admin.passwordHash)))
        ) {
          await store.accounts.updateUser({ ...admin, passwordHash: await passwords.hash(input.adminPassword) });
          // As a password set through the API does: the administrator is signed out everywhere.
          await store.accounts.deleteSessionsOfUser(existing.id, admin.id);
        }
        return {
          created: false,
          account: existing,
          admin,
          accessKeyId,
          generatedAccessKeySecret: null,
          generatedAdminPassword: null,
        };
      }
      const adminPassword = input.adminPassword ?? randomBytes(12).toString('base64url');
      const accessKeyId = input.accessKeyId ?? 'LTAI' + randomBytes(10).toString('hex').toUpperCase();
      if (!ACCESS_KEY_ID.test(accessKeyId))
        throw new CoreError('Input.Invalid', 'The access key ID must be 8-64 letters, digits, "_" or "-".');
      const secret = input.accessKeySecret ?? randomBytes(24).toString('base64url');
      const { account, admin } = await insertTenant(deps, {
        accountName: input.accountName,
        adminName: input.adminName,
        adminPassword,
        isSystemAdmin: true,
        accessKeyId,
        accessKeySecret: secret,
      });
      return {
        created: true,
        account,
        admin,
        accessKeyId,
        generatedAccessKeySecret: input.accessKeySecret ? null : secret,
        generatedAdminPassword: input.adminPassword ? null : adminPassword,
      };
    },

    /**
     * Looks up an access key for signature verification. Returns the secret (only for the face's HMAC check) and
     * the caller it stands for; null if the key does not exist. Inactive keys are reported as such.
     */
    async resolveAccessKey(
      accessKeyId: string,
      ctx: RequestContext,
    ): Promise<{ secret: string; caller: Caller; active: boolean } | null> {
      if (!ACCESS_KEY_ID.test(accessKeyId)) return null;
      const key = await store.accounts.getAccessKey(accessKeyId);
      if (!key) return null;
      const user = await store.accounts.getUser(key.accountId, key.userId);
      if (!user) return null;
      if (key.status === 'Active') await deps.limiter.take(`ak:${key.id}`);
      return {
        secret: secrets.open(key.sealedSecret, accessKeyContext(key)),
        caller: await callerOf(user, ctx, { accessKeyId }),
        active: key.status === 'Active',
      };
    },

    /** Console / CLI sign-in with a user's password, or with an access key pair. Returns a bearer token. */
    async signIn(
      input: {
        accountName?: string;
        userName?: string;
        password?: string;
        accessKeyId?: string;
        accessKeySecret?: string;
        regionId?: string;
      },
      ctx: RequestContext,
    ): Promise<{ token: string; caller: Caller; expiresAt: Date }> {
      let user: User | null = null;
      let accessKeyId: string | null = null;
      if (input.accessKeyId !== undefined) {
        const attempt = throttle.begin({ principal: `ak:${String(input.accessKeyId)}`, sourceIp: ctx.sourceIp });
        const resolved = await this.resolveAccessKey(String(input.accessKeyId), ctx);
        if (
          resolved &&
          resolved.active &&
          typeof input.accessKeySecret === 'string' &&
          safeEqual(resolved.secret, input.accessKeySecret)
        ) {
          user = await store.accounts.getUser(resolved.caller.accountId, resolved.caller.userId);
          accessKeyId = String(input.accessKeyId);
        }
        if (user) attempt.succeeded();
      } else if (typeof input.userName === 'string' && typeof input.password === 'string') {
        const accountName = input.accountName ?? 'keyfleet';
        const attempt = throttle.begin({ principal: `user:${accountName}/${input.userName}`, sourceIp: ctx.sourceIp });
        user = await userOfPassword(accountName, input.userName, input.password);
        if (user) attempt.succeeded();
      }
      if (!user)
        throw new CoreError('Auth.Unauthenticated', 'The user name or password (or access key) is not correct.');
      const token = randomBytes(32).toString('base64url');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + deps.sessionTtlMs);
      const sessionId = ids.next('s-', 20);
      await store.accounts.insertSession({
        id: sessionId,
        accountId: user.accountId,
        userId: user.id,
        tokenHash: hashToken(token),
        regionId: input.regionId ?? null,
        createdAt: now,
        expiresAt,
        accessKeyId,
      });
      return { token, caller: await callerOf(user, ctx, { sessionId }), expiresAt };
    },

    async resolveToken(
      token: string,
      ctx: RequestContext,
    ): Promise<{ caller: Caller; regionId: string | null } | null> {
      if (typeof token !== 'string' || token.length < 16 || token.length > 512) return null;
      const session = await store.accounts.getSessionByTokenHash(hashToken(token));
      if (!session || session.expiresAt.getTime() <= clock.now().getTime()) return null;
      const user = await store.accounts.getUser(session.accountId, session.userId);
      if (!user) return null;
      if (session.accessKeyId) {
        // Disabling or deleting the key deletes its sessions; this also covers a sign-in that was in flight then.
        const key = await store.accounts.getAccessKey(session.accessKeyId);
        if (!key || key.status !== 'Active' || key.userId !== user.id || key.accountId !== user.accountId) {
          await store.accounts.deleteSession(session.id);
          return null;
        }
      }
      await deps.limiter.take(`user:${user.id}`);
      return { caller: await callerOf(user, ctx, { sessionId: session.id }), regionId: session.regionId };
    },

    /**
     * The submitter of a task, as it stands now (its current policies), for running the task's items after a
     * restart or in another process; null if the user no longer exists (its task's items are then refused).
     */
    async callerOfTask(
      task: Pick<Task, 'accountId' | 'createdBy' | 'submitter' | 'face' | 'requestId'>,
    ): Promise<Caller | null> {
      const user = await store.accounts.getUser(task.accountId, task.createdBy);
      if (!user) return null;
      const via = task.submitter;
      const caller = await callerOf(
        user,
        { face: task.face as Face, sourceIp: via?.sourceIp ?? '', requestId: task.requestId },
        {
          ...(via?.accessKeyId ? { accessKeyId: via.accessKeyId } : {}),
          ...(via?.sessionId ? { sessionId: via.sessionId } : {}),
        },
      );
      return caller;
    },

    async signOut(caller: Caller): Promise<void> {
      if (caller.sessionId) await store.accounts.deleteSession(caller.sessionId);
    },

    async resourceGroups(caller: Caller) {
      return store.accounts.listResourceGroups(caller.accountId);
    },

    async account(caller: Caller): Promise<Account> {
      const a = await store.accounts.getAccount(caller.accountId);
      if (!a) throw new CoreError('Internal', 'The account of this session no longer exists.');
      return a;
    },
  };
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return ha.equals(hb);
}

export type AccountService = ReturnType<typeof createAccountService>;
