"""Query counts on the hot paths are pinned, so an N+1 fails here.

Counts include the bearer-token lookup and, for writes, the SAVEPOINT/RELEASE
pair of the action's atomic block (the test itself runs in a transaction).
They are for a token in steady use: the once-a-minute last_used_at stamp
(tests/api/test_admin_tokens.py counts it) is written before the counted request.
"""

from __future__ import annotations

import pytest

from chatserver.chat import actions

from .conftest import API


@pytest.fixture
def make_user(make_user, client_for):
    """make_user, whose token has been used once already (its last_used_at is fresh)."""

    def make(*args, **kwargs):
        user = make_user(*args, **kwargs)
        assert client_for(user).get(f"{API}/users/me").status_code == 200
        return user

    return make


@pytest.fixture
def crowd(make_user, make_room):
    users = [make_user(f"u{i}") for i in range(6)]
    room = make_room(users[0], "big", members=users[1:])
    return users, room


def test_posting_a_message(crowd, client_for, django_assert_max_num_queries):
    users, room = crowd
    c = client_for(users[0])
    url = f"{API}/rooms/{room.id}/messages"
    # token, membership, mentioned users, seq bump, message, mention rows, read
    # marker, event, savepoint + release
    with django_assert_max_num_queries(10):
        resp = c.post(url, {"body": "hi @u1 @u2 @u3 @u4 @room"}, format="json")
    assert resp.status_code == 201
    # token, membership, seq bump, message, read marker, event, savepoint + release
    with django_assert_max_num_queries(8):
        resp = c.post(url, {"body": "plain", "client_msg_id": "a"}, format="json")
    assert resp.status_code == 201
    # A retry is found by the unique constraint: the insert rolls back, then one
    # lookup answers it (retries are rare, so first sends do no lookup at all).
    with django_assert_max_num_queries(10):
        resp = c.post(url, {"body": "plain", "client_msg_id": "a"}, format="json")
    assert resp.status_code == 200
    root = resp.json()["id"]
    with django_assert_max_num_queries(11):
        resp = c.post(url, {"body": "reply", "thread_id": root}, format="json")
    assert resp.status_code == 201


@pytest.mark.parametrize("messages", [5, 60])
def test_history_page_with_reactions(crowd, client_for, post, messages,
                                     django_assert_max_num_queries):
    users, room = crowd
    for i in range(messages):
        msg = post(users[i % 6], room, f"m{i} @u1")
        for u in users[: 1 + i % 4]:
            actions.add_reaction(actor=u, message_id=msg["id"], emoji="eyes")
            actions.add_reaction(actor=u, message_id=msg["id"], emoji=f"e{i % 3}")
    # token, membership, one page of messages with authors, all their reactions
    with django_assert_max_num_queries(4):
        resp = client_for(users[1]).get(f"{API}/rooms/{room.id}/messages", {"limit": 50})
    body = resp.json()
    assert len(body["results"]) == min(messages, 50)
    assert all(m["reactions"] for m in body["results"])


@pytest.mark.parametrize("rooms", [2, 20])
def test_rooms_list(make_user, make_room, client_for, post, rooms,
                    django_assert_max_num_queries):
    me = make_user("me")
    others = [make_user(f"o{i}") for i in range(3)]
    for i in range(rooms - 2):
        room = make_room(others[i % 3], f"room{i:02}", members=[me, others[(i + 1) % 3]])
        post(others[i % 3], room, f"@me hello {i}")
        post(others[i % 3], room, "@room all")
    for i in range(2):
        dm = actions.open_dm(actor=me, user_ids=[others[i].id])
        post(others[i], dm.id, "psst")
    for i in range(5):
        make_room(others[0], f"public{i}")
    # token, memberships with counts, DM members, public rooms to join
    with django_assert_max_num_queries(4):
        resp = client_for(me).get(f"{API}/rooms")
    results = resp.json()["results"]
    joined = [r for r in results if r["joined"]]
    assert len(joined) == rooms
    assert len(results) == rooms + 5
    assert all(r["unread"] >= 1 for r in joined)
    assert sum(r["mentions"] for r in joined) == 2 * (rooms - 2)


def test_members_list(crowd, client_for, django_assert_max_num_queries):
    users, room = crowd
    with django_assert_max_num_queries(3):
        resp = client_for(users[1]).get(f"{API}/rooms/{room.id}/members")
    assert len(resp.json()["results"]) == 6


def test_thread_replies(crowd, client_for, post, django_assert_max_num_queries):
    users, room = crowd
    root = post(users[0], room, "root")
    for i in range(30):
        reply = post(users[i % 6], room, f"r{i}", thread_id=root["id"])
        actions.add_reaction(actor=users[1], message_id=reply["id"], emoji="ok")
    # token, the root, membership, replies with authors, their reactions
    with django_assert_max_num_queries(5):
        resp = client_for(users[2]).get(f"{API}/messages/{root['id']}/replies")
    assert len(resp.json()["results"]) == 30


@pytest.mark.parametrize("pins", [3, 100])
def test_pins_list_and_pin_writes(crowd, client_for, post, pins, settings,
                                  django_assert_max_num_queries):
    users, room = crowd
    settings.CHAT = {**settings.CHAT, "MAX_PINS_PER_ROOM": 101}
    ids = []
    for i in range(pins):
        msg = post(users[i % 6], room, f"m{i}")
        actions.add_reaction(actor=users[1], message_id=msg["id"], emoji="eyes")
        actions.pin_message(actor=users[i % 6], room_id=room.id, message_id=msg["id"])
        ids.append(msg["id"])
    # token, membership, the pinned messages with authors, all their reactions
    with django_assert_max_num_queries(4):
        resp = client_for(users[1]).get(f"{API}/rooms/{room.id}/pins")
    assert [m["id"] for m in resp.json()["results"]] == ids[::-1]
    extra = post(users[0], room, "one more")
    c = client_for(users[2])
    url = f"{API}/rooms/{room.id}/messages/{extra['id']}/pin"
    # token, membership, message (locked), seq bump, pin count, update, its
    # reactions, event, savepoint + release
    with django_assert_max_num_queries(10):
        assert c.post(url).status_code == 201
    # the same less the count (her own pin: no audit entry)
    with django_assert_max_num_queries(9):
        assert c.delete(url).status_code == 204
