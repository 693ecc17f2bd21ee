"""Reads that already apply the access rules. Views never filter messages or rooms themselves."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from . import access
from .errors import InvalidInput, NotFound
from .models import Membership, Mention, Message, Room, Visibility
from .payloads import messages_with_reactions, room_dict, user_full

MAX_PAGE = 200


def _count(qs) -> Coalesce:
    return Coalesce(
        Subquery(qs.order_by().values("room_id").annotate(n=Count("id")).values("n")[:1],
                 output_field=IntegerField()),
        Value(0),
    )


def _memberships_with_counts(user, **filters):
    unread = Message.objects.filter(
        room_id=OuterRef("room_id"), seq__gt=OuterRef("last_read_seq"),
        thread_root__isnull=True, deleted=False,
    ).exclude(author_id=user.id)
    direct_mentions = Mention.objects.filter(
        user_id=user.id, room_id=OuterRef("room_id"), seq__gt=OuterRef("last_read_seq"),
        message__deleted=False,
    )
    # A message naming the user and @room counts once (as the direct mention).
    room_mentions = Message.objects.filter(
        room_id=OuterRef("room_id"), seq__gt=OuterRef("last_read_seq"), mentions_room=True,
        deleted=False,
    ).exclude(author_id=user.id).exclude(
        id__in=Mention.objects.filter(user_id=user.id).values("message_id"))
    return (
        Membership.objects.filter(user_id=user.id, **filters)
        .select_related("room")
        .annotate(
            unread=_count(unread),
            direct_mentions=_count(direct_mentions),
            room_mentions=_count(room_mentions),
            member_count=Subquery(
                Membership.objects.filter(room_id=OuterRef("room_id")).order_by()
                .values("room_id").annotate(n=Count("id")).values("n")[:1],
                output_field=IntegerField(),
            ),
        )
    )


def _joined_dict(m) -> dict[str, Any]:
    return room_dict(m.room, m, unread=m.unread, mentions=m.direct_mentions + m.room_mentions,
                     member_count=m.member_count)


def list_rooms(user) -> list[dict[str, Any]]:
    """Rooms the user is in (with unread and mention counts), then public rooms to join."""
    joined = list(_memberships_with_counts(user).order_by("room__name"))
    out = [_joined_dict(m) for m in joined]
    _add_dm_members(out)
    if access.can_browse_public(user):
        joined_ids = [m.room_id for m in joined]
        others = (
            Room.objects.filter(visibility=Visibility.PUBLIC, archived=False)
            .exclude(id__in=joined_ids)
            .annotate(n=Count("memberships"))
            .order_by("name")
        )
        out.extend(room_dict(r, None, member_count=r.n) for r in others)
    return out


def _add_dm_members(rooms: list[dict[str, Any]]) -> None:
    dm_ids = [r["id"] for r in rooms if r["visibility"] == Visibility.DIRECT]
    if not dm_ids:
        return
    members: dict[int, list[dict[str, Any]]] = {}
    for m in (Membership.objects.filter(room_id__in=dm_ids).select_related("user")
              .order_by("user__username")):
        members.setdefault(m.room_id, []).append(user_full(m.user))
    for r in rooms:
        if r["id"] in members:
            r["members"] = members[r["id"]]


def room_detail(user, room_id: int) -> dict[str, Any]:
    ra = access.access_room(user, room_id)
    if ra.membership is not None:
        data = _joined_dict(_memberships_with_counts(user, room_id=room_id).get())
        _add_dm_members([data])
        return data
    return room_dict(ra.room, None, member_count=ra.room.memberships.count())


def room_members(user, room_id: int) -> list[dict[str, Any]]:
    access.access_room(user, room_id)
    rows = Membership.objects.filter(room_id=room_id).select_related("user").order_by(
        "user__username")
    return [dict(user_full(m.user), room_role=m.role) for m in rows]


def _int_param(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidInput(f"{name} must be an integer.", fields={name: "invalid"}) from None
    if n < 0:
        raise InvalidInput(f"{name} must not be negative.", fields={name: "invalid"})
    return n


def _anchor_seq(room_id: int, message_id: int, name: str) -> int:
    seq = (
        Message.objects.filter(id=message_id, room_id=room_id)
        .values_list("seq", flat=True)
        .first()
    )
    if seq is None:
        raise NotFound("Message not found.", fields={name: "not found"})
    return seq


def room_messages(user, room_id: int, *, limit: str | None = None, before: str | None = None,
                  after: str | None = None, around: str | None = None) -> dict[str, Any]:
    """A page of top-level messages, oldest first, with cursors (message ids) both ways,
    and the room's last seq read before the page: every event up to it is in the
    page (or outside its range), later ones come on the socket's resume."""
    room = access.access_room(user, room_id).room
    n = _int_param(limit, "limit") or 50
    n = max(1, min(n, MAX_PAGE))
    b, a, c = (_int_param(before, "before"), _int_param(after, "after"),
               _int_param(around, "around"))
    if sum(x is not None for x in (b, a, c)) > 1:
        raise InvalidInput("Use one of before, after and around.")
    base = Message.objects.filter(room_id=room_id, thread_root__isnull=True, deleted=False)
    base = base.select_related("author")
    if c is not None:
        seq = _anchor_seq(room_id, c, "around")
        half = n // 2
        older = list(base.filter(seq__lt=seq).order_by("-seq")[:half])[::-1]
        newer = list(base.filter(seq__gte=seq).order_by("seq")[: n - len(older)])
        page = older + newer
        has_prev = base.filter(seq__lt=page[0].seq).exists() if page else False
        has_next = base.filter(seq__gt=page[-1].seq).exists() if page else False
    elif a is not None:
        seq = _anchor_seq(room_id, a, "after")
        rows = list(base.filter(seq__gt=seq).order_by("seq")[: n + 1])
        has_next = len(rows) > n
        page = rows[:n]
        has_prev = True
    else:
        qs = base
        if b is not None:
            qs = qs.filter(seq__lt=_anchor_seq(room_id, b, "before"))
        rows = list(qs.order_by("-seq")[: n + 1])
        has_prev = len(rows) > n
        page = rows[:n][::-1]
        has_next = b is not None
    return {
        "results": messages_with_reactions(page),
        "prev": page[0].id if page and has_prev else None,
        "next": page[-1].id if page and has_next else None,
        "last_seq": room.last_seq,
    }


def message_detail(user, message_id: int) -> dict[str, Any]:
    msg, _ = access.access_message(user, message_id)
    return messages_with_reactions([msg])[0]


def thread_replies(user, message_id: int, *, limit: str | None = None,
                   after: str | None = None) -> dict[str, Any]:
    root, _ = access.access_message(user, message_id)
    n = max(1, min(_int_param(limit, "limit") or 100, MAX_PAGE))
    qs = Message.objects.filter(thread_root_id=root.id, deleted=False).select_related("author")
    a = _int_param(after, "after")
    if a is not None:
        qs = qs.filter(seq__gt=_anchor_seq(root.room_id, a, "after"))
    rows = list(qs.order_by("seq")[: n + 1])
    page = rows[:n]
    return {
        "results": messages_with_reactions(page),
        "next": page[-1].id if len(rows) > n else None,
    }


def room_pins(user, room_id: int) -> dict[str, Any]:
    """The room's pinned messages, the most recently pinned first (one page: a room
    holds at most settings.CHAT["MAX_PINS_PER_ROOM"])."""
    access.access_room(user, room_id)
    rows = list(Message.objects.filter(room_id=room_id, pinned_at__isnull=False, deleted=False)
                .select_related("author").order_by("-pinned_at", "-id"))
    return {"results": messages_with_reactions(rows), "next": None}


def directory(user, q: str = "", *, presence=None, limit: int = 200) -> list[dict[str, Any]]:
    from chatserver.accounts.models import Role, User

    q = q.replace("\x00", "")  # no name holds NUL, and PostgreSQL refuses it in a query
    qs = User.objects.filter(is_active=True)
    if user.role == Role.GUEST:
        qs = qs.filter(memberships__room__memberships__user_id=user.id).distinct()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    rows = qs.order_by("username")[:limit]
    return [user_full(u, presence(u.id) if presence else None) for u in rows]
