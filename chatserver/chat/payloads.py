"""Plain-dict shapes of users, rooms and messages, shared by REST and events.

Built by hand (not by DRF serializers) because they run on the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .models import Message, Reaction


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_brief(user) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name or user.username,
        "is_bot": user.is_bot,
    }


def user_full(user, presence: str | None = None) -> dict[str, Any]:
    data = user_brief(user)
    data.update(role=user.role, is_active=user.is_active, timezone=user.zone)
    if presence is not None:
        data["presence"] = presence
    return data


def reactions_summary(rows: Iterable[Reaction]) -> list[dict[str, Any]]:
    by_emoji: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        by_emoji[r.emoji].append(r.user_id)
    return [{"emoji": e, "count": len(u), "users": u} for e, u in by_emoji.items()]


def message_dict(msg: Message, reactions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    deleted = msg.deleted
    return {
        "id": msg.id,
        "room": msg.room_id,
        "seq": msg.seq,
        "author": user_brief(msg.author),
        "body": "" if deleted else msg.body,
        "html": "" if deleted else msg.html,
        "thread_id": msg.thread_root_id,
        "reply_count": msg.reply_count,
        "created_at": iso(msg.created_at),
        "edited_at": iso(msg.edited_at),
        "deleted": deleted,
        "reactions": reactions or [],
        "pinned_at": iso(msg.pinned_at),
        "pinned_by": msg.pinned_by_id,
    }


def messages_with_reactions(messages: list[Message]) -> list[dict[str, Any]]:
    """Serialize a page of messages with one extra query for all their reactions."""
    ids = [m.id for m in messages]
    grouped: dict[int, list[Reaction]] = defaultdict(list)
    if ids:
        for r in Reaction.objects.filter(message_id__in=ids).order_by("id"):
            grouped[r.message_id].append(r)
    return [message_dict(m, reactions_summary(grouped[m.id])) for m in messages]


def room_dict(room, membership=None, *, unread: int = 0, mentions: int = 0,
              member_count: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": room.id,
        "name": room.name,
        "topic": room.topic,
        "visibility": room.visibility,
        "archived": room.archived,
        "posting_policy": room.posting_policy,
        "invite_policy": room.invite_policy,
        "allow_bots": room.allow_bots,
        "retention_days": room.retention_days,
        "last_seq": room.last_seq,
        "created_at": iso(room.created_at),
        "joined": membership is not None,
        "role": membership.role if membership is not None else None,
        "last_read_seq": membership.last_read_seq if membership is not None else None,
        "unread": unread,
        "mentions": mentions,
    }
    if member_count is not None:
        data["member_count"] = member_count
    return data
