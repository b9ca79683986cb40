/**
 * Whether the signed-in user is the system administrator. whoami does not say so; GET /api/v1/accounts does:
 * 200 for the system administrator, 403 Auth.Forbidden for everyone else. Only account administrators are asked
 * (the system administrator is one), once per session, so other users never draw a refused call.
 */
import { createContext, type ReactNode, useContext } from 'react';
import { ApiError, api } from '../api/client';
import { useResource } from '../lib/hooks';
import { useWho } from './session';

const Ctx = createContext<boolean>(false);

/** True once GET /accounts has answered 200; false while asking, on 403 or on any other error. */
export function useIsSystemAdmin(): boolean {
  return useContext(Ctx);
}

export function SystemAdminProvider({ children }: { children: ReactNode }) {
  const who = useWho();
  const probe = useResource(async () => {
    if (!who.isAccountAdmin) return false;
    try {
      await api.accounts();
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return false;
      throw err;
    }
  }, [who.userId, who.isAccountAdmin]);
  return <Ctx.Provider value={probe.data === true}>{children}</Ctx.Provider>;
}
