/** The app itself, loaded by main.tsx once the first requests are on their way. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatSession } from './app/session';
import { createApi } from './net/api';
import { createStore } from './state/store';
import { App } from './ui/App';

const session = new ChatSession({ store: createStore(), api: createApi() });
window.addEventListener('online', () => session.reconnectNow());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App session={session} />
  </StrictMode>,
);
