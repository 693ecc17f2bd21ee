/** React access to the session and its store. */
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ChatSession } from '../app/session';
import { parseHash, type Route } from '../app/route';
import type { ChatState } from '../state/model';

export const SessionContext = createContext<ChatSession | null>(null);

export function useSession(): ChatSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionContext');
  return session;
}

/** Subscribe to a slice of the state; the selector must return stable values (slices, primitives). */
export function useChat<T>(selector: (state: ChatState) => T): T {
  const { store } = useSession();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The current time, ticking every `ms` while `active`. */
export function useNow(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}
