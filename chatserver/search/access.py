"""Which rooms a searcher may read today: the same rule as chat.access.access_room
(a member of the room, or a public room they may browse), applied to all rooms
at once so it can filter the search before anything is ranked."""

from __future__ import annotations

from chatserver.chat.access import can_browse_public
from chatserver.chat.models import Membership, Room, Visibility


def readable_room_ids(user) -> set[int]:
    if not user.is_active:
        return set()
    rooms = set(Membership.objects.filter(user_id=user.id).values_list("room_id", flat=True))
    if can_browse_public(user):
        rooms.update(Room.objects.filter(visibility=Visibility.PUBLIC)
                     .values_list("id", flat=True))
    return rooms
