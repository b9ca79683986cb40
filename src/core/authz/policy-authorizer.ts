import type { Caller } from '../caller.js';
import { CoreError } from '../errors.js';
import type { Action, ResourceRef } from './actions.js';
import type { Authorizer } from './authorizer.js';
import { evaluate, type PermissionSet, resourceName } from './policy.js';

const NOTHING: PermissionSet = { byAction: new Map() };

/**
 * The policy authorizer: account administrators (and the system administrator) may do everything in their account;
 * every other user may do exactly what their attached policies allow, an explicit Deny winning.
 */
export function createPolicyAuthorizer(): Authorizer {
  function decide(caller: Caller, action: Action, refs: ResourceRef[]) {
    if (caller.isAccountAdmin || caller.isSystemAdmin) return 'allow' as const;
    return evaluate(
      caller.permissions ?? NOTHING,
      caller.accountId,
      action,
      refs.length ? refs : [{ type: '*', regionId: '*', id: '*' }],
    );
  }
  return {
    allows: (caller, action, refs) => decide(caller, action, refs) === 'allow',
    check(caller, action, refs) {
      const verdict = decide(caller, action, refs);
      if (verdict === 'allow') return;
      const names = refs.map((r) => resourceName(caller.accountId, r)).join(', ');
      throw new CoreError(
        'Auth.Forbidden',
        verdict === 'deny'
          ? `User '${caller.userName}' is explicitly denied '${action}' on ${names}.`
          : `User '${caller.userName}' is not allowed to perform '${action}' on ${names}: no policy allows it.`,
        { action, resources: refs.map((r) => resourceName(caller.accountId, r)) },
      );
    },
  };
}
