"""@username and @room mentions: parsed at write time, counted in the rooms list."""

from __future__ import annotations

import pytest

from chatserver.chat import actions
from chatserver.chat.models import Mention

from .conftest import API


@pytest.fixture
def team(make_user, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    make_user("dave")  # not in the room
    room = make_room(alice, "general", members=[bob, carol])
    return alice, bob, carol, room


def mention_counts(client_for, users, room) -> dict[str, int]:
    out = {}
    for user in users:
        resp = client_for(user).get(f"{API}/rooms/{room.id}")
        assert resp.status_code == 200
        out[user.username] = resp.json()["mentions"]
    return out


def say(client_for, user, room, body, **extra):
    resp = client_for(user).post(f"{API}/rooms/{room.id}/messages", {"body": body, **extra},
                                 format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_username_mention_counts_only_for_that_member(team, client_for):
    alice, bob, carol, room = team
    msg = say(client_for, alice, room, "hey @bob, look")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 1, "carol": 0}
    assert msg["html"] == '<p>hey <span class="mention">@bob</span>, look</p>\n'
    say(client_for, carol, room, "@BOB again (names are case-insensitive)")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 2, "carol": 0}


@pytest.mark.parametrize("word", ["room", "all", "everyone"])
def test_room_mention_counts_for_every_member_but_the_author(team, client_for, word):
    alice, bob, carol, room = team
    msg = say(client_for, bob, room, f"@{word} standup in 5")
    assert mention_counts(client_for, team[:3], room) == {"alice": 1, "bob": 0, "carol": 1}
    assert f'<span class="mention">@{word}</span>' in msg["html"]


def test_mentioning_yourself_does_not_count(team, client_for):
    alice, bob, carol, room = team
    say(client_for, bob, room, "note to self @bob")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 0, "carol": 0}
    assert not Mention.objects.exists()


@pytest.mark.parametrize("body", [
    "`@bob` is a code span",
    "```\n@bob in a fenced block\n```",
    "```python\nprint('@room')\n```",
    "~~~\n@bob in a tilde fence\n~~~",
    "    @bob in an indented code block",
    "mail me at carol@bob.example",
    "@dave is not in this room",
    "@ bob is not a mention",
])
def test_things_that_are_not_mentions(team, client_for, body):
    alice, bob, carol, room = team
    msg = say(client_for, alice, room, body)
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 0, "carol": 0}
    assert 'class="mention"' not in msg["html"]
    assert not Mention.objects.exists()


def test_mention_with_trailing_punctuation(team, client_for):
    alice, bob, carol, room = team
    say(client_for, alice, room, "thanks @bob. and @carol-")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 1, "carol": 1}


def test_one_message_counts_once_even_with_room_and_name(team, client_for):
    alice, bob, carol, room = team
    say(client_for, alice, room, "@room and especially @bob @bob")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 1, "carol": 1}


def test_mark_read_clears_mentions(team, client_for):
    alice, bob, carol, room = team
    first = say(client_for, alice, room, "@bob one")
    say(client_for, alice, room, "@bob two")
    b = client_for(bob)
    assert b.post(f"{API}/rooms/{room.id}/read", {"seq": first["seq"]},
                  format="json").status_code == 200
    assert mention_counts(client_for, [bob], room) == {"bob": 1}
    room.refresh_from_db()
    b.post(f"{API}/rooms/{room.id}/read", {"seq": room.last_seq}, format="json")
    assert mention_counts(client_for, [bob], room) == {"bob": 0}
    # New mentions count again.
    say(client_for, carol, room, "@bob three")
    assert mention_counts(client_for, [bob], room) == {"bob": 1}


def test_mentions_in_thread_replies_count(team, client_for):
    alice, bob, carol, room = team
    root = say(client_for, alice, room, "a question")
    say(client_for, carol, room, "@bob can you answer?", thread_id=root["id"])
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 1, "carol": 0}


def test_deleted_messages_no_longer_count(team, client_for):
    alice, bob, carol, room = team
    direct = say(client_for, alice, room, "@bob ping")
    broadcast = say(client_for, alice, room, "@room ping")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 2, "carol": 1}
    actions.delete_message(actor=alice, message_id=direct["id"])
    actions.delete_message(actor=alice, message_id=broadcast["id"])
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 0, "carol": 0}


def test_edits_update_mentions(team, client_for):
    alice, bob, carol, room = team
    msg = say(client_for, alice, room, "hello @bob")
    a = client_for(alice)
    resp = a.patch(f"{API}/messages/{msg['id']}", {"body": "hello @carol"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["html"] == '<p>hello <span class="mention">@carol</span></p>\n'
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 0, "carol": 1}
    a.patch(f"{API}/messages/{msg['id']}", {"body": "hello @room"}, format="json")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 1, "carol": 1}
    a.patch(f"{API}/messages/{msg['id']}", {"body": "hello nobody"}, format="json")
    assert mention_counts(client_for, team[:3], room) == {"alice": 0, "bob": 0, "carol": 0}


def test_mentions_are_per_room(team, client_for, make_room):
    alice, bob, carol, room = team
    other = make_room(alice, "other", members=[bob])
    say(client_for, alice, other, "@bob over here")
    assert mention_counts(client_for, [bob], room) == {"bob": 0}
    assert mention_counts(client_for, [bob], other) == {"bob": 1}
    listed = {r["name"]: r["mentions"]
              for r in client_for(bob).get(f"{API}/rooms").json()["results"]}
    assert listed == {"general": 0, "other": 1}
