"""Bad input answers 400 with the reason (or is searched as words), never 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.api.conftest import error_of

from .conftest import API


@pytest.fixture
def me(make_user, make_room, post):
    user = make_user("searcher")
    post(user, make_room(user, "general"), 'a "quoted" message with 100% of api-1 stuff')
    return user


@pytest.mark.parametrize(("params", "field"), [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 501}, "q"),
    ({"q": "report before:yesterday"}, "q"),
    ({"q": "report after:2026-02-30"}, "q"),
    ({"q": "report on:2026-1-5"}, "q"),
    ({"q": "has:pictures"}, "q"),
    ({"q": "is:starred"}, "q"),
    ({"q": "in:"}, "q"),
    ({"q": "in:#"}, "q"),
    ({"q": "from:@nobody"}, "q"),
    ({"q": " ".join(["w"] * 31)}, "q"),
    ({"q": "a", "sort": "best"}, "sort"),
    ({"q": "a", "limit": "0"}, "limit"),
    ({"q": "a", "limit": "1000"}, "limit"),
    ({"q": "a", "limit": "ten"}, "limit"),
    ({"q": "a", "cursor": "not-a-cursor"}, "cursor"),
    ({"q": "a", "cursor": "eyJzIjoicmVjZW50IiwiYiI6Ii0xIn0="}, "cursor"),  # b is a string
])
def test_bad_input_is_a_clear_400(me, client_for, params, field):
    resp = client_for(me).get(API, params)
    assert resp.status_code == 400, resp.content
    err = error_of(resp)
    assert err["code"] == "invalid"
    assert field in err["fields"]
    assert err["message"]


def test_a_cursor_of_the_other_sort_is_refused(me, client_for, search, post, make_room):
    room = make_room(me, "many")
    for i in range(3):
        post(me, room, f"page {i}")
    nxt = search(me, "page", sort="recent", limit=1)["next"]
    resp = client_for(me).get(API, {"q": "page", "sort": "relevance", "cursor": nxt})
    assert resp.status_code == 400


@pytest.mark.parametrize("q", [
    '"unbalanced quote', 'quoted"', '""', '-', '--', '*', '-*', '"-"', 'a AND OR NOT b',
    'NEAR(a b)', "col:", "(((", "\\", "'; DROP TABLE chat_message; --", "%", "_", "é*",
    "\x00abc", "🙂", "a:b:c", "-in:#general", "100%", '"100% of"',
])
def test_odd_queries_are_searched_as_words(me, client_for, q):
    resp = client_for(me).get(API, {"q": q})
    assert resp.status_code in (200, 400), resp.content
    body = resp.json()
    assert set(body) in ({"results", "next", "hints"}, {"error"})


def test_unbalanced_quote_is_a_phrase_to_the_end(me, search):
    data = search(me, '"quoted message')
    assert [r["message"]["body"] for r in data["results"]] == [
        'a "quoted" message with 100% of api-1 stuff']


@hsettings(max_examples=150, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(alphabet=st.sampled_from('ab1 -"*:#@_%./\\é'), min_size=1, max_size=40)
       | st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30))
def test_any_query_answers_200_or_400(me, client_for, q):
    resp = client_for(me).get(API, {"q": q})
    assert resp.status_code in (200, 400), (q, resp.content)
