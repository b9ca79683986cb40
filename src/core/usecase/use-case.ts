/**
 * A use case, declared once: the action it performs, who may perform it, the resources it names (from its input),
 * whether it changes anything, and the domain function that does it. The gate (gate.ts) reads these declarations
 * to authorize, run and audit every call the same way, so no service checks permissions and no face names
 * resources for the audit (the idea of Teleport's ServerWithRoles: one wrapper in front of the domain).
 */
import type { Action, ResourceRef } from '../authz/actions.js';
import type { Caller } from '../caller.js';

/**
 * Who may call a use case:
 * - `policy`: the authorizer decides the action on the named resources (RAM/IAM policies; administrators pass);
 * - `admin`: account administrators only (managing users, policies, groups);
 * - `self-or-admin`: the user the call names (`Named.subjectUserId`), or an administrator;
 * - `system-admin`: the system administrator only (accounts);
 * - `signed-in`: any authenticated caller (signing out).
 */
export type Access = 'policy' | 'admin' | 'self-or-admin' | 'system-admin' | 'signed-in';

/** A permission check beyond the declared action on the named resources (a call that needs two permissions). */
export interface Check {
  action: Action;
  refs: ResourceRef[];
}

/** What a call names, when a list of resources is not enough to say it. */
export interface Named {
  /** The resources the audit entry names. */
  refs: ResourceRef[];
  /** The checks to make instead of `action` on `refs` (e.g. keypair:Bind on some hosts, keypair:Unbind on others). */
  checks?: Check[];
  /** The action the audit records, when it depends on what the call names (a drift repair binds or unbinds). */
  action?: string;
  /** For `self-or-admin`: the user the call acts on (null: no such user; only an administrator gets an answer). */
  subjectUserId?: string | null;
}

export interface UseCase<A extends unknown[], R> {
  /** The action as the audit trail records it; for `policy` access also the permission checked. */
  action: string | NoInfer<(...args: A) => string>;
  access: Access;
  /** Mutating calls are always audited (success, failure, denied); reads only when denied. */
  mutates: boolean | NoInfer<(...args: A) => boolean>;
  /**
   * The resources the call names, from its input. May read the store to name them fully (an instance's region and
   * resource group); never validates or changes anything: a name that does not exist is named as given.
   */
  names: NoInfer<(caller: Caller, ...args: A) => ResourceRef[] | Named | Promise<ResourceRef[] | Named>>;
  /** Resources known only once the call has run (an unbind that named no key pair names the one it removed). */
  namesAfter?: NoInfer<(result: R, ...args: A) => ResourceRef[]>;
  /**
   * The task the call submitted, if it submits one: its audit entry names the task, linking the request to the
   * entries that record what the task came to (binding/task-outcome-audit.ts).
   */
  taskOf?: NoInfer<(result: R) => string | null>;
  run(caller: Caller, ...args: A): Promise<R>;
}

/** The function a face calls: the use case behind the gate. */
export type Exposed<U> = U extends UseCase<infer A, infer R> ? (caller: Caller, ...args: A) => Promise<R> : never;
/** Any declared use case: its argument and result types vary per declaration (both in and out positions). */
// biome-ignore lint/suspicious/noExplicitAny: a use case's argument list is both read and written, so no narrower type fits every declaration
export type AnyUseCase = UseCase<any, any>;
export type ExposedAll<T extends Record<string, AnyUseCase>> = { [K in keyof T]: Exposed<T[K]> };

/** Declares a use case with its argument types inferred from `run`. */
export function useCase<A extends unknown[], R>(spec: UseCase<A, R>): UseCase<A, R> {
  return spec;
}

/** Resource names the declarations share. */
export const ref = {
  keyPair: (regionId: string | undefined, name: unknown, resourceGroupId?: string): ResourceRef => ({
    type: 'keypair',
    regionId: regionId || '*',
    id: String(name),
    ...(resourceGroupId ? { resourceGroupId } : {}),
  }),
  instance: (regionId: string | undefined, id: unknown, resourceGroupId?: string): ResourceRef => ({
    type: 'instance',
    regionId: regionId || '*',
    id: String(id),
    ...(resourceGroupId ? { resourceGroupId } : {}),
  }),
  task: (id: unknown, regionId?: string): ResourceRef => ({ type: 'task', regionId: regionId || '*', id: String(id) }),
  /** IAM resources (users, policies, groups, access keys, accounts) are named `kind/name`. */
  iam: (kind: 'user' | 'policy' | 'group' | 'accesskey' | 'account', name: unknown): ResourceRef => ({
    type: '*',
    regionId: '*',
    id: `${kind}/${String(name)}`,
  }),
};
