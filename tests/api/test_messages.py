"""Messages: post, idempotent retries, history paging, threads, edit, delete, reactions."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chatserver.audit.models import AuditEntry
from chatserver.chat.models import Message, Reaction

from .conftest import API, counts, error_of

THUMBS = "\N{THUMBS UP SIGN}"


@pytest.fixture
def pair(make_user, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "general", members=[bob])
    return alice, bob, room


# --- posting ------------------------------------------------------------------


def test_post_message_shape(pair, client_for):
    alice, bob, room = pair
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/messages",
                                {"body": "hello **world**"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    msg = Message.objects.get()
    assert body == {
        "id": msg.id, "room": room.id, "seq": 3,
        "author": {"id": bob.id, "username": "bob", "display_name": "Bob", "is_bot": False},
        "body": "hello **world**", "html": "<p>hello <strong>world</strong></p>\n",
        "thread_id": None, "reply_count": 0, "created_at": body["created_at"],
        "edited_at": None, "deleted": False, "reactions": [], "pinned_at": None,
        "pinned_by": None,
    }
    assert body["created_at"].endswith("Z")
    assert client_for(alice).get(f"{API}/messages/{msg.id}").json() == body


def test_same_client_msg_id_twice_is_one_message(pair, client_for):
    alice, bob, room = pair
    b = client_for(bob)
    url = f"{API}/rooms/{room.id}/messages"
    first = b.post(url, {"body": "once", "client_msg_id": "c-1"}, format="json")
    assert first.status_code == 201
    before = counts()
    again = b.post(url, {"body": "once", "client_msg_id": "c-1"}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert counts() == before
    assert Message.objects.filter(client_msg_id="c-1").count() == 1
    # The id is per author: alice may use the same one.
    other = client_for(alice).post(url, {"body": "mine", "client_msg_id": "c-1"}, format="json")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_retry_returns_the_original_even_with_reactions(pair, client_for):
    alice, bob, room = pair
    url = f"{API}/rooms/{room.id}/messages"
    first = client_for(bob).post(url, {"body": "x", "client_msg_id": "r"}, format="json").json()
    client_for(alice).post(f"{API}/messages/{first['id']}/reactions", {"emoji": THUMBS},
                           format="json")
    again = client_for(bob).post(url, {"body": "x", "client_msg_id": "r"}, format="json")
    assert again.status_code == 200
    assert again.json()["reactions"] == [{"emoji": THUMBS, "count": 1, "users": [alice.id]}]


def test_body_of_exactly_the_limit_is_accepted(pair, client_for):
    alice, bob, room = pair
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/messages", {"body": "a" * 10_000},
                                format="json")
    assert resp.status_code == 201
    assert len(resp.json()["body"]) == 10_000


def test_body_over_the_limit_is_413_and_writes_nothing(pair, client_for, post):
    alice, bob, room = pair
    msg = post(bob, room, "short")
    before = counts()
    b = client_for(bob)
    resp = b.post(f"{API}/rooms/{room.id}/messages", {"body": "a" * 10_001, "client_msg_id": "big"},
                  format="json")
    assert resp.status_code == 413
    assert error_of(resp) == {"code": "too_large",
                              "message": "Message bodies are at most 10000 characters.",
                              "fields": {"body": "too long"}}
    # Characters, not bytes: 10,000 emoji (40,000 bytes) pass, one more does not.
    assert b.post(f"{API}/rooms/{room.id}/messages", {"body": THUMBS * 10_001},
                  format="json").status_code == 413
    resp = b.patch(f"{API}/messages/{msg['id']}", {"body": "b" * 10_001}, format="json")
    assert resp.status_code == 413
    assert counts() == before
    assert Message.objects.get(id=msg["id"]).body == "short"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "body"), ({"body": ""}, "body"), ({"body": "  \n\t "}, "body"), ({"body": 123}, "body"),
    ({"body": None}, "body"), ({"body": ["hi"]}, "body"),
    ({"body": "x", "client_msg_id": "c" * 65}, "client_msg_id"),
    ({"body": "x", "client_msg_id": "tab\there"}, "client_msg_id"),
    ({"body": "x", "client_msg_id": 5}, "client_msg_id"),
    ({"body": "x", "thread_id": "1"}, "thread_id"),
    ({"body": "x", "thread_id": True}, "thread_id"),
    ({"body": "x", "thread_id": 1.0}, "thread_id"),
])
def test_post_bad_input_is_400_and_writes_nothing(pair, client_for, body, field):
    alice, bob, room = pair
    before = counts()
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/messages", body, format="json")
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "invalid"
    assert field in error_of(resp)["fields"]
    assert counts() == before


def test_nul_in_body_is_400(pair, client_for):
    alice, bob, room = pair
    before = counts()
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/messages", {"body": "nul\x00byte"},
                                format="json")
    assert resp.status_code == 400
    assert "NUL" in error_of(resp)["message"]
    assert counts() == before


def test_post_rate_limit(pair, client_for, settings, frozen_clock):
    alice, bob, room = pair
    settings.CHAT = {**settings.CHAT, "SEND_RATE": (3, 10)}
    b = client_for(bob)
    url = f"{API}/rooms/{room.id}/messages"
    for i in range(3):
        assert b.post(url, {"body": f"m{i}", "client_msg_id": f"m{i}"},
                      format="json").status_code == 201
    before = counts()
    resp = b.post(url, {"body": "one too many"}, format="json")
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"
    assert resp["Retry-After"] == "5"  # the rest of the ten seconds
    assert counts() == before
    # A retry of an already stored message is not a new send.
    assert b.post(url, {"body": "m0", "client_msg_id": "m0"}, format="json").status_code == 200
    # The budget is per user.
    assert client_for(alice).post(url, {"body": "hi"}, format="json").status_code == 201


# --- history paging -------------------------------------------------------------------


@pytest.fixture
def history(pair, post):
    """Ten top-level messages m0..m9, plus a thread reply and a deleted message between them."""
    alice, bob, room = pair
    from chatserver.chat import actions

    ids = []
    for i in range(10):
        msg = post(alice if i % 2 else bob, room, f"m{i}")
        ids.append(msg["id"])
        if i == 3:
            post(bob, room, "a reply", thread_id=msg["id"])
            gone = post(bob, room, "deleted")
            actions.delete_message(actor=bob, message_id=gone["id"])
    return room, ids


def page(client, room, **params):
    resp = client.get(f"{API}/rooms/{room.id}/messages", params)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    return [m["body"] for m in body["results"]], body["prev"], body["next"]


def test_history_newest_page(pair, client_for, history):
    room, ids = history
    c = client_for(pair[1])
    assert page(c, room) == ([f"m{i}" for i in range(10)], None, None)
    assert page(c, room, limit=3) == (["m7", "m8", "m9"], ids[7], None)
    assert page(c, room, limit=10) == ([f"m{i}" for i in range(10)], None, None)


def test_history_page_says_which_seq_it_is_whole_up_to(pair, client_for, history):
    """last_seq is the room's seq as read with the page (a reply and a deletion
    came after m9's message.new here): resuming from it loses nothing."""
    from chatserver.chat.models import Room

    room, ids = history
    c = client_for(pair[1])
    body = c.get(f"{API}/rooms/{room.id}/messages", {"limit": 3}).json()
    room.refresh_from_db()
    assert body["last_seq"] == room.last_seq
    assert body["last_seq"] >= body["results"][-1]["seq"]
    c.post(f"{API}/messages/{ids[9]}/reactions", {"emoji": "tada"}, content_type="application/json")
    later = c.get(f"{API}/rooms/{room.id}/messages", {"before": ids[9], "limit": 3}).json()
    assert later["last_seq"] == Room.objects.get(id=room.id).last_seq == body["last_seq"] + 1


def test_history_before(pair, client_for, history):
    room, ids = history
    c = client_for(pair[1])
    assert page(c, room, limit=3, before=ids[7]) == (["m4", "m5", "m6"], ids[4], ids[6])
    assert page(c, room, limit=3, before=ids[4]) == (["m1", "m2", "m3"], ids[1], ids[3])
    assert page(c, room, limit=3, before=ids[1]) == (["m0"], None, ids[0])
    assert page(c, room, limit=3, before=ids[0]) == ([], None, None)


def test_history_after(pair, client_for, history):
    room, ids = history
    c = client_for(pair[1])
    assert page(c, room, limit=3, after=ids[0]) == (["m1", "m2", "m3"], ids[1], ids[3])
    assert page(c, room, limit=3, after=ids[3]) == (["m4", "m5", "m6"], ids[4], ids[6])
    assert page(c, room, limit=3, after=ids[6]) == (["m7", "m8", "m9"], ids[7], None)
    assert page(c, room, limit=3, after=ids[9]) == ([], None, None)


def test_history_around(pair, client_for, history):
    room, ids = history
    c = client_for(pair[1])
    assert page(c, room, limit=4, around=ids[5]) == (["m3", "m4", "m5", "m6"], ids[3], ids[6])
    assert page(c, room, limit=5, around=ids[0]) == (["m0", "m1", "m2", "m3", "m4"], None, ids[4])
    assert page(c, room, limit=4, around=ids[9]) == (["m7", "m8", "m9"], ids[7], None)
    assert page(c, room, limit=50, around=ids[5]) == ([f"m{i}" for i in range(10)], None, None)


def test_history_walks_back_and_forth_without_gaps(pair, client_for, history):
    room, ids = history
    c = client_for(pair[1])
    seen, before = [], None
    while True:
        params = {"limit": 3, **({"before": before} if before else {})}
        bodies, prev, _ = page(c, room, **params)
        seen = bodies + seen
        if prev is None:
            break
        before = prev
    assert seen == [f"m{i}" for i in range(10)]
    seen, after = ["m0"], ids[0]
    while after:
        bodies, _, after = page(c, room, limit=4, after=after)
        seen += bodies
    assert seen == [f"m{i}" for i in range(10)]


def test_history_results_are_full_messages_with_reactions(pair, client_for, history):
    room, ids = history
    alice, bob, _ = pair
    from chatserver.chat import actions

    actions.add_reaction(actor=alice, message_id=ids[3], emoji=THUMBS)
    actions.add_reaction(actor=bob, message_id=ids[3], emoji=THUMBS)
    actions.add_reaction(actor=bob, message_id=ids[3], emoji="tada")
    results = client_for(bob).get(f"{API}/rooms/{room.id}/messages",
                                  {"around": ids[3], "limit": 1}).json()["results"]
    assert [m["id"] for m in results] == [ids[3]]
    assert results[0]["reply_count"] == 1
    assert results[0]["reactions"] == [
        {"emoji": THUMBS, "count": 2, "users": [alice.id, bob.id]},
        {"emoji": "tada", "count": 1, "users": [bob.id]},
    ]
    seqs = [m["seq"] for m in client_for(bob).get(f"{API}/rooms/{room.id}/messages")
            .json()["results"]]
    assert seqs == sorted(seqs)


@pytest.mark.parametrize(("params", "status"), [
    ({"limit": "abc"}, 400), ({"limit": "-1"}, 400), ({"before": "x"}, 400),
    ({"after": "1.5"}, 400), ({"before": "1", "after": "2"}, 400), ({"around": "-3"}, 400),
    ({"before": "999999"}, 404), ({"around": "999999"}, 404),
])
def test_history_bad_params(pair, client_for, history, params, status):
    room, ids = history
    resp = client_for(pair[1]).get(f"{API}/rooms/{room.id}/messages", params)
    assert resp.status_code == status


def test_history_limit_is_capped(pair, client_for, post):
    alice, bob, room = pair
    for i in range(205):
        post(bob, room, f"n{i}")
    bodies, prev, nxt = page(client_for(bob), room, limit=1000)
    assert len(bodies) == 200
    assert bodies[0] == "n5"
    assert nxt is None
    assert prev is not None


def test_anchor_from_another_room_is_404(pair, client_for, make_room, post, history):
    alice, bob, room = pair
    other = make_room(alice, "other")
    foreign = post(alice, other, "elsewhere")
    resp = client_for(bob).get(f"{API}/rooms/{room.id}/messages", {"before": foreign["id"]})
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "not_found"


# --- threads --------------------------------------------------------------------


def test_thread_replies_and_reply_count(pair, client_for, post):
    alice, bob, room = pair
    root = post(alice, room, "root")
    b = client_for(bob)
    url = f"{API}/rooms/{room.id}/messages"
    r1 = b.post(url, {"body": "r1", "thread_id": root["id"]}, format="json")
    assert r1.status_code == 201
    assert r1.json()["thread_id"] == root["id"]
    # Replying to a reply lands in the root's thread.
    r2 = b.post(url, {"body": "r2", "thread_id": r1.json()["id"]}, format="json").json()
    assert r2["thread_id"] == root["id"]
    assert b.get(f"{API}/messages/{root['id']}").json()["reply_count"] == 2
    resp = b.get(f"{API}/messages/{root['id']}/replies")
    assert resp.status_code == 200
    assert [m["body"] for m in resp.json()["results"]] == ["r1", "r2"]
    assert resp.json()["next"] is None
    # Replies stay out of the room's history.
    assert page(b, room) == (["root"], None, None)
    # Deleting a reply takes it out of the thread and the count.
    assert b.delete(f"{API}/messages/{r1.json()['id']}").status_code == 204
    assert b.get(f"{API}/messages/{root['id']}").json()["reply_count"] == 1
    assert [m["body"] for m in b.get(f"{API}/messages/{root['id']}/replies")
            .json()["results"]] == ["r2"]


def test_thread_replies_paging(pair, client_for, post):
    alice, bob, room = pair
    root = post(alice, room, "root")
    replies = [post(bob, room, f"r{i}", thread_id=root["id"]) for i in range(5)]
    c = client_for(alice)
    first = c.get(f"{API}/messages/{root['id']}/replies", {"limit": 2}).json()
    assert [m["body"] for m in first["results"]] == ["r0", "r1"]
    assert first["next"] == replies[1]["id"]
    second = c.get(f"{API}/messages/{root['id']}/replies",
                   {"limit": 2, "after": first["next"]}).json()
    assert [m["body"] for m in second["results"]] == ["r2", "r3"]
    third = c.get(f"{API}/messages/{root['id']}/replies",
                  {"limit": 2, "after": second["next"]}).json()
    assert ([m["body"] for m in third["results"]], third["next"]) == (["r4"], None)


def test_thread_in_another_room_is_404(pair, client_for, make_room, post):
    alice, bob, room = pair
    other = make_room(alice, "other")
    foreign = post(alice, other, "elsewhere")
    before = counts()
    resp = client_for(alice).post(f"{API}/rooms/{room.id}/messages",
                                  {"body": "x", "thread_id": foreign["id"]}, format="json")
    assert resp.status_code == 404
    assert error_of(resp)["fields"] == {"thread_id": "not found"}
    resp = client_for(alice).post(f"{API}/rooms/{room.id}/messages",
                                  {"body": "x", "thread_id": 999999}, format="json")
    assert resp.status_code == 404
    assert counts() == before
    assert Message.objects.get(id=foreign["id"]).reply_count == 0


# --- edit ---------------------------------------------------------------------------


def test_edit_by_author(pair, client_for, post):
    alice, bob, room = pair
    msg = post(bob, room, "frist")
    resp = client_for(bob).patch(f"{API}/messages/{msg['id']}", {"body": "_first_"},
                                 format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["id"], body["seq"], body["body"], body["html"]) == (
        msg["id"], msg["seq"], "_first_", "<p><em>first</em></p>\n")
    assert body["edited_at"] is not None
    assert client_for(alice).get(f"{API}/messages/{msg['id']}").json() == body


def test_only_the_author_edits(pair, client_for, post, make_user):
    alice, bob, room = pair  # alice is the room admin
    msg = post(bob, room, "mine")
    before = counts()
    for user in (alice, make_user("admin", role="admin")):
        resp = client_for(user).patch(f"{API}/messages/{msg['id']}", {"body": "yours"},
                                      format="json")
        assert resp.status_code == 403
        assert error_of(resp)["code"] == "forbidden"
    assert Message.objects.get(id=msg["id"]).body == "mine"
    assert counts() == before


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": 5}])
def test_edit_bad_input(pair, client_for, post, body):
    alice, bob, room = pair
    msg = post(bob, room, "mine")
    resp = client_for(bob).patch(f"{API}/messages/{msg['id']}", body, format="json")
    assert resp.status_code == 400
    assert Message.objects.get(id=msg["id"]).edited_at is None


# --- delete ----------------------------------------------------------------------


def test_delete_by_author(pair, client_for, post):
    alice, bob, room = pair
    keep = post(bob, room, "keep")
    msg = post(bob, room, "oops")
    b = client_for(bob)
    assert b.delete(f"{API}/messages/{msg['id']}").status_code == 204
    for user in (alice, bob):
        resp = client_for(user).get(f"{API}/messages/{msg['id']}")
        assert resp.status_code == 404
        assert error_of(resp)["code"] == "not_found"
    assert page(b, room) == (["keep"], None, None)
    gone = Message.objects.get(id=msg["id"])
    assert (gone.deleted, gone.body, gone.html) == (True, "", "")
    # Gone for every other verb too.
    assert b.delete(f"{API}/messages/{msg['id']}").status_code == 404
    assert b.patch(f"{API}/messages/{msg['id']}", {"body": "x"}, format="json").status_code == 404
    assert b.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": THUMBS},
                  format="json").status_code == 404
    assert b.get(f"{API}/messages/{msg['id']}/replies").status_code == 404
    assert not AuditEntry.objects.filter(action="message.deleted").exists()
    assert Message.objects.get(id=keep["id"]).deleted is False


def test_room_admin_deletes_others_messages_audited(pair, client_for, post, make_user):
    alice, bob, room = pair
    carol = make_user("carol")
    client_for(alice).post(f"{API}/rooms/{room.id}/members", {"user_id": carol.id},
                           format="json")
    msg = post(bob, room, "spam")
    before = counts()
    assert client_for(carol).delete(f"{API}/messages/{msg['id']}").status_code == 403
    assert counts() == before
    assert client_for(alice).delete(f"{API}/messages/{msg['id']}").status_code == 204
    entry = AuditEntry.objects.get(action="message.deleted")
    assert (entry.actor_id, entry.target, entry.room_id, entry.detail) == (
        alice.id, f"message:{msg['id']}", room.id, {"author": bob.id})


# --- reactions -----------------------------------------------------------------------


def test_reactions_add_is_idempotent(pair, client_for, post):
    alice, bob, room = pair
    msg = post(alice, room, "react to me")
    url = f"{API}/messages/{msg['id']}/reactions"
    b = client_for(bob)
    first = b.post(url, {"emoji": THUMBS}, format="json")
    assert first.status_code == 201
    assert first.json()["reactions"] == [{"emoji": THUMBS, "count": 1, "users": [bob.id]}]
    before = counts()
    second = b.post(url, {"emoji": THUMBS}, format="json")
    assert second.status_code == 200
    assert second.json()["reactions"] == [{"emoji": THUMBS, "count": 1, "users": [bob.id]}]
    assert counts() == before
    assert Reaction.objects.count() == 1
    third = client_for(alice).post(url, {"emoji": THUMBS}, format="json")
    assert third.status_code == 201
    assert third.json()["reactions"] == [{"emoji": THUMBS, "count": 2,
                                          "users": [bob.id, alice.id]}]


def test_reactions_remove(pair, client_for, post):
    alice, bob, room = pair
    msg = post(alice, room, "react to me")
    b = client_for(bob)
    b.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": THUMBS}, format="json")
    client_for(alice).post(f"{API}/messages/{msg['id']}/reactions", {"emoji": THUMBS},
                           format="json")
    url = f"{API}/messages/{msg['id']}/reactions/{quote(THUMBS)}"
    assert b.delete(url).status_code == 204
    assert b.get(f"{API}/messages/{msg['id']}").json()["reactions"] == [
        {"emoji": THUMBS, "count": 1, "users": [alice.id]}]
    before = counts()
    resp = b.delete(url)  # not there any more
    assert resp.status_code == 404
    assert error_of(resp) == {"code": "not_found", "message": "Reaction not found.",
                              "fields": {}}
    assert b.delete(f"{API}/messages/{msg['id']}/reactions/tada").status_code == 404
    assert counts() == before


def test_plain_word_emoji_in_path(pair, client_for, post):
    alice, bob, room = pair
    msg = post(alice, room, "x")
    b = client_for(bob)
    assert b.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": ":+1:"},
                  format="json").status_code == 201
    assert b.delete(f"{API}/messages/{msg['id']}/reactions/{quote(':+1:')}").status_code == 204
    assert Reaction.objects.count() == 0


@pytest.mark.parametrize("emoji", ["", "a b", "x" * 65, 5, None, ["+1"], "\x07"])
def test_reaction_bad_emoji_is_400(pair, client_for, post, emoji):
    alice, bob, room = pair
    msg = post(alice, room, "x")
    before = counts()
    resp = client_for(bob).post(f"{API}/messages/{msg['id']}/reactions", {"emoji": emoji},
                                format="json")
    assert resp.status_code == 400
    assert error_of(resp)["fields"] == {"emoji": "invalid"}
    assert counts() == before
    assert client_for(bob).delete(
        f"{API}/messages/{msg['id']}/reactions/{'y' * 65}").status_code == 400
