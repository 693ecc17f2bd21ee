"""Searches in one room or a few: every query shape finds exactly the matches in
those rooms, on both engines. On SQLite the word index holds each message's
room as a token (`r<id>`) that such a search intersects with the words; typed
text must never reach those tokens, and edits and deletes keep them exact."""

from __future__ import annotations

import pytest
from django.db import connection

from chatserver.chat import actions
from chatserver.chat.models import Message
from chatserver.search import plan as planner
from chatserver.search import query, schema

from .conftest import API

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite word index")

LINES = {
    "ops": [
        "deploy failed on db-1",
        "deploy done https://ci.example.com/7",
        "we deployed api-7f9c",
        "deploy again, run `make deploy`",
        "nothing to see",
    ],
    "dev": [
        "deploy failed in dev",
        "deploy preview for api-7f9c",
    ],
    "lab": [
        "deploy the lab",
    ],
}


@pytest.fixture
def world(make_user, make_room, post):
    alice, bob = make_user("alice"), make_user("bob")
    rooms = {name: make_room(alice, name, members=[bob]) for name in LINES}
    for name, lines in LINES.items():
        for i, line in enumerate(lines):
            post(bob if i == 1 else alice, rooms[name], line)
    return {"alice": alice, "bob": bob, **rooms}


def _expected(rooms: tuple[str, ...], keep) -> set[str]:
    return {ln for name in rooms for ln in LINES[name] if keep(ln)}


@pytest.mark.parametrize("sort", ["relevance", "recent"])
@pytest.mark.parametrize(("q", "rooms", "keep"), [
    ("deploy in:#ops", ("ops",), lambda ln: "deploy" in ln),
    ("deploy in:#ops -failed", ("ops",), lambda ln: "deploy" in ln and "failed" not in ln),
    ('deploy in:#ops -"deploy failed"', ("ops",),
     lambda ln: "deploy" in ln and "deploy failed" not in ln),
    ("deploy in:#ops -from:@bob", ("ops",), lambda ln: "deploy" in ln and "ci.example" not in ln),
    ("deploy in:#ops -has:link -has:code", ("ops",),
     lambda ln: "deploy" in ln and "https" not in ln and "`" not in ln),
    ("deploy in:#ops has:code", ("ops",), lambda ln: "make deploy" in ln),
    ("deploy in:#ops from:@bob", ("ops",), lambda ln: "ci.example" in ln),
    ('"deploy failed" in:#ops', ("ops",), lambda ln: "deploy failed" in ln),
    ("depl* in:#dev", ("dev",), lambda ln: "deploy" in ln),
    ("api-7f9c in:#ops", ("ops",), lambda ln: "api-7f9c" in ln),
    ("deploy api-7f9c in:#dev", ("dev",), lambda ln: "api-7f9c" in ln),
    ("in:#lab deploy", ("lab",), lambda ln: "deploy" in ln),
    ("deploy in:#ops in:#dev", ("ops", "dev"), lambda ln: "deploy" in ln),
    ("deploy in:#ops in:#dev -failed", ("ops", "dev"),
     lambda ln: "deploy" in ln and "failed" not in ln),
    ("deploy -in:#ops", ("dev", "lab"), lambda ln: "deploy" in ln),
    ("-deploy in:#ops", ("ops",), lambda ln: "deploy" not in ln),
])
def test_room_scoped_query_shapes(world, bodies, q, rooms, keep, sort):
    assert set(bodies(world["alice"], q, sort=sort)) == _expected(rooms, keep)


def test_room_scoped_relevance_ranks_and_highlights(world, post, search):
    best = post(world["alice"], world["ops"], "deploy deploy deploy, the deploy")
    post(world["alice"], world["ops"], "chatter after the best deploy line")
    page = search(world["alice"], "deploy in:#ops", sort="relevance")
    assert page["results"][0]["message"]["id"] == best["id"]
    assert "<mark>deploy</mark>" in page["results"][0]["highlight"]
    assert {r["room"]["name"] for r in page["results"]} == {"ops"}


def test_room_scoped_pages_through_every_match_once(world, post, search):
    for i in range(7):
        post(world["alice"], world["ops"], f"deploy number {i}")
    for sort in ("relevance", "recent"):
        seen, cursor = [], None
        while True:
            page = search(world["alice"], "deploy in:#ops", sort=sort, limit=3,
                          **({"cursor": cursor} if cursor else {}))
            seen += [r["message"]["id"] for r in page["results"]]
            cursor = page["next"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 4 + 7


def test_a_room_one_cannot_read_gives_nothing(world, make_user, make_room, post, client_for,
                                              bodies):
    """Scoped to a room one may not read, alone or with one's own: a 400 that
    reveals nothing, and no message of that room in any other search."""
    carol = make_user("carol")
    secret = make_room(carol, "secret", visibility="private")
    post(carol, secret, "deploy the secret plan")
    for q in ("deploy in:#secret", "deploy in:#ops in:#secret", "-deploy in:#secret"):
        resp = client_for(world["alice"]).get(API, {"q": q})
        assert resp.status_code == 400
        assert resp.json()["error"]["message"] == "No room named #secret that you can read."
    assert "deploy the secret plan" not in bodies(world["alice"], "deploy")
    assert bodies(carol, "deploy in:#secret") == ["deploy the secret plan"]
    # A former member: found while a member, gone after leaving.
    actions.invite(actor=carol, room_id=secret.id, user_ids=[world["bob"].id])
    assert bodies(world["bob"], "deploy in:#secret") == ["deploy the secret plan"]
    actions.leave_room(actor=world["bob"], room_id=secret.id)
    assert client_for(world["bob"]).get(API, {"q": "deploy in:#secret"}).status_code == 400
    assert "deploy the secret plan" not in bodies(world["bob"], "deploy")


def test_text_never_matches_a_room_token(world, make_user, make_room, post, bodies):
    """`r<id>` typed as a word, a prefix or a phrase, or FTS5 column syntax typed
    as text, finds only messages that contain it, never a room's messages."""
    carol = make_user("carol")
    secret = make_room(carol, "vault", visibility="private")
    post(carol, secret, "vault contents")
    token = schema.room_token(secret.id)
    own = schema.room_token(world["ops"].id)
    post(world["alice"], world["lab"], f"ticket {own} mentions a token")
    me = world["alice"]
    assert bodies(me, token) == []
    assert bodies(me, f"{token}*") == []
    assert bodies(me, f"{own}") == [f"ticket {own} mentions a token"]
    assert bodies(me, f"{own} in:#ops") == []
    assert bodies(me, f'"{own} mentions"') == [f"ticket {own} mentions a token"]
    for q in (f"room:{token}", f"{{room}}:{token}", f'"{{room}} : {token}"', f"room : {token}",
              f"{token} OR vault"):
        assert all("vault" not in b for b in bodies(me, q)), q
    assert bodies(carol, "vault") == ["vault contents"]


@sqlite_only
def test_few_rooms_are_intersected_in_fts5(world, make_room):
    """One room, or a few small ones, put their room tokens in the MATCH; a wide
    scope (here: rooms with more than the share allowed) does not."""
    from chatserver.search.backends import sqlite

    me = world["alice"]

    def driver(q: str) -> str:
        backend = sqlite.SqliteBackend()
        plan = planner.build(me, query.parse(q))
        backend.prepare(plan)
        assert backend.driver is not None
        return backend.driver[1]

    ops, dev = world["ops"].id, world["dev"].id
    assert f'{{room}} : ("r{ops}")' in driver("deploy in:#ops")
    # Three rooms, each a third of the messages: over the share, so no tokens.
    assert "{room}" not in driver("deploy in:#ops in:#dev")
    assert "{room}" not in driver("deploy")
    for i in range(40):
        make_room(me, f"quiet-{i}")
    # The same two rooms now hold a small share of all messages (the quiet rooms
    # hold none, so move the share by giving them a history).
    from chatserver.chat.models import Room

    Room.objects.filter(name__startswith="quiet-").update(last_seq=100)
    assert f'{{room}} : ("r{ops}" OR "r{dev}")' in driver("deploy in:#ops in:#dev")
    assert driver("api-7f9c in:#ops") == '"api-7f9c"'  # the trigram table has no rooms


@sqlite_only
def test_room_tokens_follow_edits_deletes_and_raw_writes(world, post, bodies):
    me, ops = world["alice"], world["ops"]
    msg = post(me, ops, "rollout started")
    actions.edit_message(actor=me, message_id=msg["id"], body="rollout finished")
    assert bodies(me, "rollout in:#ops") == ["rollout finished"]
    gone = post(me, ops, "rollout aborted")
    actions.delete_message(actor=me, message_id=gone["id"])
    assert bodies(me, "rollout in:#ops") == ["rollout finished"]
    # A raw UPDATE of the room (no action moves messages, but a trigger covers it).
    Message.objects.filter(id=msg["id"]).update(room_id=world["dev"].id)
    assert bodies(me, "rollout in:#ops") == []
    assert bodies(me, "rollout in:#dev") == ["rollout finished"]
    Message.objects.filter(id=msg["id"]).delete()
    assert bodies(me, "rollout in:#dev") == []
    with connection.cursor() as cur:
        cur.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")


@sqlite_only
def test_migration_rebuilds_the_word_table_both_ways(world, bodies):
    """Migration search 0004 and its reverse on a database with messages."""
    me = world["alice"]
    before = sorted(bodies(me, "deploy in:#ops"))
    with connection.cursor() as cur:
        schema.sqlite_rebuild_words(cur, schema.config_name(), room=False)
        cur.execute("SELECT COUNT(*) FROM pragma_table_info('search_fts')")
        assert cur.fetchone()[0] == 1
        schema.sqlite_rebuild_words(cur, schema.config_name(), room=True)
        cur.execute("SELECT COUNT(*) FROM pragma_table_info('search_fts')")
        assert cur.fetchone()[0] == 2
        cur.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    assert sorted(bodies(me, "deploy in:#ops")) == before
    assert len(before) == 4
