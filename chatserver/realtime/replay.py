"""Database reads behind the socket: what to subscribe, what a resume replays.

Access is checked again here: a room the user has left or been removed from
replays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connection

from chatserver.chat.models import Membership, Room
from chatserver.events.models import RoomEvent, UserEvent


@dataclass
class RoomReplay:
    status: str  # "events", "resync" or "gone"
    last_seq: int = 0
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, type, frame)


# Plain SQL for the reads every (re)connect makes: building the ORM queries was
# most of their cost in a reconnect storm (py-spy, bench storm --profile).


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def room_seqs(user_id: int) -> dict[int, int]:
    """Return {room_id: last_seq} for every room the user is in."""
    return {int(r): int(s) for r, s in _rows(
        f"SELECT m.room_id, r.last_seq FROM {Membership._meta.db_table} m "  # noqa: S608
        f"JOIN {Room._meta.db_table} r ON r.id = m.room_id WHERE m.user_id = %s", [user_id])}


def user_stream_seq(user_id: int) -> int:
    """The newest seq of the user's own stream (rooms added/removed)."""
    from chatserver.accounts.models import User

    rows = _rows(f"SELECT stream_seq FROM {User._meta.db_table} WHERE id = %s",  # noqa: S608
                 [user_id])
    return int(rows[0][0]) if rows else 0


def load_replay(user_id: int, wanted: dict[int, int]) -> dict[int, RoomReplay]:
    limit: int = settings.CHAT["MAX_REPLAY_EVENTS"]
    current = {r: seq for r, seq in room_seqs(user_id).items() if r in wanted}
    out: dict[int, RoomReplay] = {}
    for room_id, after in wanted.items():
        if room_id not in current:
            out[room_id] = RoomReplay("gone")
            continue
        last = current[room_id]
        if after >= last:
            out[room_id] = RoomReplay("events", last)
            continue
        rows = list(
            RoomEvent.objects.filter(room_id=room_id, seq__gt=after)
            .order_by("seq")
            .values_list("seq", "type", "frame")[: limit + 1]
        )
        if len(rows) > limit or not rows or rows[0][0] != after + 1:
            # Too much to replay, or pruned past the retention window.
            out[room_id] = RoomReplay("resync", last)
        else:
            out[room_id] = RoomReplay("events", max(last, rows[-1][0]), rows)
    return out


@dataclass
class SocketStart:
    user: Any  # the signed-in User, or None when the credentials were refused
    room_seqs: dict[int, int] = field(default_factory=dict)


def open_socket(bearer: str | None, session: Any) -> SocketStart | None:
    """Who is connecting, and their rooms' seqs: one trip to the database.

    A Bearer token wins over the session cookie; a bad token is refused
    (SocketStart with user None), no credentials at all answer None (the client
    may still send an auth frame).
    """
    from chatserver.accounts.tokens import user_for_token

    user = None
    if bearer is not None:
        user = user_for_token(bearer)
        if user is None:
            return SocketStart(None)
    elif session is not None:
        from django.contrib.auth import get_user

        found = get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
        if found.is_authenticated and found.is_active:
            user = found
    if user is None:
        return None
    return SocketStart(user, room_seqs(user.id))


@dataclass
class Resume:
    rooms: dict[int, RoomReplay]
    user_frames: list[str]
    user_seq: int


def load_resume(user_id: int, wanted: dict[int, int], user_seq: int | None) -> Resume:
    """Everything a resume frame asks for, in one trip to the database.

    The stream seq is read before the stream's events, so the seq reported in
    `ready` never covers an event this resume did not include.
    """
    stream_seq = user_stream_seq(user_id)
    rooms = load_replay(user_id, wanted) if wanted else {}
    frames = load_user_events(user_id, user_seq) if user_seq is not None else []
    return Resume(rooms, frames, stream_seq)


def load_user_events(user_id: int, after: int) -> list[str]:
    return [frame for (frame,) in _rows(
        f"SELECT frame FROM {UserEvent._meta.db_table} "  # noqa: S608
        "WHERE user_id = %s AND seq > %s ORDER BY seq LIMIT 1000", [user_id, after])]
