"""The has:/is: filters must be answerable from their partial indexes: the planner
only uses a partial index when the query's condition is the index's own WHERE
clause, so a filter whose SQL drifts from search/schema.py silently falls back
to checking every text match row by row (669 ms for `connection has:link` at
1M messages). These tests ask each engine's planner directly."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from chatserver.chat.models import Message
from chatserver.search import plan as planner
from chatserver.search import query
from chatserver.search.schema import FILTER_PREDICATES, filter_index_name

pytestmark = pytest.mark.django_db


def _plan_text(sql: str, params: list) -> str:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A test table is tiny; make the planner show whether it *can* use the index.
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(f"EXPLAIN {sql}", params)
        else:
            cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())


@pytest.mark.parametrize(("q", "key"), [
    ("has:link", "link"), ("has:code", "code"), ("is:thread", "thread")])
def test_filter_uses_its_partial_index(make_user, make_room, q, key):
    user = make_user()
    make_room(user)
    plan = planner.build(user, query.parse(q))
    condition = next(w for w in plan.where if w.startswith(("m.html", "(m.thread")))
    assert plan.selective_filter
    sql = f"SELECT m.id FROM chat_message m WHERE {condition} ORDER BY m.id DESC LIMIT %s"  # noqa: S608
    assert filter_index_name(key) in _plan_text(sql, [20])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partial GIN indexes")
@pytest.mark.parametrize(("q", "key"), [
    ("connection has:link", "link"), ("deploy has:code", "code")])
def test_text_with_a_filter_uses_the_filtered_text_index(make_user, make_room, q, key):
    """Text plus has:link/has:code reads the text index of just those messages
    (one short posting list) instead of ANDing two long bitmaps: the search's own
    statement, planned under its own settings, names that index."""
    from chatserver.search.backends import postgres
    from chatserver.search.schema import TEXT_FILTERS, text_filter_index_name

    assert key in TEXT_FILTERS
    user = make_user()
    room = make_room(user)
    # Many messages with the filter, many with the word, none with both: the
    # bitmap AND of the two indexes reads both lists in full.
    markup = {"link": '<a href="https://ci.example.com/1">ci</a>', "code": "<code>x</code>"}[key]
    word, now = q.split()[0], timezone.now()
    Message.objects.bulk_create([
        *(Message(room=room, seq=i + 1, author=user, body=f"chatter {i}",
                  html=f"<p>chatter {i} {markup}</p>", created_at=now) for i in range(2000)),
        *(Message(room=room, seq=2001 + i, author=user, body=f"{word} {i}",
                  html=f"<p>{word} {i}</p>", created_at=now) for i in range(2000))])
    with connection.cursor() as cur:
        cur.execute("ANALYZE chat_message")
    plan = planner.build(user, query.parse(q))
    backend = postgres.PostgresBackend()
    backend.prepare(plan)
    sql = (f"SELECT m.id FROM chat_message m WHERE {' AND '.join(plan.where)} "  # noqa: S608
           f"ORDER BY {backend._newest_first(plan)} LIMIT %s")
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_indexscan = off")  # as _rows runs it
        cur.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny
        cur.execute(f"EXPLAIN {sql}", [*plan.params, 21])
        text = "\n".join(row[0] for row in cur.fetchall())
    assert text_filter_index_name(key) in text, text


def test_every_filter_index_exists():
    with connection.cursor() as cur:
        names = {i for c in connection.introspection.get_constraints(
            cur, Message._meta.db_table).items() for i in [c[0]]}
    assert {filter_index_name(k) for k in FILTER_PREDICATES} <= names
    if connection.vendor == "postgresql":
        from chatserver.search.schema import TEXT_FILTERS, text_filter_index_name

        assert {text_filter_index_name(k) for k in TEXT_FILTERS} <= names


def test_negated_filter_is_not_selective(make_user, make_room):
    make_room(user := make_user())
    plan = planner.build(user, query.parse("deploy -has:link"))
    assert plan.where
    assert not plan.selective_filter


MANY = {"max_parallel_workers_per_gather": "0", "jit": "off"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
@pytest.mark.parametrize(("q", "sort", "common", "expected"), [
    ("deploy has:link", "recent", False, {**MANY, "enable_indexscan": "off"}),
    ("deploy has:link", "relevance", False, {**MANY, "enable_indexscan": "off"}),
    ('"deploy it"', "relevance", False, MANY),  # the ranked windows
    # A page's walk over the newest two ids (see below), then the rest through
    # the indexes.
    ('"deploy it"', "recent", False,
     ({"enable_bitmapscan": "off"}, {**MANY, "enable_indexscan": "off"})),
    ("deploy", "relevance", True, MANY),  # a common word's window
    ("deploy", "relevance", False, {}),  # a rare word: as it is
    ("deploy", "recent", False, {}),  # a page of newest matches: as it is
])
def test_search_statements_run_with_their_planner_settings(make_user, make_room, search, post,
                                                           monkeypatch, q, sort, common,
                                                           expected):
    """Statements that may read many rows run without parallel workers or JIT (and
    a filtered one without plain index scans), a page's walk without bitmap
    scans, for that statement only, even inside the caller's transaction
    (every test runs inside one)."""
    from chatserver.search.backends import postgres

    me = make_user()
    room = make_room(me)
    post(me, room, "deploy it https://ci.example.com/1")
    post(me, room, "chatter")
    post(me, room, "more chatter")
    monkeypatch.setattr(postgres, "RECENT_WALK_PER_ROW", 0.1)  # 2 ids for a page of 21
    if common:  # as if the planner expected many matches: a window of 3 ids
        monkeypatch.setattr(postgres.PostgresBackend, "_window_for",
                            lambda self, plan, max_id, candidates: (3, True))
    keys = [*MANY, "enable_indexscan", "enable_bitmapscan"]
    names = ", ".join(f"current_setting('{k}')" for k in keys)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {names}")
        defaults = dict(zip(keys, cur.fetchone(), strict=True))
    seen: list[dict] = []

    def watch(execute, sql, params, many, context):
        """The settings the statement runs with: its own first part (which sets
        them) and last part (which puts them back) around a look at them."""
        if "FROM chat_message m" in sql and not sql.startswith("EXPLAIN"):
            parts = sql.split("; ")
            with connection.cursor() as cur:
                if len(parts) == 1:
                    cur.execute(f"SELECT {names}")
                else:
                    cur.execute(f"{parts[0]}; SELECT {names}; {parts[-1]}",
                                params[:parts[0].count("%s")])
                    cur.nextset()
                seen.append(dict(zip(keys, cur.fetchone(), strict=True)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        search(me, q, sort=sort)
    assert seen
    changed = [{k: v for k, v in s.items() if v != defaults[k]} for s in seen]
    if isinstance(expected, tuple):  # one statement after the other
        assert changed == list(expected), changed
    else:
        assert all(c == expected for c in changed), changed
    # Each forced setting differs from the server's own, so each change shows.
    forced = {**MANY, "enable_indexscan": "off", "enable_bitmapscan": "off"}
    assert all(defaults[k] != v for k, v in forced.items())
    with connection.cursor() as cur:
        cur.execute(f"SELECT {names}")
        assert dict(zip(keys, cur.fetchone(), strict=True)) == defaults


def test_filtered_relevance_ranks_the_filtered_matches(make_user, make_room, bodies):
    """Text plus a filter takes the filter-first plan; the results are still the
    filtered matches, ranked (the best match first, not the newest)."""
    from chatserver.chat import actions

    me = make_user()
    room = make_room(me)
    lines = [
        "deploy deploy deploy, run `make deploy` now",  # best, oldest
        "deploy the thing with `kubectl apply`",
        "deploy without any code at all",
        "chatter with `code` but not the word",
        "deploy again `./ship`",
    ]
    for line in lines:
        actions.post_message(actor=me, room_id=room.id, body=line)
    found = bodies(me, "deploy has:code", sort="relevance")
    assert set(found) == {lines[0], lines[1], lines[4]}
    assert found[0] == lines[0]
    assert bodies(me, "deploy has:code", sort="recent") == [lines[4], lines[1], lines[0]]
