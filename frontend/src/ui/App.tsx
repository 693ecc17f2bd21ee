import { lazy, Suspense, useEffect, useState } from 'react';
import type { ChatSession } from '../app/session';
import { describeError } from '../net/api';
import { SessionContext, useChat, useRoute } from './context';
import { Layout } from './Layout';
import { LoginView } from './LoginView';

const InvitePage = lazy(() => import('./InvitePage'));

export function App({ session }: { session: ChatSession }) {
  return (
    <SessionContext.Provider value={session}>
      <Gate session={session} />
    </SessionContext.Provider>
  );
}

function Gate({ session }: { session: ChatSession }) {
  const me = useChat((s) => s.me);
  const connection = useChat((s) => s.connection);
  const [bootError, setBootError] = useState<string | null>(null);
  const route = useRoute();

  useEffect(() => {
    let cancelled = false;
    session.boot().catch((e) => {
      if (!cancelled) setBootError(describeError(e));
    });
    return () => {
      cancelled = true;
    };
  }, [session]);

  if (route.invite) {
    return (
      <Suspense fallback={<div className="splash" data-testid="loading">Loading…</div>}>
        <InvitePage token={route.invite} />
      </Suspense>
    );
  }
  if (me) return <Layout />;
  if (connection === 'signedOut') return <LoginView />;
  if (bootError) {
    return (
      <div className="splash" role="alert" data-testid="boot-error">
        <p>Cannot load the chat: {bootError}</p>
        <button type="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <div className="splash" data-testid="loading">
      Loading…
    </div>
  );
}
