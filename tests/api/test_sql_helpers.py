"""The hand-written SQL of the send path reads and writes rows exactly as the ORM does."""

from __future__ import annotations

from django.db import connection
from django.forms.models import model_to_dict

from chatserver.chat import access, actions
from chatserver.chat.models import Membership, Message, Room
from chatserver.events.sql import ModelColumns, insert_returning_ids


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_model_columns_build_what_the_orm_reads(make_user):
    ada = make_user("ada")
    room = actions.create_room(actor=ada, name="cols", visibility="private")
    actions.update_room(actor=ada, room_id=room.id, changes={"archived": True})
    cols = ModelColumns(Room)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols.select('r')} FROM chat_room r WHERE r.id = %s",  # noqa: S608
                    [room.id])
        built = cols.build(cur.fetchone())
    orm = Room.objects.get(id=room.id)
    assert _fields(built) == _fields(orm)
    assert built.archived is True and built.created_at.tzinfo is not None
    assert built._state.adding is False


def test_memberships_with_rooms_matches_select_related(make_user):
    ada, bob = make_user("ada"), make_user("bob")
    rooms = [actions.create_room(actor=ada, name=f"m{i}") for i in range(3)]
    actions.join_room(actor=bob, room_id=rooms[1].id)
    got = access._memberships_with_rooms([ada.id, bob.id], [r.id for r in rooms])
    want = Membership.objects.select_related("room").filter(
        user_id__in=[ada.id, bob.id], room_id__in=[r.id for r in rooms])
    def by_id(ms):
        return {m.id: (_fields(m), _fields(m.room)) for m in ms}

    assert by_id(got) == by_id(want)
    assert len(got) == 4


def test_insert_returning_ids_sets_ids_in_order(make_user):
    ada = make_user("ada")
    room = actions.create_room(actor=ada, name="ins")
    first = actions.post_message(actor=ada, room_id=room.id, body="root").message
    now = Message.objects.get(id=first["id"]).created_at
    rows = [Message(room=room, seq=100 + i, author=ada, body=f"b{i}", html=f"<p>b{i}</p>",
                    thread_root_id=first["id"] if i == 1 else None, created_at=now)
            for i in range(3)]
    insert_returning_ids(rows)
    assert all(m.pk and not m._state.adding for m in rows)
    for m in rows:
        stored = Message.objects.get(id=m.pk)
        assert model_to_dict(stored) == model_to_dict(m)
        assert stored.body == m.body and stored.seq == m.seq
