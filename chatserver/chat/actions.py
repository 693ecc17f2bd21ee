"""Every write to rooms, memberships, messages and reactions.

Each action checks access (access.py), writes in one transaction, appends its
events to the log in that transaction, and publishes them after commit.
Actions take keyword-only arguments and raise ChatError subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from chatserver.accounts.models import User
from chatserver.audit import log as audit
from chatserver.events.log import (
    append_room_event,
    append_room_events,
    append_user_event,
    next_room_seq,
    next_room_seqs,
    redact_message_events,
)
from chatserver.events.sql import insert_returning_ids, update_by_id
from chatserver.events.tx import write_transaction

from . import access, hooks, markdown, ratelimit
from .errors import ChatError, Conflict, InvalidInput, NotFound, TooLarge
from .ids import is_id
from .models import (
    InvitePolicy,
    Membership,
    Mention,
    Message,
    Reaction,
    Room,
    RoomRole,
    Visibility,
)
from .payloads import message_dict, reactions_summary, room_dict, user_brief

ROOM_MENTIONS = {"room", "all", "everyone"}


@dataclass(frozen=True)
class PostResult:
    message: dict[str, Any]
    created: bool


# --- validation ---------------------------------------------------------------


def _clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise InvalidInput("body must be a string.", fields={"body": "must be a string"})
    if len(body) > settings.CHAT["MAX_BODY_CHARS"]:
        raise TooLarge(
            f"Message bodies are at most {settings.CHAT['MAX_BODY_CHARS']} characters.",
            fields={"body": "too long"},
        )
    if "\x00" in body:
        raise InvalidInput("body must not contain NUL.", fields={"body": "contains NUL"})
    if not body.strip():
        raise InvalidInput("body must not be empty.", fields={"body": "empty"})
    return body


def _clean_client_msg_id(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise InvalidInput(
            "client_msg_id must be a printable string of at most 64 characters.",
            fields={"client_msg_id": "invalid"},
        )
    return value


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name is required.", fields={"name": "required"})
    name = name.strip().lstrip("#")
    if len(name) > 80 or not name.isprintable():
        raise InvalidInput("name must be at most 80 printable characters.",
                           fields={"name": "invalid"})
    return name


def _clean_topic(topic: object) -> str:
    if topic is None:
        return ""
    if not isinstance(topic, str) or len(topic) > 500:
        raise InvalidInput("topic must be at most 500 characters.", fields={"topic": "invalid"})
    return topic


def _clean_emoji(emoji: object) -> str:
    if not isinstance(emoji, str) or not 0 < len(emoji) <= 64 or not emoji.isprintable() or any(
        c.isspace() for c in emoji
    ):
        raise InvalidInput("emoji must be 1 to 64 printable characters.",
                           fields={"emoji": "invalid"})
    return emoji


def _send_rate(user: User) -> tuple[int, int]:
    return settings.CHAT["BOT_SEND_RATE"] if user.is_bot else settings.CHAT["SEND_RATE"]


# --- messages -------------------------------------------------------------------


@dataclass(frozen=True)
class PostRequest:
    """One message to post: the arguments of post_message."""

    actor: User
    room_id: object
    body: object
    client_msg_id: object = None
    thread_id: object = None


def post_message(*, actor: User, room_id: object, body: object, client_msg_id: object = None,
                 thread_id: object = None) -> PostResult:
    """Post a message; a repeated client_msg_id returns the original message."""
    result = post_messages([PostRequest(actor, room_id, body, client_msg_id, thread_id)])[0]
    if isinstance(result, ChatError):
        raise result
    return result


@dataclass
class _Draft:
    index: int
    actor: User
    room_id: int
    body: str
    cmid: str | None
    thread_id: int | None
    repeat_of: _Draft | None = None


def post_messages(requests: list[PostRequest]) -> list[PostResult | ChatError]:
    """Post many messages in one transaction (group commit); answer each in order.

    Each request succeeds or fails on its own, exactly as post_message would
    answer it; messages to the same room get seqs in request order. The socket
    layer collects concurrent sends into one call, so under load a commit, a
    seq bump and a publish serve many messages.
    """
    results: list[PostResult | ChatError | None] = [None] * len(requests)
    drafts: list[_Draft] = []
    for i, req in enumerate(requests):
        try:
            drafts.append(_draft(i, req))
        except ChatError as exc:
            results[i] = exc
    _mark_repeats(drafts)
    drafts = _rate_limit(drafts, results)
    try:
        # Optimistic: a client_msg_id already stored (a retry after a lost ack)
        # is rare, and the unique constraint catches it; looking each one up
        # first cost a fifth of a send's time.
        _insert_messages([d for d in drafts if d.repeat_of is None], results)
    except IntegrityError:
        # A client_msg_id of the batch is stored already (a retry, or a
        # concurrent copy on another socket or process committed first): the
        # transaction rolled back whole; answer them one by one.
        for d in drafts:
            if d.repeat_of is None:
                results[d.index] = _insert_one(d)
    for d in drafts:
        if d.repeat_of is not None:
            first = results[d.repeat_of.index]
            results[d.index] = (PostResult(first.message, created=False)
                                if isinstance(first, PostResult) else first)
    assert all(r is not None for r in results)
    return cast(list[PostResult | ChatError], results)


def _draft(index: int, req: PostRequest) -> _Draft:
    if not isinstance(req.room_id, int) or isinstance(req.room_id, bool):
        raise InvalidInput("room must be a room id.", fields={"room": "invalid"})
    if not is_id(req.room_id):
        raise NotFound("Room not found.")
    body = _clean_body(req.body)
    cmid = _clean_client_msg_id(req.client_msg_id)
    if req.thread_id is not None and not is_id(req.thread_id):
        raise InvalidInput("thread_id must be a message id.", fields={"thread_id": "invalid"})
    return _Draft(index, req.actor, cast(int, req.room_id), body, cmid,
                  cast("int | None", req.thread_id))


def _mark_repeats(drafts: list[_Draft]) -> None:
    """A client_msg_id repeated inside the batch is answered like its first copy."""
    first: dict[tuple[int, str], _Draft] = {}
    for d in drafts:
        if d.cmid is not None:
            key = (d.actor.id, d.cmid)
            if key in first:
                d.repeat_of = first[key]
            else:
                first[key] = d


def _stored_send(d: _Draft) -> Message | None:
    if d.cmid is None:
        return None
    return Message.objects.select_related("author").filter(
        author_id=d.actor.id, client_msg_id=d.cmid).first()


def _with_reactions(msg: Message) -> dict[str, Any]:
    """The message as every answer and event shows it, with its reactions."""
    return message_dict(msg, reactions_summary(msg.reactions.order_by("id")))


def _stored_answer(msg: Message) -> PostResult:
    return PostResult(_with_reactions(msg), created=False)


def _rate_limit(drafts: list[_Draft],
                results: list[PostResult | ChatError | None]) -> list[_Draft]:
    by_actor: dict[int, list[_Draft]] = {}
    for d in drafts:
        if d.repeat_of is None:
            by_actor.setdefault(d.actor.id, []).append(d)
    refused: set[int] = set()
    for ds in by_actor.values():
        allowed, error = ratelimit.hit_many("send", ds[0].actor.id, _send_rate(ds[0].actor),
                                            len(ds))
        for d in ds[allowed:]:
            # Over budget; but a retry of a stored send still gets its answer.
            stored = _stored_send(d)
            results[d.index] = _stored_answer(stored) if stored is not None else error
            refused.add(d.index)
    return [d for d in drafts if d.index not in refused
            and (d.repeat_of is None or d.repeat_of.index not in refused)]


def _insert_one(d: _Draft) -> PostResult | ChatError:
    stored = _stored_send(d)
    if stored is not None:
        return _stored_answer(stored)
    results: list[PostResult | ChatError | None] = [None] * (d.index + 1)
    try:
        _insert_messages([d], results)
    except IntegrityError:
        stored = _stored_send(d)
        if stored is None:
            raise
        return _stored_answer(stored)
    return cast("PostResult | ChatError", results[d.index])


def _insert_messages(drafts: list[_Draft], results: list[PostResult | ChatError | None]) -> None:
    if not drafts:
        return
    with write_transaction():
        gates = access.access_rooms_to_post([(d.actor, d.room_id) for d in drafts])
        ok: list[tuple[_Draft, access.RoomAccess]] = []
        for d, gate in zip(drafts, gates, strict=True):
            if isinstance(gate, ChatError):
                results[d.index] = gate
            else:
                ok.append((d, gate))
        roots = _lock_thread_roots([d for d, _ in ok], results)
        ok = [(d, g) for d, g in ok if results[d.index] is None]
        if not ok:
            return
        counts: dict[int, int] = {}
        for d, _ in ok:
            counts[d.room_id] = counts.get(d.room_id, 0) + 1
        last = next_room_seqs(counts)
        next_seq = {room_id: last[room_id] - n + 1 for room_id, n in counts.items()}
        now = timezone.now()
        messages: list[Message] = []
        mentions: list[tuple[Message, list[User]]] = []
        for d, _ in ok:
            mentioned, room_wide = _resolve_mentions(d.room_id, d.body)
            html = markdown.render(d.body, {u.username.lower() for u in mentioned} | (
                ROOM_MENTIONS if room_wide else set()))
            seq = next_seq[d.room_id]
            next_seq[d.room_id] += 1
            msg = Message(room_id=d.room_id, seq=seq, author=d.actor, body=d.body, html=html,
                          thread_root=roots.get(d.index), client_msg_id=d.cmid,
                          mentions_room=room_wide, created_at=now)
            messages.append(msg)
            if mentioned:
                mentions.append((msg, mentioned))
        insert_returning_ids(messages)
        replies: dict[int, int] = {}
        for msg in messages:
            if msg.thread_root_id is not None:
                replies[msg.thread_root_id] = replies.get(msg.thread_root_id, 0) + 1
        for root_id, n in replies.items():
            Message.objects.filter(id=root_id).update(reply_count=F("reply_count") + n)
        if mentions:
            Mention.objects.bulk_create(
                Mention(message=msg, user=u, room_id=msg.room_id, seq=msg.seq)
                for msg, users in mentions for u in users if u.id != msg.author_id
            )
        # The author has read their own message.
        read_upto: dict[int, int] = {}
        for (_, gate), msg in zip(ok, messages, strict=True):
            read_upto[cast(Membership, gate.membership).id] = msg.seq
        update_by_id("chat_membership", "last_read_seq", read_upto)
        payloads = [message_dict(msg) for msg in messages]
        append_room_events([(msg.room_id, msg.seq, "message.new", {"message": data}, 0, msg.id)
                            for msg, data in zip(messages, payloads, strict=True)])
        for (d, _), data in zip(ok, payloads, strict=True):
            results[d.index] = PostResult(data, created=True)
        transaction.on_commit(lambda: hooks.messages_posted(payloads))


def _lock_thread_roots(drafts: list[_Draft],
                       results: list[PostResult | ChatError | None]) -> dict[int, Message]:
    """Lock the root of each thread reply (in id order); a reply to a reply goes to
    its root. Returns draft index -> root."""
    asked = sorted({d.thread_id for d in drafts if d.thread_id is not None})
    if not asked:
        return {}
    found = {m.id: m for m in Message.objects.select_for_update().filter(
        id__in=asked, deleted=False).order_by("id")}
    parents = sorted({m.thread_root_id for m in found.values() if m.thread_root_id is not None})
    if parents:
        found.update({m.id: m for m in Message.objects.select_for_update().filter(
            id__in=parents).order_by("id")})
    roots: dict[int, Message] = {}
    for d in drafts:
        if d.thread_id is None:
            continue
        root = found.get(d.thread_id)
        if root is None or root.room_id != d.room_id:
            results[d.index] = NotFound("Thread not found.", fields={"thread_id": "not found"})
            continue
        if root.thread_root_id is not None:
            root = found[root.thread_root_id]
        roots[d.index] = root
    return roots


def _resolve_mentions(room_id: int, body: str) -> tuple[list[User], bool]:
    names = markdown.mentioned_names(body)
    if not names:
        return [], False
    room_wide = bool(names & ROOM_MENTIONS)
    users = cast(list[User], list(
        User.objects.annotate(lname=Lower("username"))
        .filter(lname__in=names - ROOM_MENTIONS, memberships__room_id=room_id, is_active=True)
    ))
    return users, room_wide


def edit_message(*, actor: User, message_id: int, body: object) -> dict[str, Any]:
    body = _clean_body(body)
    with write_transaction():
        msg, room_access = access.access_message(actor, message_id)
        access.check_edit(actor, msg)
        access.check_post(actor, room_access)
        mentioned, room_wide = _resolve_mentions(msg.room_id, body)
        msg.body = body
        msg.html = markdown.render(body, {u.username.lower() for u in mentioned} | (
            ROOM_MENTIONS if room_wide else set()))
        msg.edited_at = timezone.now()
        msg.mentions_room = room_wide
        msg.save(update_fields=["body", "html", "edited_at", "mentions_room"])
        # Mentions follow the text: added names count, removed names stop counting.
        Mention.objects.filter(message_id=msg.id).delete()
        Mention.objects.bulk_create(
            Mention(message=msg, user=u, room_id=msg.room_id, seq=msg.seq)
            for u in mentioned if u.id != msg.author_id
        )
        data = _with_reactions(msg)
        append_room_event(msg.room_id, "message.edited", {"message": data},
                          message_id=msg.id)
    return data


def delete_message(*, actor: User, message_id: int) -> None:
    with write_transaction():
        msg, room_access = access.access_message(actor, message_id)
        access.check_delete(actor, msg, room_access)
        _redact(msg)
        if actor.id != msg.author_id:
            audit.record(actor=actor, action="message.deleted", target=f"message:{msg.id}",
                         room=room_access.room, detail={"author": msg.author_id})


def _redact(msg: Message) -> None:
    """Delete a message: blank it, and rewrite its stored events so that resume never
    replays the text again. Inside the caller's write transaction."""
    msg.deleted = True
    msg.body = ""
    msg.html = ""
    # A deleted message is no longer pinned; its message.deleted event tells clients.
    msg.pinned_at = None
    msg.pinned_by = None
    msg.save(update_fields=["deleted", "body", "html", "pinned_at", "pinned_by"])
    Mention.objects.filter(message_id=msg.id).delete()
    if msg.thread_root_id is not None:
        Message.objects.filter(id=msg.thread_root_id).update(reply_count=F("reply_count") - 1)
    redact_message_events(msg.room_id, msg.id, message_dict(msg))
    append_room_event(
        msg.room_id, "message.deleted",
        {"message_id": msg.id, "thread_id": msg.thread_root_id}, message_id=msg.id,
    )


def expire_messages(*, room_id: int, before: Any, limit: int = 500) -> list[int]:
    """Retention: delete (as delete_message does) up to `limit` messages of a room
    created before `before`; return their ids. The caller audits."""
    with write_transaction():
        Room.objects.select_for_update().filter(id=room_id).first()
        doomed = list(Message.objects.filter(room_id=room_id, deleted=False,
                                             created_at__lt=before).order_by("seq")[:limit])
        for msg in doomed:
            _redact(msg)
    return [m.id for m in doomed]


def add_reaction(*, actor: User, message_id: int, emoji: object) -> bool:
    """Add a reaction; return False when it was already there."""
    emoji = _clean_emoji(emoji)
    with write_transaction():
        msg, room_access = access.access_message(actor, message_id)
        access.check_post(actor, room_access)
        _, created = Reaction.objects.get_or_create(message=msg, user=actor, emoji=emoji)
        if created:
            append_room_event(
                msg.room_id, "reaction.added",
                {"message_id": msg.id, "emoji": emoji, "user_id": actor.id},
            )
    return created


def remove_reaction(*, actor: User, message_id: int, emoji: object) -> None:
    emoji = _clean_emoji(emoji)
    with write_transaction():
        msg, room_access = access.access_message(actor, message_id)
        access.check_member(room_access)
        access.check_writable(room_access)
        deleted, _ = Reaction.objects.filter(message=msg, user=actor, emoji=emoji).delete()
        if not deleted:
            raise NotFound("Reaction not found.")
        append_room_event(
            msg.room_id, "reaction.removed",
            {"message_id": msg.id, "emoji": emoji, "user_id": actor.id},
        )


# --- pins ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PinResult:
    message: dict[str, Any]
    created: bool  # False: the message was pinned already (nothing changed)


def pin_message(*, actor: User, room_id: int, message_id: int) -> PinResult:
    """Pin a message of the room; pinning a pinned message changes nothing.

    At most settings.CHAT["MAX_PINS_PER_ROOM"] pins per room (409 past it).
    """
    with write_transaction():
        msg, room_access = access.access_room_message(actor, room_id, message_id, lock=True)
        access.check_pin(actor, room_access)
        if msg.pinned_at is not None:
            return PinResult(_with_reactions(msg), created=False)
        # The room's seq lock also serializes the count against concurrent pins; an
        # error below rolls the seq back with everything else.
        seq = next_room_seq(room_id)
        limit = settings.CHAT["MAX_PINS_PER_ROOM"]
        pinned = Message.objects.filter(room_id=room_id, pinned_at__isnull=False,
                                        deleted=False).count()
        if pinned >= limit:
            raise Conflict(f"This room has {pinned} pinned messages, the most it may have: "
                           "unpin one first.", fields={"pins": f"at most {limit}"})
        msg.pinned_at = timezone.now()
        msg.pinned_by = actor
        msg.save(update_fields=["pinned_at", "pinned_by"])
        data = _with_reactions(msg)
        append_room_event(room_id, "message.pinned",
                          {"message_id": msg.id, "message": data, "by": user_brief(actor)},
                          seq=seq, message_id=msg.id)
    return PinResult(data, created=True)


def unpin_message(*, actor: User, room_id: int, message_id: int) -> dict[str, Any]:
    """Unpin a pinned message of the room (NotFound when it is not pinned); return it.

    Taking down someone else's pin is audited, as deleting someone else's message is.
    """
    with write_transaction():
        msg, room_access = access.access_room_message(actor, room_id, message_id, lock=True)
        access.check_pin(actor, room_access)
        if msg.pinned_at is None:
            raise NotFound("The message is not pinned.")
        pinned_by = msg.pinned_by_id
        msg.pinned_at = None
        msg.pinned_by = None
        msg.save(update_fields=["pinned_at", "pinned_by"])
        data = _with_reactions(msg)
        append_room_event(room_id, "message.unpinned",
                          {"message_id": msg.id, "message": data, "by": user_brief(actor)},
                          message_id=msg.id)
        if pinned_by != actor.id:
            audit.record(actor=actor, action="message.unpinned", target=f"message:{msg.id}",
                         room=room_access.room, detail={"pinned_by": pinned_by,
                                                        "author": msg.author_id})
    return data


def mark_read(*, actor: User, room_id: int, seq: object) -> int:
    """Move the caller's read marker forward (never back); return the stored seq."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInput("seq must be a non-negative integer.", fields={"seq": "invalid"})
    room_access = access.access_member(actor, room_id)
    membership_id = room_access.membership.id  # type: ignore[union-attr]
    seq = min(seq, room_access.room.last_seq)
    moved = Membership.objects.filter(id=membership_id, last_read_seq__lt=seq).update(
        last_read_seq=seq
    )
    if not moved:
        # Already at or past seq: answer with the marker as stored.
        stored = Membership.objects.filter(id=membership_id).values_list(
            "last_read_seq", flat=True).first()
        seq = max(seq, stored or 0)
    from chatserver.realtime.hub import publish_user_ephemeral

    publish_user_ephemeral(actor.id, {"type": "read", "room": room_id, "seq": seq})
    return seq


# --- rooms and members ------------------------------------------------------------------


def _add_member(room: Room, user: User, role: str, *, by: User | None) -> Membership:
    membership = Membership.objects.create(room=room, user=user, role=role)
    seq = append_room_event(
        room.id, "member.joined",
        {"user_id": user.id, "user": user_brief(user), "by": by.id if by else None},
        target_user=user.id,
    )
    room.last_seq = seq
    append_user_event(user.id, "room.added", {"room": room_dict(room, membership),
                                               "since": seq - 1})
    return membership


def _remove_member(room: Room, user_id: int, *, by: User | None) -> None:
    deleted, _ = Membership.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotFound("Not a member.")
    append_room_event(room.id, "member.left", {"user_id": user_id, "by": by.id if by else None},
                      target_user=user_id)
    append_user_event(user_id, "room.removed", {"room_id": room.id})


def create_room(*, actor: User, name: object, topic: object = "",
                visibility: object = Visibility.PUBLIC) -> Room:
    access.check_create_room(actor)
    name = _clean_name(name)
    topic = _clean_topic(topic)
    if visibility not in (Visibility.PUBLIC, Visibility.PRIVATE):
        raise InvalidInput("visibility must be public or private.",
                           fields={"visibility": "invalid"})
    visibility = str(visibility)
    try:
        with write_transaction():
            room = Room.objects.create(name=name, topic=topic, visibility=visibility,
                                       created_by=actor)
            _add_member(room, actor, RoomRole.ADMIN, by=actor)
            audit.record(actor=actor, action="room.created", target=f"room:{room.id}",
                         room=room, detail={"name": name, "visibility": visibility})
    except IntegrityError:
        raise Conflict("A room with this name exists.", fields={"name": "taken"}) from None
    return room


def update_room(*, actor: User, room_id: int, changes: dict[str, Any]) -> Room:
    allowed = {"name", "topic", "archived", "posting_policy", "visibility", "invite_policy",
               "allow_bots", "retention_days"}
    if not changes:
        raise InvalidInput(f"Nothing to change: send one of {', '.join(sorted(allowed))}.")
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.",
                           fields={f: "unknown" for f in unknown})
    try:
        with write_transaction():
            room_access = access.access_room(actor, room_id)
            access.check_manage(actor, room_access)
            room = Room.objects.select_for_update().get(id=room_id)
            before = {f: getattr(room, f) for f in changes}
            if "name" in changes:
                room.name = _clean_name(changes["name"])
            if "topic" in changes:
                room.topic = _clean_topic(changes["topic"])
            if "archived" in changes:
                if not isinstance(changes["archived"], bool):
                    raise InvalidInput("archived must be true or false.",
                                       fields={"archived": "invalid"})
                room.archived = changes["archived"]
            if "posting_policy" in changes:
                if changes["posting_policy"] not in ("everyone", "admins"):
                    raise InvalidInput("posting_policy must be everyone or admins.",
                                       fields={"posting_policy": "invalid"})
                room.posting_policy = changes["posting_policy"]
            if "invite_policy" in changes:
                if changes["invite_policy"] not in InvitePolicy.values:
                    raise InvalidInput("invite_policy must be everyone or admins.",
                                       fields={"invite_policy": "invalid"})
                room.invite_policy = changes["invite_policy"]
            if "allow_bots" in changes:
                if not isinstance(changes["allow_bots"], bool):
                    raise InvalidInput("allow_bots must be true or false.",
                                       fields={"allow_bots": "invalid"})
                room.allow_bots = changes["allow_bots"]
            if "retention_days" in changes:
                days = changes["retention_days"]
                if days is not None and not (is_id(days) and days <= 36500):
                    raise InvalidInput("retention_days must be null or 1-36500.",
                                       fields={"retention_days": "invalid"})
                room.retention_days = days
            if "visibility" in changes:
                if changes["visibility"] not in (Visibility.PUBLIC, Visibility.PRIVATE):
                    raise InvalidInput("visibility must be public or private.",
                                       fields={"visibility": "invalid"})
                room.visibility = changes["visibility"]
            room.save()
            seq = next_room_seq(room.id)
            room.last_seq = seq
            append_room_event(room.id, "room.updated", {"room": room_dict(room)}, seq=seq)
            audit.record(actor=actor, action="room.updated", target=f"room:{room.id}", room=room,
                         detail={"before": before, "after": {f: getattr(room, f) for f in changes}})
    except IntegrityError:
        raise Conflict("A room with this name exists.", fields={"name": "taken"}) from None
    return room


def join_room(*, actor: User, room_id: int) -> Room:
    with write_transaction():
        room = Room.objects.select_for_update().filter(id=room_id).first()
        if room is None:
            raise NotFound("Room not found.")
        if Membership.objects.filter(room=room, user=actor).exists():
            return room
        access.check_join(actor, room)
        _add_member(room, actor, RoomRole.MEMBER, by=actor)
    return room


def leave_room(*, actor: User, room_id: int) -> None:
    with write_transaction():
        room_access = access.access_member(actor, room_id)
        Room.objects.select_for_update().filter(id=room_id).first()
        _remove_member(room_access.room, actor.id, by=actor)


def invite(*, actor: User, room_id: int, user_ids: list[int]) -> list[int]:
    """Add users to a room; return the ids that were added (members already in are skipped)."""
    if not user_ids or not all(is_id(u) for u in user_ids):
        raise InvalidInput("user_ids must be a non-empty list of ids.",
                           fields={"user_ids": "invalid"})
    if len(user_ids) > 1000:
        raise TooLarge("At most 1000 users at once.", fields={"user_ids": "too many"})
    with write_transaction():
        room_access = access.access_room(actor, room_id)
        access.check_invite(actor, room_access)
        room = Room.objects.select_for_update().get(id=room_id)
        users = {u.id: u for u in User.objects.filter(id__in=user_ids, is_active=True)}
        missing = [u for u in user_ids if u not in users]
        if missing:
            raise NotFound("Unknown users.", fields={"user_ids": missing})
        access.check_invite(actor, room_access, list(users.values()))
        present = set(
            Membership.objects.filter(room=room, user_id__in=user_ids).values_list(
                "user_id", flat=True)
        )
        added = []
        for uid in dict.fromkeys(user_ids):
            if uid not in present:
                _add_member(room, users[uid], RoomRole.MEMBER, by=actor)
                added.append(uid)
        if added:
            audit.record(actor=actor, action="room.members_added", target=f"room:{room.id}",
                         room=room, detail={"user_ids": added})
    return added


def remove_member(*, actor: User, room_id: int, user_id: int) -> None:
    with write_transaction():
        room_access = access.access_room(actor, room_id)
        if user_id != actor.id:
            access.check_manage(actor, room_access)
        Room.objects.select_for_update().filter(id=room_id).first()
        _remove_member(room_access.room, user_id, by=actor)
        audit.record(actor=actor, action="room.member_removed", target=f"user:{user_id}",
                     room=room_access.room)


def set_member_role(*, actor: User, room_id: int, user_id: int, role: object) -> None:
    if role not in (RoomRole.ADMIN, RoomRole.MEMBER):
        raise InvalidInput("role must be admin or member.", fields={"role": "invalid"})
    with write_transaction():
        room_access = access.access_room(actor, room_id)
        access.check_manage(actor, room_access)
        updated = Membership.objects.filter(room_id=room_id, user_id=user_id).update(role=role)
        if not updated:
            raise NotFound("Not a member.")
        append_room_event(room_id, "member.updated", {"user_id": user_id, "role": role},
                          target_user=user_id)
        audit.record(actor=actor, action="room.member_role_changed", target=f"user:{user_id}",
                     room=room_access.room, detail={"role": role})


def open_dm(*, actor: User, user_ids: object) -> Room:
    """Return the direct-message room for the caller plus these users, creating it once."""
    if not isinstance(user_ids, list) or not all(is_id(u) for u in user_ids):
        raise InvalidInput("user_ids must be a list of ids.", fields={"user_ids": "invalid"})
    ids = sorted(set(user_ids) | {actor.id})
    if len(ids) > 9:
        raise InvalidInput("A direct message has at most 9 people.",
                           fields={"user_ids": "too many"})
    users = list(User.objects.filter(id__in=ids, is_active=True))
    if len(users) != len(ids):
        raise NotFound("Unknown users.", fields={"user_ids": "unknown"})
    access.check_open_dm(actor, set(ids) - {actor.id})
    key = ",".join(str(i) for i in ids)
    room = Room.objects.filter(dm_key=key).first()
    if room is not None:
        _rejoin_dm(room, users, by=actor)
        return room
    try:
        with write_transaction():
            names = sorted(u.username for u in users)
            room = Room.objects.create(name=", ".join(names)[:80], visibility=Visibility.DIRECT,
                                       dm_key=key, created_by=actor)
            for user in users:
                _add_member(room, user, RoomRole.MEMBER, by=actor)
    except IntegrityError:
        room = Room.objects.get(dm_key=key)
    return room


def _rejoin_dm(room: Room, users: list[User], *, by: User) -> None:
    """A DM is the room of its set of people: bring back anyone of them who left it."""
    ids = {u.id for u in users}
    present = set(Membership.objects.filter(room=room, user_id__in=ids)
                  .values_list("user_id", flat=True))
    if present == ids:
        return
    with write_transaction():
        room = Room.objects.select_for_update().get(id=room.id)
        present = set(Membership.objects.filter(room=room, user_id__in=ids)
                      .values_list("user_id", flat=True))
        for user in sorted(users, key=lambda u: u.id):
            if user.id not in present:
                _add_member(room, user, RoomRole.MEMBER, by=by)
