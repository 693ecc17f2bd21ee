"""PostgreSQL ranks a phrase's candidates found in two steps (the newest window of
ids, then the rest); how the ids split between the steps must not change the
results, their order, or the candidate cap."""

from __future__ import annotations

import pytest
from django.test import override_settings

from chatserver.chat import actions
from chatserver.search.backends import postgres
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.django_db, requires_postgres]

LINES = [
    "connection refused by db",
    "connection refused connection refused again and again",
    "nothing to see here",
    "the connection was refused",  # words, not the phrase
    "connection refused by cache, connection refused by api, connection refused",
    "chatter",
    "connection refused",
    "more chatter",
    "pod api-7f9c restarted",
    "api-7f9c is back",
    "api-7f9cd8 too",
]


def _post_all(me, room):
    for line in LINES:
        actions.post_message(actor=me, room_id=room.id, body=line)


@pytest.mark.parametrize("cap", [100, 3])
def test_window_split_changes_nothing(make_user, make_room, search, monkeypatch, cap):
    me = make_user("oncall")
    room = make_room(me, "ops")
    _post_all(me, room)
    q = '"connection refused"'

    def run(per_candidate: float) -> list[str]:
        monkeypatch.setattr(postgres, "RANK_WINDOW_PER_CANDIDATE", per_candidate)
        with override_settings(CHAT={**_chat_settings(), "SEARCH_RANK_CANDIDATES": cap}):
            page = search(me, q, sort="relevance", limit=10)
        return [r["message"]["body"] for r in page["results"]]

    whole = run(10**9)  # the window holds every id: one step
    expected = 4 if cap > 4 else cap
    assert len(whole) == expected
    phrase_lines = [ln for ln in LINES if "connection refused" in ln]
    # The candidates are the newest `cap` matches, then ranked.
    assert set(whole) == set(phrase_lines[-cap:])
    if cap > 4:
        assert whole[0] != "connection refused by db"  # ranked, not newest first
    for per_candidate in (1 / cap, 2 / cap, 3 / cap):  # the window holds the last 1-3 ids
        assert run(per_candidate) == whole


def _chat_settings() -> dict:
    from django.conf import settings

    return dict(settings.CHAT)


@pytest.mark.parametrize("q", ['"connection refused"', "api-7f9c", "API-7F9C", '"api-7f9c is"'])
@pytest.mark.parametrize("scoped", [False, True])
def test_recent_walks_change_nothing(make_user, make_room, search, monkeypatch, q, scoped):
    """Newest-first pages of phrases and substrings: a walk over the newest ids,
    then windows sized from what it found (or all the rest), cursor included;
    however the ids split, the pages are the same."""
    me = make_user("oncall")
    room = make_room(me, "ops")
    other = make_room(me, "dev")
    _post_all(me, room)
    for line in LINES[:4]:  # the other room's messages take up ids in between
        actions.post_message(actor=me, room_id=other.id, body=line)
    _post_all(me, room)
    if scoped:
        q = f"{q} in:#ops"
    steps: list[str] = []
    original = postgres.PostgresBackend._rows

    def rows(self, plan, sql, params, **kw):
        steps.append("walk" if kw.get("force") == {"enable_bitmapscan": "off"} else "window")
        return original(self, plan, sql, params, **kw)

    monkeypatch.setattr(postgres.PostgresBackend, "_rows", rows)

    def pages(per_row: float, trust: int = 5) -> list[str]:
        monkeypatch.setattr(postgres, "RECENT_WALK_PER_ROW", per_row)
        monkeypatch.setattr(postgres, "WALK_TRUST", trust)
        out, cursor = [], None
        while True:
            params = {"sort": "recent", "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = search(me, q, **params)
            out += [r["message"]["body"] for r in page["results"]]
            if not page["next"]:
                return out
            cursor = page["next"]

    whole = pages(10**9)  # the walk covers every id
    assert set(steps) == {"walk"}
    needle = q.removesuffix(" in:#ops").strip('"').lower()
    lines = [ln for ln in reversed(LINES) if needle in ln.lower()]
    expected = lines + ([] if scoped else [ln for ln in reversed(LINES[:4])
                                           if needle in ln.lower()]) + lines
    assert whole == expected
    assert len(whole) >= 2
    for per_row, trust in ((0.3, 1), (0.5, 1), (1, 1), (0.5, 5), (2, 1)):
        steps.clear()
        assert pages(per_row, trust) == whole, (per_row, trust)
        assert "window" in steps


WORD_LINES = [
    "deploy failed on db",
    "deploy deploy deploy again",
    "chatter",
    "deploy",
    "nothing here",
    "we deployed the api, deploy done",
    "more chatter",
    "deploy to staging, then deploy to prod",
    "deployment notes",
    "unrelated",
]


@pytest.mark.parametrize("cap", [100, 4])
def test_word_windows_change_nothing(make_user, make_room, search, monkeypatch, cap):
    """Words are ranked from a window of the newest ids sized by the planner's
    estimate; a window too small (the estimate too high) is followed by older
    windows sized from the matches seen, and every split gives the same page."""
    me = make_user("oncall")
    room = make_room(me, "ops")
    for line in WORD_LINES:
        actions.post_message(actor=me, room_id=room.id, body=line)
    calls: list[int] = []

    def run(window: int | None) -> list[str]:
        original = postgres.PostgresBackend._window_for

        def sized(self, plan, max_id, candidates):
            calls.append(max_id)
            return (max_id, True) if window is None else (window, True)

        monkeypatch.setattr(postgres.PostgresBackend, "_window_for", sized)
        with override_settings(CHAT={**_chat_settings(), "SEARCH_RANK_CANDIDATES": cap}):
            page = search(me, "deploy", sort="relevance", limit=10)
        monkeypatch.setattr(postgres.PostgresBackend, "_window_for", original)
        return [r["message"]["body"] for r in page["results"]]

    whole = run(None)
    matches = [ln for ln in WORD_LINES if "deploy" in ln]
    assert set(whole) == set(matches[-cap:])
    assert whole[0] == "deploy deploy deploy again" if cap > 4 else whole[0] != matches[-1]
    for window in (1, 2, 3, 5):
        assert run(window) == whole
    assert calls  # the sizing was asked each time


@pytest.mark.parametrize("trust", [5, 1])
def test_word_page_windows_change_nothing(make_user, make_room, search, monkeypatch, trust):
    """A newest-first page of a word looks in a window of the newest ids first,
    then in windows sized from the density it saw (`trust` matches or more),
    or at the rest in one statement; every window size gives the same pages,
    cursor included."""
    monkeypatch.setattr(postgres, "WALK_TRUST", trust)
    me = make_user("oncall")
    room = make_room(me, "ops")
    for line in WORD_LINES * 2:
        actions.post_message(actor=me, room_id=room.id, body=line)
    sizes: list[int] = []

    def pages(window: int | None) -> list[str]:
        def sized(self, plan, top, need):
            sizes.append(top if window is None else window)
            return sizes[-1]

        monkeypatch.setattr(postgres.PostgresBackend, "_page_window", sized)
        out, cursor = [], None
        while True:
            params = {"sort": "recent", "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = search(me, "deploy", **params)
            out += [r["message"]["body"] for r in page["results"]]
            if not page["next"]:
                return out
            cursor = page["next"]

    whole = pages(None)
    assert whole == [ln for ln in reversed(WORD_LINES * 2) if "deploy" in ln]
    for window in (1, 2, 4, 7):
        sizes.clear()
        assert pages(window) == whole, window
        assert sizes


def test_word_window_from_the_estimate(make_user, make_room, monkeypatch):
    """The window holds about `candidates` matches at the planner's estimated
    density, never more than the whole table; a word expected to be rare gets
    the whole table at once."""
    from chatserver.search import plan as planner
    from chatserver.search import query

    me = make_user("oncall")
    room = make_room(me, "ops")
    for line in WORD_LINES:
        actions.post_message(actor=me, room_id=room.id, body=line)
    backend = postgres.PostgresBackend()
    plan = planner.build(me, query.parse("deploy"))
    backend.prepare(plan)
    assert backend._estimate(plan, 0) >= 1  # the planner answered
    assert backend._window_for(plan, 10**6, 2000) == (10**6, False)
    monkeypatch.setattr(postgres.PostgresBackend, "_estimate", (lambda self, p, e: 25_000))
    assert backend._window_for(plan, 10**6, 2000) == (100_001, True)  # 2,000 x 40 x 1.25
    monkeypatch.setattr(postgres.PostgresBackend, "_estimate", (lambda self, p, e: 9000))
    assert backend._window_for(plan, 10**6, 2000) == (10**6, False)  # 28% of the ids
    # So common that the backward walk is short: one statement over all ids.
    monkeypatch.setattr(postgres.PostgresBackend, "_estimate", (lambda self, p, e: 60_000))
    assert backend._window_for(plan, 10**6, 2000) == (10**6, True)
    # A prefix: its bitmap costs as much as the walk, so no window either.
    monkeypatch.setattr(postgres.PostgresBackend, "_estimate", (lambda self, p, e: 25_000))
    prefix = planner.build(me, query.parse("deplo*"))
    backend.prepare(prefix)
    assert backend._window_for(prefix, 10**6, 2000) == (10**6, True)


def test_estimate_counts_the_searchers_rooms(make_user, make_room, monkeypatch):
    """The density is the text's estimate times the rooms' share of the
    messages (each room's last seq), not the planner's guess for the room list."""
    from chatserver.search import plan as planner
    from chatserver.search import query

    me = make_user("oncall")
    ops, dev = make_room(me, "ops"), make_room(me, "dev")
    for i in range(10):
        actions.post_message(actor=me, room_id=ops.id, body=f"deploy {i}")
    for i in range(30):
        actions.post_message(actor=me, room_id=dev.id, body=f"chatter {i}")

    def estimate(q: str) -> float:
        backend = postgres.PostgresBackend()
        plan = planner.build(me, query.parse(q))
        backend.prepare(plan)
        return backend._estimate(plan, 0)

    ops.refresh_from_db()
    dev.refresh_from_db()
    share = ops.last_seq / (ops.last_seq + dev.last_seq)  # 10 or so of 40 or so
    assert 0.2 < share < 0.3
    assert planner.room_share(planner.build(me, query.parse("x in:#ops"))) == \
        pytest.approx(share)
    assert planner.room_share(planner.Plan(terms=[], room_ids=[ops.id, dev.id])) == 1.0
    assert planner.build(me, query.parse("x")).all_rooms
    assert estimate("deploy in:#ops") == pytest.approx(estimate("deploy") * share)
    # A phrase's first window grows by the same share for a search in few rooms.
    monkeypatch.setattr(postgres, "RANK_SCOPED_ROOMS", 1)
    scoped = planner.build(me, query.parse('"deploy 1" in:#ops'))
    assert postgres.PostgresBackend._scoped_window(scoped, 1000) == int(1000 / share)
    wide = planner.build(me, query.parse('"deploy 1"'))
    assert postgres.PostgresBackend._scoped_window(wide, 1000) == 1000  # two rooms > 1


def _record_forced(monkeypatch) -> list[dict | None]:
    """The planner settings each search statement is run with (None: as it is)."""
    forced: list[dict | None] = []
    original = postgres.PostgresBackend._rows

    def rows(self, plan, sql, params, **kw):
        forced.append(kw.get("force"))
        return original(self, plan, sql, params, **kw)

    monkeypatch.setattr(postgres.PostgresBackend, "_rows", rows)
    return forced


def test_common_word_page_in_some_rooms_walks_them(make_user, make_room, search, monkeypatch):
    """A page of a word in 1% of the messages or more, in some of the rooms, is
    read walking those rooms' newest messages (no bitmap of the word's long
    posting list); in every room the planner's own walk serves it as is."""
    me = make_user("oncall")
    ops, dev = make_room(me, "ops"), make_room(me, "dev")
    for line in WORD_LINES:
        actions.post_message(actor=me, room_id=ops.id, body=line)
        actions.post_message(actor=me, room_id=dev.id, body=f"dev {line}")
    monkeypatch.setattr(postgres.PostgresBackend, "_text_rows", lambda self: 10.0**9)
    forced = _record_forced(monkeypatch)
    page = search(me, "deploy in:#ops", sort="recent")
    assert [r["message"]["body"] for r in page["results"]] == \
        [ln for ln in reversed(WORD_LINES) if "deploy" in ln]
    assert forced == [{"enable_bitmapscan": "off"}]
    forced.clear()
    search(me, "deploy", sort="recent")
    assert forced == [None]


def test_word_rarer_than_expected_reads_its_posting_list(make_user, make_room, search,
                                                         monkeypatch):
    """A page window that falls short says the word is rarer than the planner
    thinks; what follows is read without the backward walk of the id index (which
    goes through every older id when fewer matches are left than the page asks
    for: `senzantor` at 1M, 520,000 rows, 58 ms against 0.25 ms)."""
    me = make_user("oncall")
    room = make_room(me, "ops")
    for line in WORD_LINES * 2:
        actions.post_message(actor=me, room_id=room.id, body=line)
    monkeypatch.setattr(postgres.PostgresBackend, "_page_window",
                        lambda self, plan, top, need: 1)
    forced = _record_forced(monkeypatch)
    for trust in (1, 5):  # a second window sized from the density seen, or the rest
        monkeypatch.setattr(postgres, "WALK_TRUST", trust)
        forced.clear()
        page = search(me, "deploy", sort="recent")
        assert [r["message"]["body"] for r in page["results"]] == \
            [ln for ln in reversed(WORD_LINES * 2) if "deploy" in ln]
        assert len(forced) >= 2 and forced[0] is None, forced
        assert all(f is not None and f.get("enable_indexscan") == "off" for f in forced[1:])
