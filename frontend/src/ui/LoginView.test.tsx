// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatSession } from '../app/session';
import { ApiError, type Api } from '../net/api';
import { createStore } from '../state/store';
import { createFakeSocket } from '../test/fakeSocket';
import { render } from '@testing-library/react';
import { App } from './App';

afterEach(cleanup);

describe('sign in', () => {
  it('shows the sign-in form, then a clear error on bad credentials', async () => {
    const api = {
      maybeSignedIn: () => false,
      login: vi.fn(async () => {
        throw new ApiError(401, 'bad_credentials', 'Wrong username or password.');
      }),
    };
    const session = new ChatSession({
      store: createStore(),
      api: api as unknown as Api,
      createSocket: createFakeSocket,
      socketUrl: 'ws://test/ws/',
    });
    render(<App session={session} />);
    const user = await screen.findByTestId('login-username');
    fireEvent.change(user, { target: { value: 'ann' } });
    fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'nope' } });
    fireEvent.submit(screen.getByTestId('login-form'));
    await waitFor(() => expect(screen.getByTestId('login-error').textContent).toBe('Wrong username or password.'));
    expect(api.login).toHaveBeenCalledWith('ann', 'nope');
  });
});
