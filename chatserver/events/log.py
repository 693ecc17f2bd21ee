"""Append events inside the writing transaction; publish them after commit.

`next_room_seq` bumps Room.last_seq with UPDATE ... RETURNING. The row lock it
takes is held to commit, so a later transaction gets the next number only
after this one committed: seq order equals commit order, without gaps.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import RoomEvent, UserEvent
from .sql import insert_returning_ids, lock_by_id, update_by_id


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def next_room_seq(room_id: int) -> int:
    return next_room_seqs({room_id: 1})[room_id]


def next_room_seqs(counts: dict[int, int]) -> dict[int, int]:
    """Reserve counts[room] seqs in each room; return each room's new last seq.

    The reserved seqs of a room are last - count + 1 .. last. Rooms are locked
    in id order, so concurrent writers touching several rooms cannot deadlock.
    """
    lock_by_id("chat_room", list(counts))
    got = dict(update_by_id("chat_room", "last_seq", counts, add=True, returning=True))
    missing = set(counts) - set(got)
    if missing:
        raise LookupError(f"rooms {sorted(missing)} vanished")
    return got


def next_user_seq(user_id: int) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE accounts_user SET stream_seq = stream_seq + 1 WHERE id = %s "
            "RETURNING stream_seq",
            [user_id],
        )
        row = cur.fetchone()
    if row is None:
        raise LookupError(f"user {user_id} vanished")
    return int(row[0])


def append_room_event(room_id: int, event_type: str, payload: dict[str, Any], *,
                      seq: int | None = None, target_user: int = 0,
                      message_id: int | None = None) -> int:
    """Record one room event and publish it once the transaction commits.

    Must run inside transaction.atomic(). Returns the event's seq.
    """
    if seq is None:
        seq = next_room_seq(room_id)
    append_room_events([(room_id, seq, event_type, payload, target_user, message_id)])
    return seq


PendingEvent = tuple[int, int, str, dict[str, Any], int, int | None]


def append_room_events(events: list[PendingEvent]) -> None:
    """Record room events (room, seq, type, payload, target_user, message_id) whose
    seqs the caller reserved; publish them together once the transaction commits."""
    now = timezone.now()
    rows = []
    published = []
    for room_id, seq, event_type, payload, target_user, message_id in events:
        frame = dumps({"type": event_type, "room": room_id, "seq": seq, **payload})
        rows.append(RoomEvent(room_id=room_id, seq=seq, type=event_type, frame=frame,
                              created_at=now, message_id=message_id))
        published.append((room_id, seq, event_type, target_user, frame))
    insert_returning_ids(rows)
    from chatserver.realtime.hub import publish_rooms

    transaction.on_commit(lambda: publish_rooms(published))


# Events whose frame holds the whole message: deletion rewrites them.
MESSAGE_FRAME_TYPES = ("message.new", "message.edited", "message.pinned", "message.unpinned")


def redact_message_events(room_id: int, message_id: int, message: dict[str, Any]) -> None:
    """Rewrite the stored frames that hold a deleted message (new, edited, pinned,
    unpinned).

    The events keep their seq and their other fields (resume stays gapless) but
    replay the deleted form, so deleted text is never sent again.
    """
    rows = RoomEvent.objects.filter(
        room_id=room_id, message_id=message_id, type__in=MESSAGE_FRAME_TYPES
    ).values_list("id", "frame")
    for event_id, frame in list(rows):
        data = json.loads(frame)
        data["message"] = message
        RoomEvent.objects.filter(id=event_id).update(frame=dumps(data))


def append_user_event(user_id: int, event_type: str, payload: dict[str, Any]) -> int:
    seq = next_user_seq(user_id)
    frame = dumps({"type": event_type, "user_seq": seq, **payload})
    UserEvent.objects.create(
        user_id=user_id, seq=seq, type=event_type, frame=frame, created_at=timezone.now()
    )
    from chatserver.realtime.hub import publish_user

    transaction.on_commit(lambda: publish_user(user_id, event_type, frame))
    return seq
