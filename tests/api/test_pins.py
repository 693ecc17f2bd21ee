"""Pinned messages over REST: pin, unpin, the room's list, their events, their rules.

POST/DELETE /api/v1/rooms/{id}/messages/{mid}/pin, GET /api/v1/rooms/{id}/pins.
Who may call them at all is in test_access_matrix.py; this file covers what
they do and the errors a member can meet.
"""

from __future__ import annotations

import json

import pytest

from chatserver.audit.models import AuditEntry
from chatserver.chat.models import Message, Room
from chatserver.events.models import RoomEvent

from .conftest import API, error_of


@pytest.fixture
def ops(make_user, make_room):
    ann, ben = make_user("ann"), make_user("ben")
    room = make_room(ann, "ops", members=[ben])
    return ann, ben, room


def pin_url(room_id: int, message_id: int) -> str:
    return f"{API}/rooms/{room_id}/messages/{message_id}/pin"


def room_events(room_id: int, *types: str) -> list[dict]:
    rows = RoomEvent.objects.filter(room_id=room_id, type__in=types).order_by("seq")
    return [json.loads(r.frame) for r in rows]


def test_pin_shows_everywhere_the_message_does(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room, "deploy freeze until Friday")
    resp = client_for(ben).post(pin_url(room.id, msg["id"]))
    assert resp.status_code == 201
    pinned = resp.json()
    assert pinned["id"] == msg["id"] and pinned["pinned_by"] == ben.id
    assert pinned["pinned_at"] is not None and pinned["body"] == "deploy freeze until Friday"

    a = client_for(ann)
    history = a.get(f"{API}/rooms/{room.id}/messages").json()["results"]
    assert [(m["id"], m["pinned_by"], m["pinned_at"]) for m in history] == [
        (msg["id"], ben.id, pinned["pinned_at"])]
    assert a.get(f"{API}/messages/{msg['id']}").json()["pinned_at"] == pinned["pinned_at"]
    assert a.get(f"{API}/rooms/{room.id}/pins").json() == {"results": [pinned], "next": None}

    (event,) = room_events(room.id, "message.pinned")
    assert event["message_id"] == msg["id"] and event["message"] == pinned
    assert event["by"]["username"] == "ben"
    assert event["seq"] == Room.objects.get(id=room.id).last_seq


def test_pins_list_newest_pin_first_and_only_pinned(ops, client_for, post):
    ann, ben, room = ops
    first, second, third = (post(ann, room, f"note {i}") for i in range(3))
    reply = post(ben, room, "in a thread", thread_id=first["id"])
    c = client_for(ann)
    for m in (second, reply, first):  # pin order, not message order
        assert c.post(pin_url(room.id, m["id"])).status_code == 201
    listed = c.get(f"{API}/rooms/{room.id}/pins").json()["results"]
    assert [m["id"] for m in listed] == [first["id"], reply["id"], second["id"]]
    assert listed[1]["thread_id"] == first["id"]  # replies may be pinned too
    assert third["id"] not in {m["id"] for m in listed}


def test_pinning_twice_is_idempotent(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room)
    first = client_for(ann).post(pin_url(room.id, msg["id"]))
    seq = Room.objects.get(id=room.id).last_seq
    again = client_for(ben).post(pin_url(room.id, msg["id"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # still ann's pin, same time
    assert Room.objects.get(id=room.id).last_seq == seq  # no second event
    assert len(room_events(room.id, "message.pinned")) == 1


def test_unpin(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room)
    c = client_for(ann)
    c.post(pin_url(room.id, msg["id"]))
    assert c.delete(pin_url(room.id, msg["id"])).status_code == 204
    assert c.get(f"{API}/rooms/{room.id}/pins").json()["results"] == []
    stored = Message.objects.get(id=msg["id"])
    assert (stored.pinned_at, stored.pinned_by_id) == (None, None)
    (event,) = room_events(room.id, "message.unpinned")
    assert event["message"]["pinned_at"] is None and event["by"]["id"] == ann.id
    # Unpinning what is not pinned says so, and writes nothing.
    seq = Room.objects.get(id=room.id).last_seq
    resp = c.delete(pin_url(room.id, msg["id"]))
    assert resp.status_code == 404
    assert error_of(resp)["message"] == "The message is not pinned."
    assert Room.objects.get(id=room.id).last_seq == seq


def test_unpinning_someone_elses_pin_is_audited(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room)
    client_for(ann).post(pin_url(room.id, msg["id"]))
    client_for(ann).delete(pin_url(room.id, msg["id"]))
    assert not AuditEntry.objects.filter(action="message.unpinned").exists()  # her own pin
    client_for(ann).post(pin_url(room.id, msg["id"]))
    assert client_for(ben).delete(pin_url(room.id, msg["id"])).status_code == 204
    entry = AuditEntry.objects.get(action="message.unpinned")
    assert (entry.actor_id, entry.target, entry.room_id) == (ben.id, f"message:{msg['id']}",
                                                             room.id)
    assert entry.detail == {"pinned_by": ann.id, "author": ann.id}


def test_deleted_messages_cannot_be_pinned(ops, client_for, post):
    ann, _, room = ops
    msg = post(ann, room)
    c = client_for(ann)
    assert c.delete(f"{API}/messages/{msg['id']}").status_code == 204
    resp = c.post(pin_url(room.id, msg["id"]))
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "not_found"
    assert not Message.objects.filter(pinned_at__isnull=False).exists()


def test_deleting_a_pinned_message_unpins_it_and_redacts_the_pin_event(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room, "the secret is hunter2")
    client_for(ben).post(pin_url(room.id, msg["id"]))
    assert client_for(ann).delete(f"{API}/messages/{msg['id']}").status_code == 204
    assert client_for(ann).get(f"{API}/rooms/{room.id}/pins").json()["results"] == []
    stored = Message.objects.get(id=msg["id"])
    assert (stored.deleted, stored.pinned_at, stored.pinned_by_id) == (True, None, None)
    # Resume replays the pin event with its seq and fields, but not the deleted text.
    (event,) = room_events(room.id, "message.pinned")
    assert event["message_id"] == msg["id"] and event["by"]["id"] == ben.id
    assert event["message"]["deleted"] is True and event["message"]["body"] == ""
    assert "hunter2" not in "".join(RoomEvent.objects.filter(room_id=room.id)
                                    .values_list("frame", flat=True))


def test_message_of_another_room_is_not_found(ops, client_for, post, make_room):
    ann, ben, room = ops
    other = make_room(ann, "elsewhere", members=[ben])
    msg = post(ann, other)
    c = client_for(ann)
    for call in (c.post, c.delete):
        resp = call(pin_url(room.id, msg["id"]))
        assert resp.status_code == 404
        assert error_of(resp)["message"] == "Message not found."
    assert not Message.objects.filter(pinned_at__isnull=False).exists()
    assert c.post(pin_url(other.id, msg["id"])).status_code == 201


def test_private_room_pins_are_invisible_to_outsiders(make_user, make_room, client_for, post):
    ann, olga = make_user("ann"), make_user("olga")
    secret = make_room(ann, "secret", visibility="private")
    msg = post(ann, secret, "quiet")
    client_for(ann).post(pin_url(secret.id, msg["id"]))
    o = client_for(olga)
    missing = o.get(f"{API}/rooms/987654/pins")
    for resp in (o.get(f"{API}/rooms/{secret.id}/pins"), o.post(pin_url(secret.id, msg["id"])),
                 o.delete(pin_url(secret.id, msg["id"]))):
        assert resp.status_code == 404
        assert resp.json() == missing.json()


def test_pin_cap(ops, client_for, post, settings):
    ann, _, room = ops
    settings.CHAT = {**settings.CHAT, "MAX_PINS_PER_ROOM": 3}
    msgs = [post(ann, room, f"m{i}") for i in range(5)]
    c = client_for(ann)
    for m in msgs[:3]:
        assert c.post(pin_url(room.id, m["id"])).status_code == 201
    seq = Room.objects.get(id=room.id).last_seq
    resp = c.post(pin_url(room.id, msgs[3]["id"]))
    assert resp.status_code == 409
    err = error_of(resp)
    assert err["code"] == "conflict" and "unpin one first" in err["message"]
    assert err["fields"] == {"pins": "at most 3"}
    assert Room.objects.get(id=room.id).last_seq == seq  # nothing written
    assert Message.objects.get(id=msgs[3]["id"]).pinned_at is None
    assert c.post(pin_url(room.id, msgs[0]["id"])).status_code == 200  # re-pin: no new pin
    # A deleted pin frees its place, as an unpin does.
    c.delete(f"{API}/messages/{msgs[1]['id']}")
    assert c.post(pin_url(room.id, msgs[3]["id"])).status_code == 201
    c.delete(pin_url(room.id, msgs[0]["id"]))
    assert c.post(pin_url(room.id, msgs[4]["id"])).status_code == 201


def test_archived_and_announcement_rooms(ops, client_for, post):
    ann, ben, room = ops
    msg = post(ann, room)
    a, b = client_for(ann), client_for(ben)
    a.patch(f"{API}/rooms/{room.id}", {"posting_policy": "admins"}, format="json")
    # Only room admins post, react and pin in an announcement room.
    resp = b.post(pin_url(room.id, msg["id"]))
    assert resp.status_code == 403 and error_of(resp)["message"] == "Only room admins may post here."
    assert a.post(pin_url(room.id, msg["id"])).status_code == 201
    assert b.delete(pin_url(room.id, msg["id"])).status_code == 403
    a.patch(f"{API}/rooms/{room.id}", {"archived": True}, format="json")
    # An archived room is read-only: its pins stay, and stay listed.
    resp = a.delete(pin_url(room.id, msg["id"]))
    assert resp.status_code == 403 and error_of(resp)["message"] == "The room is archived."
    assert [m["id"] for m in b.get(f"{API}/rooms/{room.id}/pins").json()["results"]] == [
        msg["id"]]


def test_public_room_pins_readable_by_non_members(ops, client_for, post, make_user):
    ann, _, room = ops
    msg = post(ann, room)
    client_for(ann).post(pin_url(room.id, msg["id"]))
    olga = make_user("olga")
    o = client_for(olga)
    assert [m["id"] for m in o.get(f"{API}/rooms/{room.id}/pins").json()["results"]] == [
        msg["id"]]
    resp = o.post(pin_url(room.id, msg["id"]))
    assert resp.status_code == 403 and error_of(resp)["message"] == "Join the room first."


def test_bad_ids(ops, client_for):
    _, _, room = ops
    c = client_for(ops[0])
    assert c.post(f"{API}/rooms/{room.id}/messages/abc/pin").status_code == 404
    assert c.post(pin_url(room.id, 2**63)).status_code == 404
    assert c.get(f"{API}/rooms/{2**63}/pins").status_code == 404
