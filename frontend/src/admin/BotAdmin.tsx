/**
 * The Bots tab's admin data sections, loaded on demand (their own chunk): a
 * site admin who only pauses a bot never downloads the forms.
 */
import './bots.css';
import type { AdminApi } from './api';
import { BotAccounts } from './BotTokens';
import { HookTokens, Rotations, StatusEndpoints } from './OpsPanels';
import { RunbookActions } from './RunbookActions';

export type BotSection = 'tokens' | 'runbooks' | 'rotations' | 'status' | 'hooks';

export default function BotAdmin({ api, section }: { api: AdminApi; section: BotSection }) {
  switch (section) {
    case 'tokens':
      return <BotAccounts api={api} />;
    case 'runbooks':
      return <RunbookActions api={api} />;
    case 'rotations':
      return <Rotations api={api} />;
    case 'status':
      return <StatusEndpoints api={api} />;
    case 'hooks':
      return <HookTokens api={api} />;
  }
}
