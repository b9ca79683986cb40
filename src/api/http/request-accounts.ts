/**
 * Which account a request acted for, for its log line. The faces authenticate through the core's account service
 * with the request's id (requestContext.requestId); the composition root hands the faces this observed copy of
 * it, so the account is noted by request id without any face knowing about logs.
 *
 * An access key is looked up before its signature is checked, so its account is noted only when the face takes
 * the caller (`key.caller`), which the ECS and KPS faces do after the signature, the key's state and the
 * request's freshness were checked: a refused request is logged without an account.
 */
import type { Caller } from '../../core/caller.js';
import type { Core } from '../../core/index.js';

/** At most this many requests' accounts are held waiting for their answer (a bound, should answers never come). */
const MAX_PENDING = 10_000;

export interface RequestAccounts {
  note(requestId: string, caller: Caller): void;
  /** The account noted for the request (then forgotten). */
  take(requestId: string): { accountId: string; userName: string } | undefined;
}

export function createRequestAccounts(): RequestAccounts {
  const byRequest = new Map<string, { accountId: string; userName: string }>();
  return {
    note(requestId, caller) {
      if (byRequest.size >= MAX_PENDING) byRequest.delete(byRequest.keys().next().value as string);
      byRequest.set(requestId, { accountId: caller.accountId, userName: caller.userName });
    },
    take(requestId) {
      const found = byRequest.get(requestId);
      if (found) byRequest.delete(requestId);
      return found;
    },
  };
}

type Accounts = Core['accounts'];

/** The account service with every way a face authenticates noting the caller under the request's id. */
export function observedAccounts(accounts: Accounts, noted: RequestAccounts): Accounts {
  return {
    ...accounts,
    async resolveAccessKey(accessKeyId, ctx) {
      const key = await accounts.resolveAccessKey(accessKeyId, ctx);
      if (!key) return key;
      return {
        secret: key.secret,
        active: key.active,
        get caller() {
          noted.note(ctx.requestId, key.caller);
          return key.caller;
        },
      };
    },
    async resolveToken(token, ctx) {
      const resolved = await accounts.resolveToken(token, ctx);
      if (resolved) noted.note(ctx.requestId, resolved.caller);
      return resolved;
    },
    async signIn(input, ctx) {
      const result = await accounts.signIn(input, ctx);
      noted.note(ctx.requestId, result.caller);
      return result;
    },
  };
}
