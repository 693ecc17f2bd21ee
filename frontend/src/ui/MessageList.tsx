import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type Components, type VirtuosoHandle } from 'react-virtuoso';
import type { Timeline } from '../state/model';
import { roomHash } from '../app/route';
import { roomEntries, type Entry } from '../state/selectors';
import { useChat, useSession } from './context';
import { dayKey, dayLabel, GROUP_SPAN_MS } from './format';
import { EntryRow } from './EntryRow';

const EDGES: Components<Entry, Timeline> = {
  Header: ({ context }) => (
    <div className="list-edge">
      {context?.hasOlder ? 'Loading older messages…' : 'This is the beginning of the room.'}
    </div>
  ),
  Footer: ({ context }) => (context?.hasNewer ? <div className="list-edge">Loading newer messages…</div> : null),
};

/** Virtuoso needs a positive index for the first item; prepending lowers it. */
const START_INDEX = 1_000_000;

interface Props {
  roomId: number;
  focusId: number | null;
  readAtOpen: number;
  onOpenThread: (rootId: number) => void;
}

function entryTime(e: Entry): string {
  return e.kind === 'pending' ? e.pending.createdAt : e.message.created_at;
}

function entryAuthor(e: Entry, meId: number | undefined): number | undefined {
  return e.kind === 'pending' ? meId : e.message.author.id;
}

/**
 * Keep Virtuoso's firstItemIndex in step with the entries: lower it by the
 * number of entries prepended, raise it when the top entries went away, and
 * start over (a new list) when the window was replaced by a jump or reload.
 * A jump's window may overlap the one before it (a pinned message or search
 * hit a page back), so a new jump always starts over.
 */
function useFirstIndex(entries: Entry[], jump: number): { firstIndex: number; generation: number } {
  const ref = useRef({ keys: [] as string[], firstIndex: START_INDEX, generation: 0, jump });
  const r = ref.current;
  const keys = entries.map((e) => e.key);
  if (jump !== r.jump) {
    r.jump = jump;
    r.generation += 1;
    r.firstIndex = START_INDEX;
  } else if (keys[0] !== r.keys[0]) {
    const oldFirstNowAt = r.keys.length ? keys.indexOf(r.keys[0]) : -1;
    const newFirstWasAt = keys.length ? r.keys.indexOf(keys[0]) : -1;
    if (oldFirstNowAt > 0) r.firstIndex -= oldFirstNowAt;
    else if (newFirstWasAt > 0) r.firstIndex += newFirstWasAt;
    else if (r.keys.length) {
      r.generation += 1;
      r.firstIndex = START_INDEX;
    }
  }
  r.keys = keys;
  return { firstIndex: r.firstIndex, generation: r.generation };
}

export function MessageList({ roomId, focusId, readAtOpen, onOpenThread }: Props) {
  const session = useSession();
  const timeline = useChat((s) => s.timelines[roomId]);
  const messages = useChat((s) => s.messages);
  const ephemeral = useChat((s) => s.ephemeral[roomId]);
  const pending = useChat((s) => s.pending);
  const me = useChat((s) => s.me);
  const unread = useChat((s) => s.rooms[roomId]?.unread ?? 0);
  const lastSeq = useChat((s) => s.rooms[roomId]?.last_seq ?? 0);
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [highlight, setHighlight] = useState<number | null>(null);

  const entries = useMemo(
    () =>
      timeline ? roomEntries(timeline.ids, messages, ephemeral, pending, roomId, !timeline.hasNewer) : [],
    [timeline, messages, ephemeral, pending, roomId],
  );
  const { firstIndex, generation } = useFirstIndex(entries, timeline?.jump ?? 0);
  const focusAt = focusId != null ? entries.findIndex((e) => e.kind === 'message' && e.message.id === focusId) : -1;

  // The first message after my read position when the room opened.
  const firstNewKey = useMemo(() => {
    const e = entries.find(
      (x) => x.kind === 'message' && x.message.seq > readAtOpen && x.message.author.id !== me?.id,
    );
    return readAtOpen > 0 ? e?.key : undefined;
  }, [entries, readAtOpen, me]);

  // Scroll to and flash the message a link points at.
  useEffect(() => {
    if (focusId == null || focusAt < 0) return;
    virtuoso.current?.scrollToIndex({ index: focusAt, align: 'center' });
    setHighlight(focusId);
    const t = setTimeout(() => setHighlight(null), 2500);
    return () => clearTimeout(t);
  }, [focusId, focusAt >= 0, generation]); // not on every shift of focusAt: only when it appears

  // Reading: at the bottom of a live window while the page is visible means read.
  const live = !!timeline && !timeline.hasNewer;
  const markIfReading = useCallback(() => {
    if (atBottom && live && document.visibilityState === 'visible') session.markRoomRead(roomId);
  }, [atBottom, live, session, roomId]);
  useEffect(markIfReading, [markIfReading, unread, lastSeq, entries.length]);
  useEffect(() => {
    window.addEventListener('focus', markIfReading);
    document.addEventListener('visibilitychange', markIfReading);
    return () => {
      window.removeEventListener('focus', markIfReading);
      document.removeEventListener('visibilitychange', markIfReading);
    };
  }, [markIfReading]);

  const onRange = useCallback(
    (range: { endIndex: number }) => {
      const e = entries[range.endIndex - firstIndex];
      if (e?.kind === 'message' && document.visibilityState === 'visible') session.markRead(roomId, e.message.seq);
    },
    [entries, firstIndex, session, roomId],
  );

  const jumpToLatest = () => {
    if (timeline?.hasNewer) {
      window.location.hash = roomHash(roomId);
      void session.loadLatest(roomId);
    } else {
      virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' });
    }
  };

  if (!timeline) {
    return (
      <div className="message-list loading" data-testid="message-list" data-state="loading">
        Loading messages…
      </div>
    );
  }

  const renderEntry = (index: number, entry: Entry) => {
    const i = index - firstIndex;
    const prev = i > 0 ? entries[i - 1] : undefined;
    const time = entryTime(entry);
    const newDay = !prev || dayKey(entryTime(prev)) !== dayKey(time);
    const isNew = entry.key === firstNewKey;
    const grouped =
      !!prev &&
      !newDay &&
      !isNew &&
      entry.kind !== 'ephemeral' &&
      prev.kind !== 'ephemeral' &&
      entryAuthor(prev, me?.id) === entryAuthor(entry, me?.id) &&
      Date.parse(time) - Date.parse(entryTime(prev)) < GROUP_SPAN_MS;
    return (
      <div className="entry">
        {newDay && (
          <div className="day-separator" role="separator" data-testid="day-separator">
            <span>{dayLabel(time)}</span>
          </div>
        )}
        {isNew && (
          <div className="new-separator" role="separator" data-testid="new-separator">
            <span>New</span>
          </div>
        )}
        <EntryRow
          entry={entry}
          grouped={grouped}
          highlighted={entry.kind === 'message' && entry.message.id === highlight}
          onOpenThread={onOpenThread}
        />
      </div>
    );
  };

  return (
    <div className="message-list" data-testid="message-list" data-state="ready">
      {entries.length === 0 ? (
        <div className="empty-room">No messages yet. Say hello!</div>
      ) : (
        <Virtuoso
          key={generation}
          ref={virtuoso}
          className="virtuoso"
          data={entries}
          firstItemIndex={firstIndex}
          initialTopMostItemIndex={focusAt >= 0 ? { index: focusAt, align: 'center' } : { index: entries.length - 1, align: 'end' }}
          computeItemKey={(_, e) => e.key}
          itemContent={renderEntry}
          startReached={() => void session.loadOlder(roomId)}
          endReached={() => void session.loadNewer(roomId)}
          followOutput={(bottom) => (bottom || entries[entries.length - 1]?.kind === 'pending' ? 'auto' : false)}
          atBottomStateChange={setAtBottom}
          atBottomThreshold={40}
          rangeChanged={onRange}
          increaseViewportBy={{ top: 400, bottom: 200 }}
          context={timeline}
          components={EDGES}
        />
      )}
      {(!atBottom || timeline.hasNewer) && entries.length > 0 && (
        <button type="button" className="jump-latest" onClick={jumpToLatest} data-testid="jump-latest">
          {unread > 0 ? `${unread} new · ` : ''}Jump to latest ↓
        </button>
      )}
    </div>
  );
}
