"""Bad input on every endpoint that reads a body, and impossible ids and paths.

Each bad request gets a clear JSON error (400 / 404 / 413 / 415), never a 500,
and leaves the database exactly as it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from chatserver.accounts.models import ApiToken, Role, User
from chatserver.audit.models import AuditEntry
from chatserver.chat import actions
from chatserver.chat.models import Membership, Mention, Message, Reaction, Room
from chatserver.events.models import RoomEvent, UserEvent

from .conftest import API, error_of, raw
from .test_access_matrix import BODIES as VALID_BODIES

HUGE = 10**30


def snapshot() -> dict[str, Any]:
    """Every row that an API write could touch."""
    return {
        "rooms": list(Room.objects.order_by("id").values()),
        "memberships": list(Membership.objects.order_by("id").values()),
        "messages": list(Message.objects.order_by("id").values()),
        "reactions": list(Reaction.objects.order_by("id").values_list("id", "emoji")),
        "mentions": list(Mention.objects.order_by("id").values_list("id", "user_id")),
        "room_events": list(RoomEvent.objects.order_by("id").values_list("id", "seq", "type")),
        "user_events": list(UserEvent.objects.order_by("id").values_list("id", "type")),
        "audit": list(AuditEntry.objects.order_by("id").values_list("id", "action")),
        "users": list(User.objects.order_by("id").values(
            "id", "username", "display_name", "role", "is_active", "is_bot", "password")),
        "tokens": list(ApiToken.objects.order_by("id").values_list("id", "digest")),
    }


@pytest.fixture
def scene(make_user, make_room, post):
    admin = make_user("root", role=Role.ADMIN)
    peer = make_user("peer")
    newcomer = make_user("newcomer")
    room = make_room(admin, "general", members=[peer])
    msg = post(admin, room, "hello")
    return {"admin": admin, "peer": peer, "newcomer": newcomer, "room": room, "msg": msg}


# (method, path template, a valid body): every endpoint that reads a JSON body.
BODY_ENDPOINTS = [
    ("POST", "auth/login", {"username": "root", "password": "correct horse 42"}),
    ("POST", "users", {"username": "newbie", "password": "a long enough pass 9"}),
    ("PATCH", "users/{peer}", {"display_name": "Peer"}),
    ("POST", "rooms", {"name": "fresh", "topic": "t"}),
    ("PATCH", "rooms/{room}", {"topic": "changed"}),
    ("POST", "rooms/{room}/members", {"user_id": "{newcomer}"}),
    ("PATCH", "rooms/{room}/members/{peer}", {"role": "admin"}),
    ("POST", "dms", {"user_ids": ["{peer}"]}),
    ("POST", "rooms/{room}/messages", {"body": "hi", "client_msg_id": "c1"}),
    ("POST", "rooms/{room}/read", {"seq": 1}),
    ("PATCH", "messages/{msg}", {"body": "edited"}),
    ("POST", "messages/{msg}/reactions", {"emoji": "tada"}),
]


def fill(template: str, scene) -> str:
    return template.format(peer=scene["peer"].id, newcomer=scene["newcomer"].id,
                           room=scene["room"].id, msg=scene["msg"]["id"])


def fill_body(body: dict[str, Any], scene) -> dict[str, Any]:
    def one(v):
        if isinstance(v, str) and v.startswith("{"):
            return int(fill(v, scene))
        if isinstance(v, list):
            return [one(x) for x in v]
        return v

    return {k: one(v) for k, v in body.items()}


def client(scene, path: str):
    if path == "auth/login":
        return APIClient()
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {scene['admin'].raw_token}")
    return c


ENDPOINT_IDS = [f"{m} {p}" for m, p, _ in BODY_ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS, ids=ENDPOINT_IDS)
def test_the_valid_body_works(scene, method, path, valid):
    """Sanity check for the table below: the same request with a good body succeeds."""
    url = f"{API}/{fill(path, scene)}"
    resp = raw(client(scene, path), method, url, json.dumps(fill_body(valid, scene)))
    assert resp.status_code in (200, 201, 204), resp.content


BAD_BODIES = {
    "malformed": (b'{"body": "x",', 400, "invalid_json"),
    "single-quotes": (b"{'body': 'x'}", 400, "invalid_json"),
    "trailing-garbage": (b'{"body": "x"} extra', 400, "invalid_json"),
    "invalid-utf8": (b'{"body": "caf\xe9"}', 400, "invalid_json"),
    "utf16": ('{"body": "x"}'.encode("utf-16"), 400, "invalid_json"),
    "array": (b'[{"body": "x"}]', 400, "invalid_json"),
    "string": (b'"body"', 400, "invalid_json"),
    "number": (b"42", 400, "invalid_json"),
    "null": (b"null", 400, "invalid_json"),
    "deep-nesting": (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "invalid_json"),
    "lone-surrogate": (None, 400, "invalid_json"),
    "nul-char": (None, 400, "invalid_json"),
    "empty": (b"", 400, "invalid"),
    "whitespace": (b"  \n ", 400, None),
    "over-1MiB": (b'{"body": "' + b"x" * (1024 * 1024) + b'"}', 413, "too_large"),
}


def poisoned(valid: dict[str, Any], scene, poison: str) -> bytes:
    """The valid body with its first string value (or an extra field) carrying poison."""
    body = fill_body(valid, scene)
    key = next((k for k, v in body.items() if isinstance(v, str)), "note")
    text = json.dumps({**body, key: "aPOISONb"})
    return text.replace("POISON", poison).encode()


@pytest.mark.parametrize("bad", list(BAD_BODIES))
@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS, ids=ENDPOINT_IDS)
def test_bad_bodies_are_refused_and_write_nothing(scene, method, path, valid, bad):
    data, status, code = BAD_BODIES[bad]
    if bad == "lone-surrogate":
        data = poisoned(valid, scene, "\\ud800")
    elif bad == "nul-char":
        data = poisoned(valid, scene, "\\u0000")
    before = snapshot()
    resp = raw(client(scene, path), method, f"{API}/{fill(path, scene)}", data)
    assert resp.status_code == status, resp.content[:300]
    err = error_of(resp)
    if code:
        assert err["code"] == code
    assert err["message"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_non_json_bodies_are_415(scene, method, path, valid, content_type):
    before = snapshot()
    resp = raw(client(scene, path), method, f"{API}/{fill(path, scene)}", b"body=x",
               content_type=content_type)
    assert resp.status_code == 415
    assert error_of(resp)["code"] == "unsupported_media_type"
    assert snapshot() == before


def test_valid_surrogate_pairs_are_fine(scene):
    """Escaped astral characters (emoji as surrogate pairs) are not lone surrogates."""
    c = client(scene, "")
    resp = raw(c, "POST", f"{API}/rooms/{scene['room'].id}/messages",
               b'{"body": "ok \\ud83d\\ude00"}')
    assert resp.status_code == 201
    assert resp.json()["body"] == "ok \N{GRINNING FACE}"


@pytest.mark.parametrize("body", [
    b'{"seq": NaN}', b'{"seq": Infinity}', b'{"seq": 1e400}', b'{"seq": -1}',
])
def test_non_finite_numbers(scene, body):
    resp = raw(client(scene, ""), "POST", f"{API}/rooms/{scene['room'].id}/read", body)
    assert resp.status_code == 400


# --- ids and paths ------------------------------------------------------------------


def routes_with_ids() -> list[tuple[str, str]]:
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
                continue
            route = prefix + str(p.pattern)
            if not route.startswith("api/") or "<int:" not in route:
                continue
            cls = p.callback.view_class
            for m in cls.http_method_names:
                if m not in ("options", "head") and hasattr(cls, m):
                    found.append((m.upper(), route))

    walk(get_resolver().url_patterns, "")
    return sorted(found)


@pytest.mark.parametrize(("method", "route"), routes_with_ids(),
                         ids=[f"{m} {r}" for m, r in routes_with_ids()])
@pytest.mark.parametrize("value", [HUGE, 2**63, 0])
def test_impossible_ids_in_paths_are_404(scene, method, route, value):
    path = re.sub(r"<int:\w+>", str(value), route).replace("<str:emoji>", "tada")
    body = VALID_BODIES.get((method, route), {})
    if route.endswith("/members") and method == "POST":
        body = {"user_id": scene["newcomer"].id}
    before = snapshot()
    resp = raw(client(scene, ""), method, f"/{path}", json.dumps(body))
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("path", ["rooms/abc", "rooms/abc/messages", "rooms/-1",
                                  "messages/1.5", "rooms/%F0%9F%98%80", "nope", "rooms/1/nope"])
def test_paths_that_do_not_resolve_are_json_404(scene, path):
    resp = client(scene, "").get(f"{API}/{path}")
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "not_found"


@pytest.mark.parametrize(("path", "body"), [
    ("rooms/{room}/members", {"user_ids": [HUGE]}),
    ("rooms/{room}/members", {"user_id": HUGE}),
    ("rooms/{room}/members", {"user_ids": [-5]}),
    ("dms", {"user_ids": [HUGE]}),
    ("dms", {"user_ids": [-5]}),
    ("rooms/{room}/messages", {"body": "x", "thread_id": HUGE}),
    ("rooms/{room}/messages", {"body": "x", "thread_id": -1}),
])
def test_impossible_ids_in_bodies(scene, path, body):
    before = snapshot()
    resp = client(scene, "").post(f"{API}/{fill(path, scene)}", body, format="json")
    assert resp.status_code in (400, 404)
    assert error_of(resp)["code"] in ("invalid", "not_found")
    assert snapshot() == before


def test_impossible_ids_in_query_params(scene):
    c = client(scene, "")
    url = f"{API}/rooms/{scene['room'].id}/messages"
    for param in ("before", "after", "around"):
        resp = c.get(url, {param: str(HUGE)})
        assert resp.status_code == 404, param
    resp = c.get(f"{API}/messages/{scene['msg']['id']}/replies", {"after": str(HUGE)})
    assert resp.status_code == 404
    assert c.get(url, {"limit": str(HUGE)}).status_code == 200


def test_odd_characters_in_paths_and_queries(scene):
    c = client(scene, "")
    msg = scene["msg"]["id"]
    # Invalid UTF-8 in the path: no such reaction (not a crash).
    assert c.delete(f"{API}/messages/{msg}/reactions/%FF").status_code == 404
    assert c.delete(f"{API}/messages/{msg}/reactions/%00").status_code == 400
    resp = c.get(f"{API}/users?q=%FF%00")
    assert resp.status_code == 200
    assert resp.json()["results"] == []
    assert c.get(f"{API}/users?q=r%00oot").status_code == 200


def test_wrong_method_is_405_json(scene):
    resp = client(scene, "").put(f"{API}/rooms/{scene['room'].id}", {"topic": "x"}, format="json")
    assert resp.status_code == 405
    assert error_of(resp)["code"] == "method_not_allowed"


def test_empty_patch_is_400_and_writes_nothing(scene):
    c = client(scene, "")
    before = snapshot()
    for url in (f"{API}/rooms/{scene['room'].id}", f"{API}/users/{scene['peer'].id}"):
        resp = c.patch(url, {}, format="json")
        assert resp.status_code == 400, url
        assert error_of(resp)["code"] == "invalid"
    assert snapshot() == before


def test_failed_write_in_the_middle_leaves_no_trace(scene, make_user):
    """An invite whose last id is unknown adds nobody (all-or-nothing)."""
    a, b = make_user("a"), make_user("b")
    before = snapshot()
    resp = client(scene, "").post(f"{API}/rooms/{scene['room'].id}/members",
                                  {"user_ids": [a.id, b.id, 999_999]}, format="json")
    assert resp.status_code == 404
    assert snapshot() == before
    actions.invite(actor=scene["admin"], room_id=scene["room"].id, user_ids=[a.id, b.id])
    assert Membership.objects.filter(room=scene["room"]).count() == 4
