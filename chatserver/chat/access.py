"""Who may see, post in and manage what. The one place for these rules.

Gates return what they checked or raise. A room the caller may not see is
NotFound, exactly like a room that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.db import connection

from chatserver.accounts.models import Role
from chatserver.events.sql import ModelColumns

from .errors import ChatError, Forbidden, NotFound
from .models import InvitePolicy, Membership, Message, PostingPolicy, Room, RoomRole, Visibility


@dataclass(frozen=True)
class RoomAccess:
    room: Room
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None


def _membership(user, room_id: int, *, lock: bool = False) -> Membership | None:
    qs = Membership.objects.select_related("room").filter(room_id=room_id, user_id=user.id)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.first()


def can_browse_public(user) -> bool:
    """Guests and bots see only rooms they are in; everyone else may browse public rooms."""
    return user.is_active and user.role != Role.GUEST and not user.is_bot


def access_room(user, room_id: int) -> RoomAccess:
    """Return the room if the caller may read it: a member, or a public room they may browse."""
    if not user.is_active:
        raise NotFound("Room not found.")
    membership = _membership(user, room_id)
    if membership is not None:
        return RoomAccess(membership.room, membership)
    room = Room.objects.filter(id=room_id, visibility=Visibility.PUBLIC).first()
    if room is None or not can_browse_public(user):
        raise NotFound("Room not found.")
    return RoomAccess(room, None)


@dataclass(frozen=True)
class ReadableRooms:
    """What access_room allows, for every room at once: the rooms the user may
    read, the ones they are a member of, and every room there was."""

    rooms: frozenset[int] = frozenset()
    joined: frozenset[int] = frozenset()
    existing: frozenset[int] = frozenset()


def readable_rooms(user) -> ReadableRooms:
    """access_room's rule over all rooms in one statement (search filters by it
    before anything is ranked)."""
    if not user.is_active:
        return ReadableRooms()
    with connection.cursor() as cursor:
        cursor.execute("SELECT r.id, r.visibility = %s, x.id IS NOT NULL FROM chat_room r "
                       "LEFT JOIN chat_membership x ON x.room_id = r.id AND x.user_id = %s",
                       [Visibility.PUBLIC, user.id])
        rows = cursor.fetchall()
    browse = can_browse_public(user)
    return ReadableRooms(
        rooms=frozenset(r for r, public, member in rows if member or (public and browse)),
        joined=frozenset(r for r, _, member in rows if member),
        existing=frozenset(r for r, _, _ in rows))


def access_rooms_to_post(pairs: list[tuple[object, int]]) -> list[RoomAccess | ChatError]:
    """access_room + check_post for many (user, room_id) pairs, one query for the
    common case (members posting); answers in the order asked."""
    found: dict[tuple[int, int], Membership] = {}
    users = {u.id for u, _ in pairs if u.is_active}  # type: ignore[attr-defined]
    if users:
        rooms = {room_id for _, room_id in pairs}
        for m in _memberships_with_rooms(sorted(users), sorted(rooms)):
            found[(m.user_id, m.room_id)] = m
    answers: list[RoomAccess | ChatError] = []
    for user, room_id in pairs:
        try:
            member = found.get((user.id, room_id))  # type: ignore[attr-defined]
            room_access = (RoomAccess(member.room, member) if member is not None
                           else access_room(user, room_id))
            check_post(user, room_access)
            answers.append(room_access)
        except ChatError as exc:
            answers.append(exc)
    return answers


_MEMBERSHIP = ModelColumns(Membership)
_ROOM = ModelColumns(Room)


def _memberships_with_rooms(user_ids: list[int], room_ids: list[int]) -> list[Membership]:
    """Membership.objects.select_related("room").filter(user_id__in=..., room_id__in=...),
    in plain SQL: the send path runs it for every batch (events/sql.py says why)."""
    users = ", ".join(["%s"] * len(user_ids))
    rooms = ", ".join(["%s"] * len(room_ids))
    sql = (f"SELECT {_MEMBERSHIP.select('m')}, {_ROOM.select('r')} "  # noqa: S608 - from models
           f"FROM {Membership._meta.db_table} m JOIN {Room._meta.db_table} r ON r.id = m.room_id "
           f"WHERE m.user_id IN ({users}) AND m.room_id IN ({rooms})")
    out = []
    with connection.cursor() as cur:
        cur.execute(sql, [*user_ids, *room_ids])
        for row in cur.fetchall():
            m = cast(Membership, _MEMBERSHIP.build(row[:len(_MEMBERSHIP)]))
            m.room = cast(Room, _ROOM.build(row[len(_MEMBERSHIP):]))
            out.append(m)
    return out


def access_member(user, room_id: int) -> RoomAccess:
    """Return the room and membership; the caller must be a member.

    A visible room the caller is not in raises Forbidden; an invisible one NotFound.
    """
    access = access_room(user, room_id)
    if access.membership is None:
        raise Forbidden("Join the room first.")
    return access


def is_room_admin(user, membership: Membership | None) -> bool:
    if user.is_site_admin:
        return True
    return membership is not None and membership.role == RoomRole.ADMIN


def check_member(access: RoomAccess) -> None:
    if access.membership is None:
        raise Forbidden("Join the room first.")


def check_post(user, access: RoomAccess) -> None:
    check_member(access)
    if access.room.archived:
        raise Forbidden("The room is archived.")
    if access.room.posting_policy == PostingPolicy.ADMINS and not is_room_admin(
        user, access.membership
    ):
        raise Forbidden("Only room admins may post here.")


def check_manage(user, access: RoomAccess) -> None:
    """Room settings and removing members: room admins and site admins."""
    if access.room.visibility == Visibility.DIRECT:
        raise Forbidden("Direct message rooms have no settings.")
    if not is_room_admin(user, access.membership):
        raise Forbidden("Only room admins may do this.")


def check_writable(access: RoomAccess) -> None:
    """Archived rooms are read-only: nothing is posted, edited, deleted or reacted to,
    and nobody new comes in (invites, joins, bots, webhook deliveries). What only
    narrows access stays open - leaving, removing members, revoking webhooks - and
    so do read markers and the room's settings, unarchiving included (check_manage)."""
    if access.room.archived:
        raise Forbidden("The room is archived.")


def check_invite(user, access: RoomAccess, invitees=()) -> None:
    """Adding people: members may (unless the room says admins only); guests and
    bots never. Bots are added only by room admins or site admins, and only where
    the room allows bots."""
    if access.room.visibility == Visibility.DIRECT:
        raise Forbidden("Open a new direct message to add people.")
    check_writable(access)
    if access.membership is None and not user.is_site_admin:
        raise Forbidden("Join the room first.")
    if user.role == Role.GUEST:
        raise Forbidden("Guests may not invite.")
    if user.is_bot:
        raise Forbidden("Bots may not invite.")
    admin = is_room_admin(user, access.membership)
    if access.room.invite_policy == InvitePolicy.ADMINS and not admin:
        raise Forbidden("Only room admins may add people here.")
    if any(u.is_bot for u in invitees):
        if not admin:
            raise Forbidden("Only room admins may add bots.")
        if not access.room.allow_bots:
            raise Forbidden("This room does not allow bots.")


def check_open_dm(user, other_ids: set[int]) -> None:
    """Guests may only open direct messages with people they share a room with."""
    if user.role != Role.GUEST or not other_ids:
        return
    shared = set(Membership.objects.filter(
        user_id__in=other_ids, room__memberships__user_id=user.id,
    ).values_list("user_id", flat=True))
    if other_ids - shared:
        raise Forbidden("Guests may only message people in their rooms.")


def admin_room(user, room_id: int) -> Room:
    """A room for the site-admin room doors (join any room, export): site admins get
    any public or private room; everyone else the 404/403 of a room they may not
    manage, so these doors reveal no more than the others do."""
    if not user.is_site_admin:
        access_room(user, room_id)
        raise Forbidden("Site admins only.")
    room = Room.objects.filter(id=room_id).exclude(visibility=Visibility.DIRECT).first()
    if room is None:
        raise NotFound("Room not found.")
    return room


def check_admin_join(user, room: Room) -> None:
    """Site admins may join any public or private room (audited by the caller);
    direct messages stay private to their people."""
    check_site_admin(user)
    if room.visibility == Visibility.DIRECT:
        raise NotFound("Room not found.")
    if room.archived:
        raise Forbidden("The room is archived.")


def check_join(user, room: Room) -> None:
    if room.visibility != Visibility.PUBLIC or not can_browse_public(user):
        raise NotFound("Room not found.")
    if room.archived:
        raise Forbidden("The room is archived.")


def access_message(user, message_id: int) -> tuple[Message, RoomAccess]:
    """Return a message the caller may read (deleted ones are NotFound)."""
    msg = (
        Message.objects.select_related("author")
        .filter(id=message_id, deleted=False)
        .first()
    )
    if msg is None:
        raise NotFound("Message not found.")
    try:
        access = access_room(user, msg.room_id)
    except NotFound:
        raise NotFound("Message not found.") from None
    msg.room = access.room
    return msg, access


def access_room_message(user, room_id: int, message_id: int, *,
                        lock: bool = False) -> tuple[Message, RoomAccess]:
    """Return a message of this room that the caller may read (the doors that name
    both, e.g. pins). The room is checked first, so an invisible room answers like a
    missing one whatever the message; a message of another room, or a deleted one,
    is NotFound. `lock` takes the message row for update (before the room's row, as
    every writer does)."""
    access = access_room(user, room_id)
    qs = Message.objects.select_related("author").filter(id=message_id, room_id=room_id,
                                                         deleted=False)
    if lock:
        qs = qs.select_for_update(of=("self",))
    msg = qs.first()
    if msg is None:
        raise NotFound("Message not found.")
    msg.room = access.room
    return msg, access


def check_edit(user, msg: Message) -> None:
    if msg.author_id != user.id:
        raise Forbidden("Only the author may edit a message.")


def check_delete(user, msg: Message, access: RoomAccess) -> None:
    check_writable(access)
    if msg.author_id != user.id and not is_room_admin(user, access.membership):
        raise Forbidden("Only the author or a room admin may delete a message.")


def check_pin(user, access: RoomAccess) -> None:
    """Pinning and unpinning: any member (Slack's default), with the rules of
    posting and reacting: nothing changes in an archived room, and where only room
    admins may post (announcements) only they pin and unpin."""
    check_post(user, access)


def check_create_room(user) -> None:
    if user.role == Role.GUEST:
        raise Forbidden("Guests may not create rooms.")


def check_grant_role(user, old_role: str | None, new_role: str) -> None:
    """Site admins change roles; only owners grant or take away admin and owner."""
    check_site_admin(user)
    powerful = {Role.OWNER, Role.ADMIN}
    if (new_role in powerful or old_role in powerful) and user.role != Role.OWNER:
        raise Forbidden("Only owners may grant or change the admin and owner roles.")


def check_site_admin(user) -> None:
    if not user.is_site_admin:
        raise Forbidden("Site admins only.")
