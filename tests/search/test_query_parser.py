"""The query parser alone (pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.chat.errors import InvalidInput
from chatserver.search.query import Filter, Term, TermKind, parse

W, P, PH, S = TermKind.WORD, TermKind.PREFIX, TermKind.PHRASE, TermKind.SUBSTRING


@pytest.mark.parametrize(("q", "terms"), [
    ("deploy", [Term(W, "deploy")]),
    ("deploy failed", [Term(W, "deploy"), Term(W, "failed")]),
    ("-staging", [Term(W, "staging", negated=True)]),
    ("kube*", [Term(P, "kube")]),
    ('"disk is full"', [Term(PH, "disk is full")]),
    ('-"disk  is full"', [Term(PH, "disk is full", negated=True)]),
    ('"solo"', [Term(W, "solo")]),
    ('"unclosed phrase', [Term(PH, "unclosed phrase")]),
    ("api-7f9c", [Term(S, "api-7f9c")]),
    ("10.2.3.4", [Term(S, "10.2.3.4")]),
    ("ERR_CONN_RESET", [Term(S, "ERR_CONN_RESET")]),
    ("/var/log/nginx", [Term(S, "/var/log/nginx")]),
    ("api-7f*", [Term(S, "api-7f")]),
    ('"refused from 10.2.3.4"', [Term(S, "refused from 10.2.3.4")]),
    ("café", [Term(W, "café")]),
    ("*", []),
])
def test_terms(q, terms):
    if not terms:
        with pytest.raises(InvalidInput):
            parse(q)
        return
    assert parse(q).terms == terms


def test_operators_and_negation():
    parsed = parse('in:#ops -in:dev from:@Bob -from:ci before:2026-01-31 after:2026-01-01 '
                   'on:2026-01-15 has:LINK -has:code has:reaction is:thread -is:mentioned '
                   'in:"war room"')
    assert parsed.terms == []
    assert parsed.filters == [
        Filter("in", "ops"), Filter("in", "dev", True), Filter("from", "Bob"),
        Filter("from", "ci", True), Filter("before", date(2026, 1, 31)),
        Filter("after", date(2026, 1, 1)), Filter("on", date(2026, 1, 15)),
        Filter("has", "link"), Filter("has", "code", True), Filter("has", "reaction"),
        Filter("is", "thread"), Filter("is", "mentioned", True), Filter("in", "war room"),
    ]


def test_unknown_operator_is_text_with_hint():
    parsed = parse("color:blue")
    assert parsed.terms == [Term(S, "color:blue")]
    assert len(parsed.hints) == 1 and "color:" in parsed.hints[0]
    assert parse("https://x.example/a").hints == []


@pytest.mark.parametrize("q", ["", "  ", None, 5, "before:2026-13-01", "on:tomorrow", "has:",
                               "is:cool", "from:@", "x" * 501])
def test_invalid(q):
    with pytest.raises(InvalidInput):
        parse(q)


@given(st.text(max_size=80))
def test_parse_never_crashes(q):
    try:
        parsed = parse(q)
    except InvalidInput as e:
        assert e.fields == {"q": e.message}
        return
    for t in parsed.terms:
        assert t.text and t.text == t.text.strip()
        assert "\x00" not in t.text
        if t.kind in (W, P):
            assert t.text.isalnum()
