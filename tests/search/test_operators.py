"""Every operator, through the API, on whichever database the suite runs on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatserver.chat import actions
from chatserver.chat.models import Message


@pytest.fixture
def world(make_user, make_room, post):
    alice = make_user("alice")
    bob = make_user("bob")
    ci = make_user("ci", is_bot=True)
    ops = make_room(alice, "ops", members=[bob, ci])
    dev = make_room(alice, "dev", members=[bob])
    return {"alice": alice, "bob": bob, "ci": ci, "ops": ops, "dev": dev, "post": post}


def test_plain_word_and_stemming(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "we deployed the api")
    p(a, ops, "deploying now")
    p(a, ops, "two deploys today")
    p(a, ops, "nothing to see")
    assert sorted(bodies(a, "deploy")) == ["deploying now", "two deploys today",
                                           "we deployed the api"]
    assert sorted(bodies(a, "deploying")) == sorted(bodies(a, "deploy"))


def test_all_words_must_match(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "database migration failed")
    p(a, ops, "database is fine")
    assert bodies(a, "database failed") == ["database migration failed"]


def test_exact_phrase(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "the disk is full again")
    p(a, ops, "full of disk errors")
    assert bodies(a, '"disk is full"') == ["the disk is full again"]
    assert sorted(bodies(a, "disk full")) == ["full of disk errors", "the disk is full again"]


def test_excluded_word(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "restart staging cache")
    p(a, ops, "restart production cache")
    assert bodies(a, "restart -staging") == ["restart production cache"]
    assert bodies(a, 'cache -"restart staging"') == ["restart production cache"]


def test_prefix(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "kubernetes pod evicted")
    p(a, ops, "kubectl get pods")
    p(a, ops, "cube root")
    assert sorted(bodies(a, "kube*")) == ["kubectl get pods", "kubernetes pod evicted"]


def test_in_room(world, bodies):
    p, a = world["post"], world["alice"]
    p(a, world["ops"], "latency spike")
    p(a, world["dev"], "latency test")
    assert bodies(a, "latency in:#ops") == ["latency spike"]
    assert bodies(a, "latency in:ops") == ["latency spike"]
    assert bodies(a, "latency -in:#ops") == ["latency test"]
    assert sorted(bodies(a, "latency in:#ops in:#dev")) == ["latency spike", "latency test"]
    # Operators alone (no words) list the room newest first.
    assert bodies(a, "in:#dev", sort="recent") == ["latency test"]


def test_from_user_and_bot(world, bodies):
    p, a, b, ci = world["post"], world["alice"], world["bob"], world["ci"]
    p(a, world["ops"], "build passed")
    p(b, world["ops"], "build is slow")
    p(ci, world["ops"], "build 42 failed")
    assert bodies(a, "build from:@bob") == ["build is slow"]
    assert bodies(a, "build from:ci") == ["build 42 failed"]
    assert sorted(bodies(a, "build -from:@ci")) == ["build is slow", "build passed"]


def _set_created(body: str, when: datetime) -> None:
    Message.objects.filter(body=body).update(created_at=when)


def test_dates(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    for day in (10, 11, 12):
        body = f"report for day {day}"
        p(a, ops, body)
        _set_created(body, datetime(2026, 1, day, 12, tzinfo=UTC))
    assert bodies(a, "report before:2026-01-11") == ["report for day 10"]
    assert bodies(a, "report after:2026-01-11") == ["report for day 12"]
    assert bodies(a, "report on:2026-01-11") == ["report for day 11"]
    assert sorted(bodies(a, "report -on:2026-01-11")) == ["report for day 10",
                                                          "report for day 12"]
    assert bodies(a, "report after:2026-01-10 before:2026-01-12") == ["report for day 11"]


def test_has_link_and_code(world, bodies):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "runbook at https://wiki.example.com/runbook")
    p(a, ops, "runbook: run `make deploy`")
    p(a, ops, "runbook is old")
    assert bodies(a, "runbook has:link") == ["runbook at https://wiki.example.com/runbook"]
    assert bodies(a, "runbook has:code") == ["runbook: run `make deploy`"]
    assert bodies(a, "runbook -has:link -has:code") == ["runbook is old"]


def test_has_reaction(world, bodies):
    p, a, b, ops = world["post"], world["alice"], world["bob"], world["ops"]
    liked = p(a, ops, "ship it")
    p(a, ops, "ship later")
    actions.add_reaction(actor=b, message_id=liked["id"], emoji="+1")
    assert bodies(a, "ship has:reaction") == ["ship it"]
    assert bodies(a, "ship -has:reaction") == ["ship later"]


def test_is_thread(world, bodies):
    p, a, b, ops = world["post"], world["alice"], world["bob"], world["ops"]
    root = p(a, ops, "incident started")
    p(b, ops, "incident mitigated", thread_id=root["id"])
    p(a, ops, "incident drill next week")
    assert sorted(bodies(a, "incident is:thread")) == ["incident mitigated", "incident started"]
    assert bodies(a, "incident -is:thread") == ["incident drill next week"]


def test_is_mentioned(world, bodies):
    p, a, b, ops = world["post"], world["alice"], world["bob"], world["ops"]
    p(a, ops, "@bob please check the alerts")
    p(a, ops, "@room alerts are noisy")
    p(a, ops, "alerts without anyone")
    p(b, ops, "@alice alerts for you")
    assert sorted(bodies(b, "alerts is:mentioned")) == ["@bob please check the alerts",
                                                        "@room alerts are noisy"]
    # The author of an @room message is not "mentioned" by it.
    assert bodies(a, "alerts is:mentioned") == ["@alice alerts for you"]


def test_combined_operators(world, bodies):
    p, a, b = world["post"], world["alice"], world["bob"]
    p(b, world["ops"], "deploy failed https://ci.example.com/1")
    p(b, world["ops"], "deploy failed again")
    p(a, world["ops"], "deploy failed https://ci.example.com/2")
    p(b, world["dev"], "deploy failed https://ci.example.com/3")
    assert bodies(a, "deploying fail in:#ops from:@bob has:link") == [
        "deploy failed https://ci.example.com/1"]


def test_unknown_operator_is_searched_as_text_with_a_hint(world, search):
    p, a, ops = world["post"], world["alice"], world["ops"]
    p(a, ops, "set color:blue in the theme")
    p(a, ops, "blue color")
    data = search(a, "color:blue")
    assert [r["message"]["body"] for r in data["results"]] == ["set color:blue in the theme"]
    assert any("color:" in h for h in data["hints"])
    # URLs are text, not operators, and get no hint.
    p(a, ops, "see https://status.example.com/incidents")
    data = search(a, "https://status.example.com")
    assert [r["message"]["body"] for r in data["results"]] == [
        "see https://status.example.com/incidents"]
    assert data["hints"] == []
