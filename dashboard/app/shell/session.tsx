import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { api, onSignedOut } from '../api/client.ts';
import { must } from '../api/problem.ts';

export type Me = NonNullable<Awaited<ReturnType<typeof fetchMe>>>;
export type Role = Me['grants'][number]['role'];

async function fetchMe() {
  const { data, response } = await api.GET('/auth/me');
  if (response.status === 401) return null;
  if (!data) throw new Error(`GET /auth/me answered ${response.status}`);
  return data;
}

interface Session {
  /** undefined while the first check runs; null when nobody is signed in. */
  me: Me | null | undefined;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}
const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    fetchMe().then(setMe, () => setMe(null));
    return onSignedOut(() => setMe(null));
  }, []);
  const signIn = useCallback(async (username: string, password: string) => {
    setMe(await must(api.POST('/auth/login', { body: { username, password } })));
  }, []);
  const signOut = useCallback(async () => {
    await api.POST('/auth/logout');
    setMe(null);
  }, []);
  return <SessionContext.Provider value={{ me, signIn, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in user (pages below the sign-in gate only). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe before sign-in');
  return me;
}

/** Whether the user holds any of `roles` (an admin holds every role in its area). */
export function hasRole(me: Me, ...roles: Role[]): boolean {
  return me.grants.some((g) => g.role === 'admin' || roles.includes(g.role));
}

/** Area codes where the user holds one of `roles`. */
export function areasWith(me: Me, ...roles: Role[]): string[] {
  return me.grants.filter((g) => g.role === 'admin' || roles.includes(g.role)).map((g) => g.areaCode);
}
