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


@pytest.mark.parametrize("q", ['"connection refused"', "api-7f9c"])
def test_recent_windows_change_nothing(make_user, make_room, search, monkeypatch, q):
    """Newest-first pages of phrases and substrings, window by window, cursor included."""
    me = make_user("oncall")
    room = make_room(me, "ops")
    _post_all(me, room)

    def pages(per_row: float) -> list[str]:
        monkeypatch.setattr(postgres, "RECENT_WINDOW_PER_ROW", per_row)
        out, cursor = [], None
        while True:
            params = {"sort": "recent", "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = search(me, q, **params)
            out += [r["message"]["body"] for r in page["results"]]
            if not page["next"]:
                return out
            cursor = page["next"]

    whole = pages(10**9)
    needle = q.strip('"').lower()
    assert whole == [ln for ln in reversed(LINES) if needle in ln.lower()]
    assert len(whole) >= 2
    for per_row in (0.5, 1, 2):  # windows of 1-4 ids, growing 4x
        assert pages(per_row) == whole
