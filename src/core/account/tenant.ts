/**
 * A new tenant: its account, its administrator, its default resource group and the administrator's first access
 * key, made in one transaction. Both the first start (the system's own account) and the system administrator's
 * CreateAccount make tenants this way.
 */
import type { Clock, IdGen } from '../clock.js';
import type { PasswordHasher, SecretBox, Store } from '../ports.js';
import type { Account, User } from './account.js';
import { accessKeyContext } from './account.js';

export interface TenantDeps {
  store: Store;
  clock: Clock;
  ids: IdGen;
  secrets: SecretBox;
  passwords: PasswordHasher;
}

export interface NewTenant {
  accountName: string;
  adminName: string;
  adminPassword: string;
  /** The system's own account: its administrator administers every account. */
  isSystemAdmin: boolean;
  accessKeyId: string;
  accessKeySecret: string;
}

export async function insertTenant(deps: TenantDeps, t: NewTenant): Promise<{ account: Account; admin: User }> {
  const { store, clock, ids } = deps;
  const now = clock.now();
  const account: Account = { id: ids.next('acc-', 16), name: t.accountName, createdAt: now };
  const admin: User = {
    id: ids.next('u-', 16),
    accountId: account.id,
    name: t.adminName,
    isAccountAdmin: true,
    isSystemAdmin: t.isSystemAdmin,
    passwordHash: await deps.passwords.hash(t.adminPassword),
    createdAt: now,
    policiesVersion: 0,
  };
  const sealedSecret = deps.secrets.seal(
    t.accessKeySecret,
    accessKeyContext({ id: t.accessKeyId, accountId: account.id }),
  );
  await store.transaction(async (tx) => {
    await tx.accounts.insertAccount(account);
    await tx.accounts.insertUser(admin);
    await tx.accounts.insertResourceGroup({
      id: ids.next('rg-', 16),
      accountId: account.id,
      name: 'default',
      createdAt: now,
    });
    await tx.accounts.insertAccessKey({
      id: t.accessKeyId,
      accountId: account.id,
      userId: admin.id,
      sealedSecret,
      status: 'Active',
      createdAt: now,
    });
  });
  return { account, admin };
}
