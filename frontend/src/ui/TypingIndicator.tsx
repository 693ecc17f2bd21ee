import type { ChatState } from '../state/model';
import { typingUserIds } from '../state/selectors';
import { useChat, useNow } from './context';

const EMPTY = {};

export function TypingIndicator({ roomId }: { roomId: number }) {
  const typing = useChat((s: ChatState) => s.typing[roomId] ?? EMPTY);
  const users = useChat((s) => s.users);
  const now = useNow(Object.keys(typing).length > 0, 1000);
  const names = typingUserIds(typing, now).map((id) => users[id]?.display_name || users[id]?.username || 'Someone');
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = 'Several people are typing…';
  return (
    <div className="typing-indicator" aria-live="polite" data-testid="typing-indicator">
      {text}
    </div>
  );
}
