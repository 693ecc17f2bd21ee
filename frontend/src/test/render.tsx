/** Render components against a store and a stubbed session. */
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import type { ChatSession } from '../app/session';
import type { ChatState } from '../state/model';
import { createStore } from '../state/store';
import { SessionContext } from '../ui/context';

export function stubSession(state: ChatState, overrides: Partial<Record<keyof ChatSession, unknown>> = {}) {
  const store = createStore(state);
  const session = {
    store,
    get state() {
      return store.getState();
    },
    send: vi.fn(() => 'cid'),
    notifyTyping: vi.fn(),
    loadMembers: vi.fn(async () => []),
    searchUsers: vi.fn(async () => []),
    loadBots: vi.fn(async () => undefined),
    deleteMessage: vi.fn(async () => undefined),
    editMessage: vi.fn(async () => undefined),
    toggleReaction: vi.fn(async () => undefined),
    togglePin: vi.fn(async () => undefined),
    loadPins: vi.fn(async () => undefined),
    ...overrides,
  };
  return session as unknown as ChatSession & Record<string, ReturnType<typeof vi.fn>>;
}

export function renderWith(session: ChatSession, ui: ReactElement) {
  return render(<SessionContext.Provider value={session}>{ui}</SessionContext.Provider>);
}
