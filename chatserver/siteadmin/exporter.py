"""Data export and import as JSON lines.

One JSON object per line, each with a "type":
  meta        {"version": 1, "exported_at"}
  user        {"id", "username", "display_name", "role", "is_bot", "is_active",
               "timezone" ("" for the site's)}
  room        {"id", "name", "topic", "visibility", "archived", "posting_policy",
               "invite_policy", "allow_bots", "retention_days", "created_at"}
  membership  {"room", "user", "role"}
  message     {"id", "room", "author", "body", "thread_root", "created_at", "edited_at",
               "pinned_at"?, "pinned_by"? (pinned messages only)}
  reaction    {"message", "user", "emoji"}
Ids are the exporting server's; import maps them to new rows. Passwords and
tokens are never exported: imported people sign in after an admin sets a
password or sends them an invite. Deleted messages are not exported.

Import writes each room in one transaction the way the live write path does:
members join with member.joined events, messages get consecutive seqs with
message.new events, reactions reaction.added events, so sockets, resume and
history work on imported rooms exactly as on any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chatserver.accounts.models import Role, User
from chatserver.accounts.timezones import is_zone
from chatserver.chat import actions, markdown
from chatserver.chat.models import (
    InvitePolicy,
    Membership,
    Message,
    PostingPolicy,
    Reaction,
    Room,
    RoomRole,
    Visibility,
)
from chatserver.chat.payloads import iso, message_dict
from chatserver.events.log import PendingEvent, append_room_events, next_room_seqs
from chatserver.events.tx import write_transaction

VERSION = 1


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_lines(room_ids: list[int] | None = None) -> Iterator[str]:
    """The rooms (all when None) with their members, messages, reactions, and the users
    they involve, as JSON lines."""
    rooms = Room.objects.order_by("id")
    if room_ids is not None:
        rooms = rooms.filter(id__in=room_ids)
    room_list = list(rooms)
    ids = [r.id for r in room_list]
    yield _line({"type": "meta", "version": VERSION, "exported_at": iso(timezone.now())})
    users = User.objects.order_by("id")
    if room_ids is not None:
        users = users.filter(Q(memberships__room_id__in=ids) | Q(messages__room_id__in=ids)
                             ).distinct()
    for u in users.iterator(chunk_size=1000):
        yield _line({"type": "user", "id": u.id, "username": u.username,
                     "display_name": u.display_name, "role": u.role, "is_bot": u.is_bot,
                     "is_active": u.is_active, "timezone": u.timezone})
    for room in room_list:
        yield _line({"type": "room", "id": room.id, "name": room.name, "topic": room.topic,
                     "visibility": room.visibility, "archived": room.archived,
                     "posting_policy": room.posting_policy,
                     "invite_policy": room.invite_policy, "allow_bots": room.allow_bots,
                     "retention_days": room.retention_days,
                     "created_at": iso(room.created_at)})
    for m in Membership.objects.filter(room_id__in=ids).order_by("id").iterator(chunk_size=1000):
        yield _line({"type": "membership", "room": m.room_id, "user": m.user_id, "role": m.role})
    messages = Message.objects.filter(room_id__in=ids, deleted=False).order_by("room_id", "seq")
    for msg in messages.iterator(chunk_size=1000):
        line = {"type": "message", "id": msg.id, "room": msg.room_id,
                "author": msg.author_id, "body": msg.body,
                "thread_root": msg.thread_root_id, "created_at": iso(msg.created_at),
                "edited_at": iso(msg.edited_at)}
        if msg.pinned_at is not None:
            line.update(pinned_at=iso(msg.pinned_at), pinned_by=msg.pinned_by_id)
        yield _line(line)
    reactions = Reaction.objects.filter(message__room_id__in=ids, message__deleted=False)
    for reaction in reactions.order_by("id").iterator(chunk_size=1000):
        yield _line({"type": "reaction", "message": reaction.message_id,
                     "user": reaction.user_id, "emoji": reaction.emoji})


class ImportError_(ValueError):
    """A line of the input is not what the format says (reported with its line number)."""


@dataclass
class Dataset:
    """What an import brings, keyed by the source's ids (any hashable)."""

    users: dict[Any, dict[str, Any]] = field(default_factory=dict)
    rooms: dict[Any, dict[str, Any]] = field(default_factory=dict)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)


def read_lines(lines: Iterable[str]) -> Dataset:
    ds = Dataset()
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            kind = obj["type"]
            if kind == "meta":
                if obj.get("version") != VERSION:
                    raise ImportError_(f"line {n}: unsupported version {obj.get('version')!r}")
            elif kind == "user":
                ds.users[obj["id"]] = obj
            elif kind == "room":
                ds.rooms[obj["id"]] = obj
            elif kind == "membership":
                ds.memberships.append(obj)
            elif kind == "message":
                ds.messages.append(obj)
            elif kind == "reaction":
                ds.reactions.append(obj)
            else:
                raise ImportError_(f"line {n}: unknown type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ImportError_):
                raise
            raise ImportError_(f"line {n}: {exc}") from None
    return ds


def _time(value: Any, default: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        return default
    return parsed


def _clean_username(name: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    cleaned = "".join(c if c in allowed else "_" for c in name)[:150]
    return cleaned or "user"


def _import_users(ds: Dataset) -> dict[Any, User]:
    """Users with a known username are reused; new ones get no usable password."""
    mapped: dict[Any, User] = {}
    existing = {u.username.lower(): u for u in User.objects.filter(
        username__in=[_clean_username(str(u["username"])) for u in ds.users.values()])}
    unusable = make_password(None)
    for src_id, data in ds.users.items():
        username = _clean_username(str(data["username"]))
        user = existing.get(username.lower())
        if user is None:
            role = data.get("role", Role.MEMBER)
            user = User(username=username, display_name=str(data.get("display_name") or "")[:150],
                        role=role if role in (Role.MEMBER, Role.GUEST) else Role.MEMBER,
                        is_bot=bool(data.get("is_bot")),
                        is_active=bool(data.get("is_active", True)), password=unusable,
                        timezone=data["timezone"] if is_zone(data.get("timezone")) else "")
            user.save()
            existing[username.lower()] = user
        mapped[src_id] = user
    return mapped


def _free_name(name: str) -> str:
    base = (name.strip().lstrip("#") or "imported")[:70]
    candidate, n = base, 1
    while Room.objects.filter(name=candidate).exclude(visibility=Visibility.DIRECT).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def import_dataset(ds: Dataset, *, by: User | None = None) -> dict[str, int]:
    """Create everything in ds; return counts. Each room is one transaction."""
    now = timezone.now()
    with write_transaction():
        users = _import_users(ds)
    by_room: dict[Any, list[dict[str, Any]]] = {r: [] for r in ds.rooms}
    for m in ds.messages:
        if m.get("room") in by_room and m.get("author") in users:
            by_room[m["room"]].append(m)
    reactions: dict[Any, list[dict[str, Any]]] = {}
    for r in ds.reactions:
        reactions.setdefault(r.get("message"), []).append(r)
    members: dict[Any, list[dict[str, Any]]] = {r: [] for r in ds.rooms}
    for m in ds.memberships:
        if m.get("room") in members and m.get("user") in users:
            members[m["room"]].append(m)
    counts = {"users": len(users), "rooms": 0, "messages": 0, "reactions": 0}
    for src_id, data in ds.rooms.items():
        n_msgs, n_reactions = _import_room(data, members[src_id], by_room[src_id], reactions,
                                           users, by=by, now=now)
        counts["rooms"] += 1
        counts["messages"] += n_msgs
        counts["reactions"] += n_reactions
    return counts


def _import_room(data: dict[str, Any], members: list[dict[str, Any]],
                 messages: list[dict[str, Any]], reactions: dict[Any, list[dict[str, Any]]],
                 users: dict[Any, User], *, by: User | None, now: datetime) -> tuple[int, int]:
    visibility = data.get("visibility", Visibility.PUBLIC)
    if visibility not in Visibility.values:
        visibility = Visibility.PUBLIC
    with write_transaction():
        people = {users[m["user"]].id: (users[m["user"]], m.get("role", RoomRole.MEMBER))
                  for m in members}
        # Authors who left are not members any more; their messages still import.
        dm_key = None
        if visibility == Visibility.DIRECT:
            dm_key = ",".join(str(i) for i in sorted(people))
            room = Room.objects.filter(dm_key=dm_key).first()
        else:
            room = None
        if room is None:
            room = Room.objects.create(
                name=(str(data.get("name") or "dm")[:80] if dm_key
                      else _free_name(str(data.get("name") or "imported"))),
                topic=str(data.get("topic") or "")[:500], visibility=visibility, dm_key=dm_key,
                posting_policy=str(data.get("posting_policy")) if data.get("posting_policy")
                in PostingPolicy.values else PostingPolicy.EVERYONE,
                invite_policy=str(data.get("invite_policy")) if data.get("invite_policy")
                in InvitePolicy.values else InvitePolicy.EVERYONE,
                allow_bots=bool(data.get("allow_bots", True)),
                retention_days=data.get("retention_days") if isinstance(
                    data.get("retention_days"), int) and data["retention_days"] > 0 else None,
                created_by=by)
        present = set(Membership.objects.filter(room=room).values_list("user_id", flat=True))
        for uid, (user, role) in sorted(people.items()):
            if uid not in present:
                actions._add_member(room, user, role if role in RoomRole.values
                                    else RoomRole.MEMBER, by=by)
        messages = sorted(messages, key=lambda m: (_time(m.get("created_at"), now),
                                                   m.get("thread_root") is not None))
        n_reactions = _import_messages(room, messages, reactions, users, now=now)
        # Imported history is not news: members start with it read.
        Membership.objects.filter(room=room).update(
            last_read_seq=Room.objects.filter(id=room.id).values("last_seq")[:1])
        if data.get("archived"):
            Room.objects.filter(id=room.id).update(archived=True)
    return len(messages), n_reactions


def _import_messages(room: Room, messages: list[dict[str, Any]],
                     reactions: dict[Any, list[dict[str, Any]]], users: dict[Any, User], *,
                     now: datetime) -> int:
    if not messages:
        return 0
    last = next_room_seqs({room.id: len(messages)})[room.id]
    seq = last - len(messages) + 1
    names = {u.username.lower() for u in User.objects.filter(memberships__room=room)}
    rows: list[Message] = []
    for m in messages:
        body = str(m.get("body") or "")[:10_000] or " "
        mentioned = markdown.mentioned_names(body)  # as the live write path reads them
        room_wide = bool(mentioned & actions.ROOM_MENTIONS)
        edited = m.get("edited_at")
        pinned, pinner = m.get("pinned_at"), m.get("pinned_by")
        pinned = pinned if isinstance(pinned, str) and pinned else None
        rows.append(Message(
            room=room, seq=seq, author=users[m["author"]], body=body,
            html=markdown.render(body, (mentioned & names) | (
                actions.ROOM_MENTIONS if room_wide else set())),
            mentions_room=room_wide, created_at=_time(m.get("created_at"), now),
            edited_at=_time(edited, now) if edited else None,
            pinned_at=_time(pinned, now) if pinned else None,
            pinned_by=users.get(pinner) if pinned and isinstance(pinner, int | str) else None))
        seq += 1
    Message.objects.bulk_create(rows)
    by_src = {m["id"]: row for m, row in zip(messages, rows, strict=True) if "id" in m}
    replies: dict[int, int] = {}
    changed = []
    for m, row in zip(messages, rows, strict=True):
        root = by_src.get(m.get("thread_root")) if m.get("thread_root") is not None else None
        if root is not None and root.id != row.id and root.thread_root_id is None:
            row.thread_root = root
            replies[root.id] = replies.get(root.id, 0) + 1
            changed.append(row)
    if changed:
        Message.objects.bulk_update(changed, ["thread_root"])
    for row in rows:
        row.reply_count = replies.get(row.id, 0)
    Message.objects.bulk_update([r for r in rows if r.reply_count], ["reply_count"])
    events: list[PendingEvent] = [
        (room.id, row.seq, "message.new", {"message": message_dict(row, [])}, 0, row.id)
        for row in rows]
    new_reactions: list[Reaction] = []
    seen: set[tuple[int, int, str]] = set()
    for m, row in zip(messages, rows, strict=True):
        for r in reactions.get(m.get("id"), []):
            user = users.get(r.get("user"))
            emoji = str(r.get("emoji") or "")[:64]
            if user is None or not emoji or (row.id, user.id, emoji) in seen:
                continue
            seen.add((row.id, user.id, emoji))
            new_reactions.append(Reaction(message=row, user=user, emoji=emoji))
    if new_reactions:
        Reaction.objects.bulk_create(new_reactions)
        last = next_room_seqs({room.id: len(new_reactions)})[room.id]
        seq = last - len(new_reactions) + 1
        for i, added in enumerate(new_reactions):
            events.append((room.id, seq + i, "reaction.added",
                           {"message_id": added.message_id, "emoji": added.emoji,
                            "user_id": added.user_id}, 0, None))
    append_room_events(events)
    return len(new_reactions)
