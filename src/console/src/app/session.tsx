/** Who is signed in. The token comes from POST /api/v1/sessions and is dropped on sign-out or a 401. */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, announceSignOut, api, borrowToken, currentToken, onSessionExpired, setToken } from '../api/client';
import type { WhoAmI } from '../api/types';

const SESSION_ENDED = 'Your session has ended. Sign in again to continue.';

type State = { status: 'checking' } | { status: 'signed-out'; notice?: string } | { status: 'signed-in'; who: WhoAmI };

interface SessionApi {
  state: State;
  signIn: (input: { userName: string; password: string; accountName?: string }) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionApi | null>(null);

export function useSession(): SessionApi {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useWho(): WhoAmI {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('not signed in');
  return state.who;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'checking' });

  useEffect(() => {
    let live = true;
    void (async () => {
      const token = currentToken() ?? (await borrowToken());
      if (!token) {
        if (live) setState({ status: 'signed-out' });
        return;
      }
      try {
        const who = await api.whoami();
        if (live) setState({ status: 'signed-in', who });
      } catch (err) {
        setToken(null);
        // A token the server no longer knows (ended elsewhere, expired while the tab was away) is said as such.
        const ended = err instanceof ApiError && err.status === 401;
        if (live) setState(ended ? { status: 'signed-out', notice: SESSION_ENDED } : { status: 'signed-out' });
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => onSessionExpired(() => setState({ status: 'signed-out', notice: SESSION_ENDED })), []);

  const signIn = useCallback(async (input: { userName: string; password: string; accountName?: string }) => {
    const res = await api.signIn({
      userName: input.userName,
      password: input.password,
      ...(input.accountName ? { accountName: input.accountName } : {}),
    });
    setToken(res.token);
    const who = await api.whoami();
    setState({ status: 'signed-in', who });
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } catch {
      // the token is dropped either way
    }
    setToken(null);
    announceSignOut();
    setState({ status: 'signed-out', notice: 'You have signed out.' });
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
