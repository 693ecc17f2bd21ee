"""The has:/is: filters must be answerable from their partial indexes: the planner
only uses a partial index when the query's condition is the index's own WHERE
clause, so a filter whose SQL drifts from search/schema.py silently falls back
to checking every text match row by row (669 ms for `connection has:link` at
1M messages). These tests ask each engine's planner directly."""

from __future__ import annotations

import pytest
from django.db import connection

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


def test_every_filter_index_exists():
    with connection.cursor() as cur:
        names = {i for c in connection.introspection.get_constraints(
            cur, Message._meta.db_table).items() for i in [c[0]]}
    assert {filter_index_name(k) for k in FILTER_PREDICATES} <= names


def test_negated_filter_is_not_selective(make_user, make_room):
    make_room(user := make_user())
    plan = planner.build(user, query.parse("deploy -has:link"))
    assert plan.where
    assert not plan.selective_filter


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
@pytest.mark.parametrize(("q", "sort", "common", "expected"), [
    ("deploy has:link", "recent", False, ("0", "off", "off")),
    ("deploy has:link", "relevance", False, ("0", "off", "off")),
    ('"deploy it"', "relevance", False, ("0", "off", "on")),  # the ranked windows
    ('"deploy it"', "recent", False, None),  # windows of a page: as they are
    ("deploy", "relevance", True, ("0", "off", "on")),  # a common word's window
    ("deploy", "relevance", False, None),  # a rare word: as it is
    ("deploy", "recent", False, None),  # a page of newest matches: as it is
])
def test_search_statements_run_with_their_planner_settings(make_user, make_room, search, post,
                                                           monkeypatch, q, sort, common,
                                                           expected):
    """Statements that may read many rows run without parallel workers or JIT (and
    a filtered one without plain index scans), for that statement only, even
    inside the caller's transaction (every test runs inside one)."""
    from chatserver.search.backends import postgres

    me = make_user()
    room = make_room(me)
    post(me, room, "deploy it https://ci.example.com/1")
    if common:  # as if the planner expected many matches: a window of 3 ids
        monkeypatch.setattr(postgres.PostgresBackend, "_window_for",
                            lambda self, plan, max_id, candidates: (3, True))
    names = "current_setting('max_parallel_workers_per_gather'), current_setting('jit'), " \
            "current_setting('enable_indexscan')"
    with connection.cursor() as cur:
        cur.execute(f"SELECT {names}")
        defaults = cur.fetchone()
    seen: list[tuple] = []

    def watch(execute, sql, params, many, context):
        if "FROM chat_message m" in sql and not sql.startswith("EXPLAIN"):
            with connection.cursor() as cur:
                cur.execute(f"SELECT {names}")
                seen.append(cur.fetchone())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        search(me, q, sort=sort)
    assert seen
    assert set(seen) == {expected or defaults}
    assert defaults != ("0", "off", "off")
    with connection.cursor() as cur:
        cur.execute(f"SELECT {names}")
        assert cur.fetchone() == defaults


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
