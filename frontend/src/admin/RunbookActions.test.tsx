// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi, type RunbookAction } from './api';
import { DraftError, emptyRunbook, runbookDraft, runbookPayload } from './botData';
import { RunbookActions } from './RunbookActions';
import { fakeServer, type Call } from './testServer';

const existing: RunbookAction = {
  id: 5,
  name: 'restart',
  description: 'Restart a service',
  argv: ['/usr/bin/systemctl', 'restart', '{service}'],
  params: { service: { type: 'choice', choices: ['api', 'web'], required: true } },
  cwd: '',
  env: {},
  timeout_seconds: 120,
  run_policy: ['role:admin'],
  needs_approval: true,
  enabled: true,
};

function setup(extra: (c: Call) => { status?: number; body?: unknown } | undefined = () => undefined) {
  const items: RunbookAction[] = [{ ...existing }];
  const server = fakeServer((c) => {
    const own = extra(c);
    if (own) return own;
    if (c.path === '/admin/bots/runbook-actions' && c.method === 'GET') return { body: { results: items, next: null } };
    if (c.path === '/admin/bots/runbook-actions' && c.method === 'POST') {
      const made = { ...(c.body as RunbookAction), id: 6 };
      items.push(made);
      return { status: 201, body: made };
    }
    const m = /^\/admin\/bots\/runbook-actions\/(\d+)$/.exec(c.path);
    const at = m ? items.findIndex((a) => a.id === Number(m[1])) : -1;
    if (m && c.method === 'PATCH') {
      items[at] = { ...items[at], ...(c.body as Partial<RunbookAction>) };
      return { body: items[at] };
    }
    if (m && c.method === 'DELETE') {
      items.splice(at, 1);
      return { status: 204 };
    }
    return undefined;
  });
  renderWith(stubSession(startedState(), { api: server.api }), <RunbookActions api={adminApi(server.api)} />);
  return server;
}

const change = (testId: string, value: string, root: HTMLElement = document.body) =>
  fireEvent.change(within(root).getByTestId(testId), { target: { value } });

describe('RunbookActions', () => {
  afterEach(cleanup);

  it('creates an action with typed parameters, env and policy as the documented JSON', async () => {
    const { calls } = setup();
    await screen.findByTestId('runbook-5');
    fireEvent.click(screen.getByTestId('runbook-new'));
    const form = screen.getByTestId('runbook-form');
    change('rb-name', 'deploy');
    change('rb-description', 'Deploy a version');
    change('rb-argv', '/opt/deploy.sh\n--service\n{service}\n\n{version}\n');
    fireEvent.click(within(form).getByTestId('rb-param-add'));
    fireEvent.click(within(form).getByTestId('rb-param-add'));
    const [p1, p2] = within(form).getAllByTestId('rb-param');
    change('rb-param-name', 'service', p1);
    change('rb-param-type', 'choice', p1);
    change('rb-param-choices', 'api, web  worker', p1);
    change('rb-param-name', 'version', p2);
    change('rb-param-pattern', '[0-9.]+', p2);
    fireEvent.click(within(p2).getByTestId('rb-param-required'));
    change('rb-param-default', '1.0', p2);
    change('rb-cwd', '/srv/app');
    change('rb-env', 'DEPLOY_ENV=prod\nTOKEN_FILE=/etc/t=x');
    change('rb-timeout', '300');
    change('rb-policy', 'role:admin, user:4');
    fireEvent.click(within(form).getByTestId('rb-approval'));
    fireEvent.submit(form);
    await screen.findByTestId('runbook-6');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'deploy',
      description: 'Deploy a version',
      argv: ['/opt/deploy.sh', '--service', '{service}', '{version}'],
      params: {
        service: { type: 'choice', required: true, choices: ['api', 'web', 'worker'] },
        version: { type: 'str', required: false, pattern: '[0-9.]+', default: '1.0' },
      },
      cwd: '/srv/app',
      env: { DEPLOY_ENV: 'prod', TOKEN_FILE: '/etc/t=x' },
      timeout_seconds: 300,
      run_policy: ['role:admin', 'user:4'],
      needs_approval: true,
      enabled: true,
    });
    expect(screen.queryByTestId('runbook-form')).toBeNull();
    expect(screen.getByTestId('runbook-saved').textContent).toContain('deploy');
  });

  it("shows each of the server's 400 reasons next to its field and keeps the form", async () => {
    setup((c) =>
      c.method === 'POST'
        ? {
            status: 400,
            body: {
              error: {
                code: 'invalid',
                message: 'Invalid input.',
                fields: { name: ['runbook action with this name already exists.'], argv: ['the program (argv[0]) must be fixed, not a parameter'] },
              },
            },
          }
        : undefined,
    );
    await screen.findByTestId('runbook-5');
    fireEvent.click(screen.getByTestId('runbook-new'));
    change('rb-name', 'restart');
    change('rb-argv', '{cmd}');
    fireEvent.submit(screen.getByTestId('runbook-form'));
    expect((await screen.findByTestId('field-error-argv')).textContent).toBe('the program (argv[0]) must be fixed, not a parameter');
    expect(screen.getByTestId('field-error-name').textContent).toBe('runbook action with this name already exists.');
    const argvLabel = screen.getByTestId('rb-argv').closest('label')!;
    expect(within(argvLabel).getByTestId('field-error-argv')).toBeTruthy();
    expect((screen.getByTestId('rb-name') as HTMLInputElement).value).toBe('restart');
    expect(screen.queryByTestId('field-error-cwd')).toBeNull();
  });

  it('refuses an env line without NAME= before sending anything', async () => {
    const { calls } = setup();
    await screen.findByTestId('runbook-5');
    fireEvent.click(screen.getByTestId('runbook-new'));
    change('rb-name', 'x');
    change('rb-argv', '/bin/true');
    change('rb-env', 'JUSTANAME');
    fireEvent.submit(screen.getByTestId('runbook-form'));
    expect((await screen.findByTestId('field-error-env')).textContent).toContain('NAME=value');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('edits an existing action, disables and deletes it', async () => {
    const { calls } = setup();
    const row = await screen.findByTestId('runbook-5');
    expect(row.textContent).toContain('needs approval');
    fireEvent.click(within(row).getByTestId('runbook-edit'));
    expect((screen.getByTestId('rb-argv') as HTMLTextAreaElement).value).toBe('/usr/bin/systemctl\nrestart\n{service}');
    expect((screen.getByTestId('rb-param-choices') as HTMLInputElement).value).toBe('api, web');
    change('rb-timeout', '30');
    fireEvent.submit(screen.getByTestId('runbook-form'));
    await waitFor(() => expect(screen.queryByTestId('runbook-form')).toBeNull());
    const patch = calls.find((c) => c.method === 'PATCH');
    expect(patch?.path).toBe('/admin/bots/runbook-actions/5');
    expect(patch?.body).toMatchObject({ timeout_seconds: 30, argv: existing.argv, params: { service: { type: 'choice', choices: ['api', 'web'] } } });

    fireEvent.click(within(screen.getByTestId('runbook-5')).getByTestId('runbook-toggle'));
    await waitFor(() => expect(screen.getByTestId('runbook-5').getAttribute('data-enabled')).toBe('false'));
    expect(calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({ enabled: false });

    fireEvent.click(within(screen.getByTestId('runbook-5')).getByTestId('runbook-delete'));
    fireEvent.click(within(screen.getByTestId('runbook-5')).getByTestId('confirm-runbook-delete'));
    await waitFor(() => expect(screen.queryByTestId('runbook-5')).toBeNull());
    expect(await screen.findByTestId('runbook-empty')).toBeTruthy();
  });
});

describe('runbook drafts', () => {
  it('round-trip an action and convert numbers', () => {
    const back = runbookPayload(runbookDraft({ ...existing, params: { n: { type: 'int', min: 1, max: 9, default: 3, required: false } }, argv: ['/bin/x', '{n}'], env: { A: '1' } }));
    expect(back).toMatchObject({ argv: ['/bin/x', '{n}'], params: { n: { type: 'int', min: 1, max: 9, default: 3, required: false } }, env: { A: '1' }, run_policy: ['role:admin'] });
  });

  it('name the field that cannot be converted', () => {
    const d = emptyRunbook();
    expect(() => runbookPayload({ ...d, timeout: 'soon' })).toThrow(DraftError);
    let caught: unknown = null;
    try {
      runbookPayload({ ...d, params: [{ key: 1, name: 'n', type: 'int', choices: '', pattern: '', min: 'x', max: '', required: true, default: '' }] });
    } catch (e) {
      caught = e;
    }
    expect((caught as DraftError).fields).toEqual({ params: 'n: min must be a whole number.' });
    expect(runbookPayload(d).run_policy).toEqual(['room:member']);
  });
});
