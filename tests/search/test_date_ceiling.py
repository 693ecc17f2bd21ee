"""before:/on: searches start under an id ceiling (plan.id_ceiling): messages
written on time follow their ids, and the ones out of time (imported,
backfilled, a wrong clock) are listed by trigger and added to the ceiling.
Whatever the history, the results are exactly the matches created before the
date, newest id first, and every one is found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from chatserver.chat import actions
from chatserver.chat.models import Message
from chatserver.search import plan as planner
from chatserver.search import query, schema

NOW = datetime.now(UTC)


def _day(days_ago: int) -> datetime:
    d = (NOW - timedelta(days=days_ago)).date()
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _listed() -> set[int]:
    with connection.cursor() as cur:
        cur.execute("SELECT message_id FROM search_out_of_time")
        return {r[0] for r in cur.fetchall()}


def _relist() -> None:
    """As the migration does on an existing history."""
    with connection.cursor() as cur:
        cur.execute("DELETE FROM search_out_of_time")
        schema.install_out_of_time(cur, connection.vendor)


def _write(me, room, body: str, created: datetime) -> Message:
    mid = actions.post_message(actor=me, room_id=room.id, body=body).message["id"]
    Message.objects.filter(id=mid).update(created_at=created)
    return Message.objects.get(id=mid)


def _history(me, room) -> list[Message]:
    """Thirty days written in order, then an import of older days (new ids, old
    dates), then today's messages."""
    out = [_write(me, room, f"deploy day {d}", _day(d) + timedelta(hours=9))
           for d in range(30, 0, -1)]
    out += [_write(me, room, f"deploy imported {d}", _day(d) + timedelta(hours=20))
            for d in (25, 12, 3)]
    out += [_write(me, room, f"deploy today {i}", NOW) for i in range(3)]
    return out


def _expected(messages: list[Message], before: datetime, after: datetime | None = None):
    return [m.body for m in sorted(messages, key=lambda m: -m.id)
            if m.created_at < before and (after is None or m.created_at >= after)]


def test_out_of_time_messages_are_listed_by_trigger(me, room):
    on_time = Message.objects.get(
        id=actions.post_message(actor=me, room_id=room.id, body="now").message["id"])
    old = _write(me, room, "backdated", _day(40))
    future = _write(me, room, "future", NOW + timedelta(days=2))
    fixed = _write(me, room, "clock fixed", NOW - timedelta(minutes=10))
    listed = _listed()
    assert old.id in listed and future.id in listed
    assert on_time.id not in listed and fixed.id not in listed


def test_listing_an_existing_history(me, room):
    """The migration lists the messages written after one dated later by more
    than the slack; the ones written in order are not listed."""
    messages = _history(me, room)
    _relist()
    listed = _listed()
    imported = {m.id for m in messages if "imported" in m.body}
    assert imported <= listed
    in_order = {m.id for m in messages if "day" in m.body}
    assert not in_order & listed


@pytest.mark.parametrize("relist", [False, True])
@pytest.mark.parametrize("days", [1, 3, 4, 12, 20, 29, 31])
@pytest.mark.parametrize("sort", ["recent", "relevance"])
def test_before_and_on_find_exactly_the_older_matches(me, room, bodies, relist, days, sort):
    messages = _history(me, room)
    if relist:
        _relist()
    before = _day(days)
    q = f"deploy before:{before:%Y-%m-%d}"
    plan = planner.build(me, query.parse(q))
    assert plan.id_ceiling is not None
    assert plan.id_ceiling >= max((m.id for m in messages if m.created_at < before), default=0)
    found = bodies(me, q, sort=sort, limit=100)
    expected = _expected(messages, before)
    assert found == expected if sort == "recent" else sorted(found) == sorted(expected)
    day = before - timedelta(days=1)
    on = bodies(me, f"deploy on:{day:%Y-%m-%d}", sort=sort, limit=100)
    assert sorted(on) == sorted(_expected(messages, before, day))


def test_a_date_in_the_last_hours_has_no_ceiling(me, room, bodies):
    """Nothing was written 3 x the slack after today's midnight yet (or just
    barely): the search then runs without a ceiling, and still finds it all."""
    messages = _history(me, room)
    tomorrow = _day(-1)
    plan = planner.build(me, query.parse(f"deploy before:{tomorrow:%Y-%m-%d}"))
    assert plan.id_ceiling is None
    assert bodies(me, f"deploy before:{tomorrow:%Y-%m-%d}", sort="recent", limit=100) == \
        _expected(messages, tomorrow)


def test_pages_under_the_ceiling(me, room, search):
    messages = _history(me, room)
    before = _day(5)
    out, cursor = [], None
    while True:
        page = search(me, f"deploy before:{before:%Y-%m-%d}", sort="recent", limit=4,
                      **({"cursor": cursor} if cursor else {}))
        out += [r["message"]["body"] for r in page["results"]]
        if not page["next"]:
            break
        cursor = page["next"]
    assert out == _expected(messages, before)
