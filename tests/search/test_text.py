"""Ops text found as typed, highlights, result shape, ranking and pagination."""

from __future__ import annotations

import pytest

from chatserver.chat import actions
from tests.conftest import requires_postgres

OPS_LINES = [
    "pod api-7f9c crashed",
    "connection refused from 10.2.3.4 port 5432",
    "client saw ERR_CONN_RESET twice",
    "tail /var/log/nginx/error.log for details",
    "host 10.2.3.45 is fine",
    "api-7f9cd8 is a different pod",
    "unrelated chatter about api and 7f9c",
    "Überlauf-42 im Puffer",
]


@pytest.mark.parametrize(("q", "expected"), [
    ("api-7f9c", {"pod api-7f9c crashed", "api-7f9cd8 is a different pod"}),
    ("10.2.3.4", {"connection refused from 10.2.3.4 port 5432", "host 10.2.3.45 is fine"}),
    ("ERR_CONN_RESET", {"client saw ERR_CONN_RESET twice"}),
    ("err_conn_reset", {"client saw ERR_CONN_RESET twice"}),
    ("CONN_RESET", {"client saw ERR_CONN_RESET twice"}),
    ("/var/log/nginx", {"tail /var/log/nginx/error.log for details"}),
    ("nginx/error.log", {"tail /var/log/nginx/error.log for details"}),
    ("API-7F9C", {"pod api-7f9c crashed", "api-7f9cd8 is a different pod"}),
    ("Err_Conn_Reset", {"client saw ERR_CONN_RESET twice"}),
    ("-api-7f9c 7f9c", {"unrelated chatter about api and 7f9c"}),
    ("-API-7F9C 7f9c", {"unrelated chatter about api and 7f9c"}),
    ("überlauf-42", {"Überlauf-42 im Puffer"}),
    ("ÜBERLAUF-42", {"Überlauf-42 im Puffer"}),
    ("2-9f7c", set()),
    ('"refused from 10.2.3.4"', {"connection refused from 10.2.3.4 port 5432"}),
])
def test_ops_tokens_found_as_typed(me, room, post, bodies, q, expected):
    for line in OPS_LINES:
        post(me, room, line)
    assert set(bodies(me, q)) == expected


def test_like_wildcards_are_literal(me, room, post, bodies):
    post(me, room, "disk at 100% on db-1")
    post(me, room, "disk at 1000 on db-1")
    post(me, room, "snake_case and snakeXcase")
    assert bodies(me, "100%") == ["disk at 100% on db-1"]
    assert bodies(me, "e_c") == ["snake_case and snakeXcase"]
    assert bodies(me, "e_case") == ["snake_case and snakeXcase"]


def test_highlight_marks_matches_and_escapes_the_rest(me, room, post, search):
    post(me, room, "<script>alert(1)</script> deploy failed & rolled back on api-7f9c")
    hit = search(me, "deploying api-7f9c")["results"][0]
    h = hit["highlight"]
    assert "<mark>deploy</mark>" in h
    assert "<mark>api-7f9c</mark>" in h
    assert "&lt;script&gt;" in h and "<script>" not in h
    assert "&amp;" in h
    stripped = h.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


def test_highlight_of_a_long_message_is_an_excerpt(me, room, post, search):
    body = ("filler words here " * 40) + "the needle-42 is here " + ("more filler " * 40)
    post(me, room, body)
    h = search(me, "needle-42")["results"][0]["highlight"]
    assert "<mark>needle-42</mark>" in h
    assert len(h) < len(body) / 2


def test_result_shape_and_link_opens_the_room_around_the_message(me, room, post, search,
                                                                  client_for):
    for i in range(30):
        post(me, room, f"filler {i}")
    target = post(me, room, "the one with zebra")
    for i in range(30):
        post(me, room, f"more filler {i}")
    reply = post(me, room, "zebra reply", thread_id=target["id"])
    data = search(me, "zebra", sort="recent")
    assert set(data) == {"results", "next", "hints"}
    first, second = data["results"]
    assert set(first) == {"message", "room", "highlight", "link"}
    assert first["message"]["id"] == reply["id"]
    assert first["message"]["thread_id"] == target["id"]
    assert second["message"] == {**target, "reply_count": 1}
    # A reply's link opens the room around its thread root.
    assert first["link"] == second["link"] == \
        f"/api/v1/rooms/{room.id}/messages?around={target['id']}"
    page = client_for(me).get(second["link"]).json()
    ids = [m["id"] for m in page["results"]]
    assert target["id"] in ids
    assert len(ids) > 1


def test_relevance_ranks_better_matches_first_with_recency_tie_break(me, room, post, bodies):
    post(me, room, "outage outage outage in the outage review")
    post(me, room, "an outage")
    post(me, room, "another outage")
    found = bodies(me, "outage")
    assert found[0] == "outage outage outage in the outage review"
    assert found[1:] == ["another outage", "an outage"]
    assert bodies(me, "outage", sort="recent") == [
        "another outage", "an outage", "outage outage outage in the outage review"]


@pytest.mark.parametrize("sort", ["recent", "relevance"])
def test_cursor_pages_through_every_match_once(me, room, post, search, client_for, sort):
    for i in range(25):
        post(me, room, f"ticket number {i}" + (" ticket" * (i % 3)))
    post(me, room, "no match here")
    seen: list[int] = []
    data = search(me, "ticket", sort=sort, limit=10)
    pages = 1
    while True:
        seen += [r["message"]["id"] for r in data["results"]]
        if data["next"] is None:
            break
        # Messages posted while paging do not shift the pages.
        post(me, room, "ticket posted meanwhile")
        data = search(me, "ticket", sort=sort, limit=10, cursor=data["next"])
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25


def test_rank_candidates_are_capped(me, room, post, search, settings):
    settings.CHAT = {**settings.CHAT, "SEARCH_RANK_CANDIDATES": 5}
    for i in range(8):
        post(me, room, f"capped {i}")
    data = search(me, "capped", limit=3)
    seen = [r["message"]["body"] for r in data["results"]]
    while data["next"]:
        data = search(me, "capped", limit=3, cursor=data["next"])
        seen += [r["message"]["body"] for r in data["results"]]
    assert sorted(seen) == [f"capped {i}" for i in range(3, 8)]


def test_edit_keeps_index_in_step_for_ops_tokens(me, room, post, bodies):
    msg = post(me, room, "host db-primary-01 down")
    assert bodies(me, "db-primary-01") == ["host db-primary-01 down"]
    actions.edit_message(actor=me, message_id=msg["id"], body="host db-replica-02 down")
    assert bodies(me, "db-primary-01") == []
    assert bodies(me, "db-replica-02") == ["host db-replica-02 down"]


@requires_postgres
def test_stop_words_alone_find_nothing_and_say_why(me, room, post, search):
    post(me, room, "the and of")
    data = search(me, "the")
    assert data["results"] == []
    assert data["hints"] == ["Too common to search for: the."]
    # With another word, stop words are simply ignored.
    post(me, room, "the rollout")
    assert [r["message"]["body"] for r in search(me, "the rollout")["results"]] == [
        "the rollout"]


@pytest.mark.parametrize(("text", "grams"), [
    # Distinctive trigrams (a digit, or j/q/x/z) first, every other one first.
    ("edge-02b2.prod.internal", ["02b", "2b2"]),
    ("10.4.250.164", ["250", "164"]),
    ("api-7f9c", ["7f9", "f9c"]),
    ("/var/log/nginx", ["inx", "var"]),  # one distinctive: a common one makes a pair
    ("ERR_CONN_RESET", None),  # nothing distinctive: the whole text goes to the index
    ("a-b", None),  # no trigram at all
])
def test_index_trigrams(text, grams):
    """PostgreSQL finds a substring's rows through a few of its trigrams (the
    whole text is then checked on each row): pg_trgm's unpadded trigrams of
    the text's letter and digit runs."""
    from chatserver.search.backends.postgres import index_trigrams

    assert index_trigrams(text) == grams


def test_statements_do_not_grow_with_the_page(me, room, post, search,
                                              django_assert_max_num_queries):
    """A page reads its messages, authors, rooms, snippets and reactions in a
    fixed number of statements (no field left to load row by row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(q: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            page = search(me, q, sort="recent")
        assert page["results"]
        return len(ctx.captured_queries)

    post(me, room, "solo deploy")
    count("solo")  # the first request also reads what the client caches
    one = count("solo")
    for i in range(20):
        post(me, room, f"many deploy {i}")
    assert count("many") == one
    with django_assert_max_num_queries(one):
        search(me, "deploy", sort="recent")
