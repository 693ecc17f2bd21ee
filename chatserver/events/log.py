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


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def next_room_seq(room_id: int) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE chat_room SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",
            [room_id],
        )
        row = cur.fetchone()
    if row is None:
        raise LookupError(f"room {room_id} vanished")
    return int(row[0])


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
    frame = dumps({"type": event_type, "room": room_id, "seq": seq, **payload})
    RoomEvent.objects.create(
        room_id=room_id, seq=seq, type=event_type, frame=frame, created_at=timezone.now(),
        message_id=message_id,
    )
    from chatserver.realtime.hub import publish_room

    transaction.on_commit(lambda: publish_room(room_id, seq, event_type, target_user, frame))
    return seq


def redact_message_events(room_id: int, message_id: int, message: dict[str, Any]) -> None:
    """Rewrite the stored message.new/edited frames of a deleted message.

    The events keep their seq (resume stays gapless) but replay the deleted
    form, so deleted text is never sent again.
    """
    rows = RoomEvent.objects.filter(
        room_id=room_id, message_id=message_id, type__in=["message.new", "message.edited"]
    ).values_list("id", "seq", "type")
    for event_id, seq, event_type in list(rows):
        frame = dumps({"type": event_type, "room": room_id, "seq": seq,
                       "message": dict(message, seq=message["seq"])})
        RoomEvent.objects.filter(id=event_id).update(frame=frame)


def append_user_event(user_id: int, event_type: str, payload: dict[str, Any]) -> int:
    seq = next_user_seq(user_id)
    frame = dumps({"type": event_type, "user_seq": seq, **payload})
    UserEvent.objects.create(
        user_id=user_id, seq=seq, type=event_type, frame=frame, created_at=timezone.now()
    )
    from chatserver.realtime.hub import publish_user

    transaction.on_commit(lambda: publish_user(user_id, event_type, frame))
    return seq
