"""Database reads behind the socket: what to subscribe, what a resume replays.

Access is checked again here: a room the user has left or been removed from
replays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from chatserver.chat.models import Membership
from chatserver.events.models import RoomEvent, UserEvent


@dataclass
class RoomReplay:
    status: str  # "events", "resync" or "gone"
    last_seq: int = 0
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, type, frame)


def room_seqs(user_id: int) -> dict[int, int]:
    """Return {room_id: last_seq} for every room the user is in."""
    return dict(
        Membership.objects.filter(user_id=user_id).values_list("room_id", "room__last_seq")
    )


def user_stream_seq(user_id: int) -> int:
    """The newest seq of the user's own stream (rooms added/removed)."""
    from chatserver.accounts.models import User

    return User.objects.filter(id=user_id).values_list("stream_seq", flat=True).first() or 0


def load_replay(user_id: int, wanted: dict[int, int]) -> dict[int, RoomReplay]:
    limit: int = settings.CHAT["MAX_REPLAY_EVENTS"]
    current: dict[int, int] = dict(
        Membership.objects.filter(user_id=user_id, room_id__in=list(wanted)).values_list(
            "room_id", "room__last_seq"
        )
    )
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


def load_user_events(user_id: int, after: int) -> list[str]:
    return list(
        UserEvent.objects.filter(user_id=user_id, seq__gt=after)
        .order_by("seq")
        .values_list("frame", flat=True)[:1000]
    )
