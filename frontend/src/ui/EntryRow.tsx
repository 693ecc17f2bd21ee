import type { Entry } from '../state/selectors';
import { MessageItem } from './MessageItem';
import { PendingItem } from './PendingItem';

/** One row of a message list: a message, a bot answer only I see, or my unsent message. */
export function EntryRow(props: {
  entry: Entry;
  grouped: boolean;
  highlighted?: boolean;
  inThread?: boolean;
  onOpenThread?: (rootId: number) => void;
}) {
  const { entry } = props;
  if (entry.kind === 'pending') return <PendingItem pending={entry.pending} grouped={props.grouped} />;
  return (
    <MessageItem
      message={entry.message}
      grouped={props.grouped}
      highlighted={props.highlighted}
      ephemeral={entry.kind === 'ephemeral'}
      inThread={props.inThread}
      onOpenThread={props.onOpenThread}
    />
  );
}
