import type { Caller } from '../caller.js';
import { CoreError } from '../errors.js';
import type { Action, ResourceRef } from './actions.js';

/**
 * Authorizer decides whether a caller may perform an action on resources. It is consulted by the core use cases
 * (one place), never by the faces. Tenant isolation does not depend on it: every query is scoped to the caller's
 * account before an authorizer sees anything.
 */
export interface Authorizer {
  /** Throws CoreError Auth.Forbidden when refused. */
  check(caller: Caller, action: Action, resources: ResourceRef[]): void;
  /** Same decision as check, as a value, for per-instance results in batches. */
  allows(caller: Caller, action: Action, resources: ResourceRef[]): boolean;
}

/** Until policies exist for a user, only account administrators may act (nothing is allowed by default). */
export function createAdminOnlyAuthorizer(): Authorizer {
  const allows = (caller: Caller): boolean => caller.isAccountAdmin || caller.isSystemAdmin;
  return {
    allows,
    check(caller, action) {
      if (!allows(caller)) {
        throw new CoreError('Auth.Forbidden', `User '${caller.userName}' is not allowed to perform '${action}'.`, {
          action,
        });
      }
    },
  };
}
