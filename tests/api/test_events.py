"""The event log: each write appends exactly its events, with a gapless per-room seq."""

from __future__ import annotations

import json
from urllib.parse import quote

from chatserver.chat.models import Message, Room
from chatserver.events.models import RoomEvent, UserEvent

from .conftest import API

THUMBS = "\N{THUMBS UP SIGN}"


def events(room_id: int) -> list[dict]:
    rows = RoomEvent.objects.filter(room_id=room_id).order_by("seq")
    out = []
    for row in rows:
        frame = json.loads(row.frame)
        # room.updated is {"room": {...}} per the contract, so there "room" is the
        # room object (whose id is the room) rather than the bare id.
        frame_room = frame["room"]["id"] if row.type == "room.updated" else frame["room"]
        assert (frame["type"], frame_room, frame["seq"]) == (row.type, room_id, row.seq)
        out.append(frame)
    return out


def assert_gapless(room_id: int) -> list[dict]:
    log = events(room_id)
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert Room.objects.get(id=room_id).last_seq == len(log)
    return log


def test_every_write_appends_exactly_its_events(make_user, client_for):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    a, b, c = client_for(alice), client_for(bob), client_for(carol)

    room_id = a.post(f"{API}/rooms", {"name": "ops"}, format="json").json()["id"]
    assert a.post(f"{API}/rooms/{room_id}/members", {"user_id": bob.id},
                  format="json").status_code == 200
    msg = b.post(f"{API}/rooms/{room_id}/messages", {"body": "hello", "client_msg_id": "k"},
                 format="json").json()
    assert b.post(f"{API}/rooms/{room_id}/messages", {"body": "hello", "client_msg_id": "k"},
                  format="json").status_code == 200  # retry: no new event
    assert b.patch(f"{API}/messages/{msg['id']}", {"body": "hello!"},
                   format="json").status_code == 200
    assert a.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": THUMBS},
                  format="json").status_code == 201
    assert a.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": THUMBS},
                  format="json").status_code == 200  # already there: no event
    assert a.delete(f"{API}/messages/{msg['id']}/reactions/{quote(THUMBS)}").status_code == 204
    assert a.patch(f"{API}/rooms/{room_id}", {"topic": "pager"}, format="json").status_code == 200
    assert a.patch(f"{API}/rooms/{room_id}/members/{bob.id}", {"role": "admin"},
                   format="json").status_code == 204
    reply = b.post(f"{API}/rooms/{room_id}/messages", {"body": "in thread",
                                                       "thread_id": msg["id"]},
                   format="json").json()
    assert b.delete(f"{API}/messages/{reply['id']}").status_code == 204
    assert c.post(f"{API}/rooms/{room_id}/join").status_code == 200
    assert c.post(f"{API}/rooms/{room_id}/leave").status_code == 204
    assert a.delete(f"{API}/rooms/{room_id}/members/{bob.id}").status_code == 204
    # Reads and refused writes append nothing.
    assert a.post(f"{API}/rooms/{room_id}/read", {"seq": 3}, format="json").status_code == 200
    assert a.get(f"{API}/rooms/{room_id}/messages").status_code == 200
    assert c.post(f"{API}/rooms/{room_id}/messages", {"body": "not a member"},
                  format="json").status_code == 403
    assert a.post(f"{API}/rooms/{room_id}/messages", {"body": "x" * 10_001},
                  format="json").status_code == 413
    assert a.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": ""},
                  format="json").status_code == 400
    assert a.patch(f"{API}/rooms/{room_id}", {"archived": "no"}, format="json").status_code == 400

    log = assert_gapless(room_id)
    assert [e["type"] for e in log] == [
        "member.joined",     # 1 alice created the room
        "member.joined",     # 2 bob invited
        "message.new",       # 3
        "message.edited",    # 4
        "reaction.added",    # 5
        "reaction.removed",  # 6
        "room.updated",      # 7
        "member.updated",    # 8
        "message.new",       # 9 the thread reply
        "message.deleted",   # 10
        "member.joined",     # 11 carol
        "member.left",       # 12 carol
        "member.left",       # 13 bob removed by alice
    ]
    assert (log[0]["user_id"], log[0]["by"]) == (alice.id, alice.id)
    assert (log[1]["user_id"], log[1]["by"], log[1]["user"]["username"]) == (bob.id, alice.id, "bob")
    assert log[2]["message"] == msg
    assert log[2]["message"]["seq"] == 3 == Message.objects.get(id=msg["id"]).seq
    assert (log[3]["message"]["id"], log[3]["message"]["body"]) == (msg["id"], "hello!")
    for e in (log[4], log[5]):
        assert {k: e[k] for k in ("message_id", "emoji", "user_id")} == {
            "message_id": msg["id"], "emoji": THUMBS, "user_id": alice.id}
    assert (log[6]["room"]["id"], log[6]["room"]["topic"], log[6]["room"]["last_seq"]) == (
        room_id, "pager", 7)
    assert (log[7]["user_id"], log[7]["role"]) == (bob.id, "admin")
    assert log[8]["message"]["thread_id"] == msg["id"]
    assert (log[9]["message_id"], log[9]["thread_id"]) == (reply["id"], msg["id"])
    # The deleted reply's own event no longer carries its text.
    assert (log[8]["message"]["body"], log[8]["message"]["deleted"]) == ("", True)
    assert (log[11]["user_id"], log[11]["by"]) == (carol.id, carol.id)
    assert (log[12]["user_id"], log[12]["by"]) == (bob.id, alice.id)
    # Bob's own stream: added to the room, then removed from it.
    assert list(UserEvent.objects.filter(user=bob).order_by("seq").values_list("seq", "type")) == [
        (1, "room.added"), (2, "room.removed")]


def test_room_updated_event_carries_the_room(make_user, client_for, make_room):
    alice = make_user("alice")
    room = make_room(alice, "ops")
    client_for(alice).patch(f"{API}/rooms/{room.id}", {"name": "ops2", "archived": True},
                            format="json")
    last = events(room.id)[-1]
    assert last["type"] == "room.updated"
    assert last["seq"] == 2
    assert {k: last["room"][k] for k in ("id", "name", "archived", "last_seq")} == {
        "id": room.id, "name": "ops2", "archived": True, "last_seq": 2}


def test_seq_is_per_room(make_user, client_for, make_room, post):
    alice = make_user("alice")
    bob = make_user("bob")
    one = make_room(alice, "one")
    two = make_room(alice, "two", members=[bob])
    for i in range(3):
        post(alice, one, f"one {i}")
        post(bob, two, f"two {i}")
    dm = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json").json()
    post(bob, dm["id"], "psst")
    assert [e["type"] for e in assert_gapless(one.id)] == ["member.joined"] + ["message.new"] * 3
    assert [e["type"] for e in assert_gapless(two.id)] == ["member.joined"] * 2 + [
        "message.new"] * 3
    assert [e["type"] for e in assert_gapless(dm["id"])] == ["member.joined"] * 2 + [
        "message.new"]
    assert list(Message.objects.filter(room=two).order_by("seq").values_list("seq", flat=True)) == [
        3, 4, 5]


def test_many_mixed_writes_stay_gapless(make_user, client_for, make_room, post):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "busy", members=[bob])
    a, b = client_for(alice), client_for(bob)
    ids = []
    for i in range(12):
        resp = (a if i % 2 else b).post(f"{API}/rooms/{room.id}/messages", {"body": f"m{i}"},
                                        format="json")
        ids.append(resp.json()["id"])
        if i % 3 == 0:
            b.post(f"{API}/messages/{ids[-1]}/reactions", {"emoji": "eyes"}, format="json")
        if i % 4 == 0:
            (a if i % 2 else b).delete(f"{API}/messages/{ids[-1]}")
        # Refused writes in between must not burn a seq.
        b.patch(f"{API}/rooms/{room.id}", {"topic": "no"}, format="json")
    log = assert_gapless(room.id)
    assert len(log) == 2 + 12 + 4 + 3
    assert [m.seq for m in Message.objects.filter(room=room).order_by("id")] == [
        e["seq"] for e in log if e["type"] == "message.new"]
