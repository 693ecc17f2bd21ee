"""The message fast path (chatserver/api/fastpost.py) answers exactly as Django does.

Two real server processes on one database: one answers token posts on its event
loop (the default), the other with CHAT_REST_FAST_POST=0 sends every request
through Django. Each case is sent to both and the answers (status, headers, body)
must be the same, up to the ids and times of new messages. The in-process tests at
the end show which requests the fast path answers itself and which it hands on.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from django.test import override_settings

from chatserver.accounts import admin_actions
from chatserver.accounts.models import Role
from chatserver.api import fastpost
from chatserver.chat import actions
from chatserver.realtime.writer import post_queue

pytestmark = pytest.mark.live

VARYING = {"id", "seq", "created_at"}  # differ between the two servers' new messages
SKIP_HEADERS = {"date", "server", "content-length", "retry-after"}


def _answer(resp: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in resp.headers.items() if k not in SKIP_HEADERS}
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    if isinstance(body, dict) and "error" not in body:
        body = {k: v for k, v in body.items() if k not in VARYING}
    elif isinstance(body, dict) and body["error"]["code"] == "rate_limited":
        body["error"]["message"] = "(says how long to wait)"
    return resp.status_code, headers, body


def start_pair(start_server, **env: str):
    """A server with the fast path and one without; the same database (and Redis)."""
    return start_server(env=env), start_server(env={**env, "CHAT_REST_FAST_POST": "0"})


@pytest.fixture
def world(make_user):
    ada = make_user("ada")
    mia = make_user("mia")
    olga = make_user("olga")
    bot = make_user("robo", is_bot=True)
    dora = make_user("dora")
    admin = make_user("sam", role=Role.ADMIN)
    pub = actions.create_room(actor=ada, name="pub")
    priv = actions.create_room(actor=ada, name="priv", visibility="private")
    arch = actions.create_room(actor=ada, name="arch")
    for room in (pub, priv, arch):
        actions.invite(actor=ada, room_id=room.id, user_ids=[mia.id, bot.id, dora.id])
    root = actions.post_message(actor=mia, room_id=pub.id, body="thread root").message
    actions.update_room(actor=ada, room_id=arch.id, changes={"archived": True})
    admin_actions.update_user(actor=admin, user_id=dora.id, changes={"is_active": False})
    return {"mia": mia, "olga": olga, "bot": bot, "dora": dora, "pub": pub, "priv": priv,
            "arch": arch, "root": root}


def _cases(w: dict) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(name, path, headers, body); {tag} in a body is replaced per server."""
    def auth(user):
        return {"Authorization": f"Bearer {user.raw_token}",
                "Content-Type": "application/json"}

    def post(room_id, user, **fields):
        return f"/api/v1/rooms/{room_id}/messages", auth(user), json.dumps(fields).encode()

    mia, pub = w["mia"], w["pub"].id
    path, _, ok = post(pub, mia, body="hello **world** @olga", client_msg_id="{tag}-1")
    return [
        ("created", path, auth(mia), ok),
        ("retried", path, auth(mia), ok),
        ("thread reply", path, auth(mia),
         json.dumps({"body": "in thread", "thread_id": w["root"]["id"]}).encode()),
        ("bot posts", path, auth(w["bot"]), json.dumps({"body": "beep"}).encode()),
        ("charset in content type", path,
         {**auth(mia), "Content-Type": "application/json; charset=utf-8"},
         json.dumps({"body": "utf-8 ünïcödé"}).encode()),
        ("empty message", path, auth(mia), b'{"body": "   "}'),
        ("missing body field", path, auth(mia), b'{}'),
        ("message too long", path, auth(mia), json.dumps({"body": "x" * 10_001}).encode()),
        ("bad client_msg_id", path, auth(mia), b'{"body": "x", "client_msg_id": 5}'),
        ("unknown thread", path, auth(mia), b'{"body": "x", "thread_id": 987654321}'),
        ("unknown room", *post(987654321, mia, body="x")),
        ("room id past the range", "/api/v1/rooms/99999999999999999999/messages",
         auth(mia), b'{"body": "x"}'),
        ("private room, outsider", *post(w["priv"].id, w["olga"], body="x")),
        ("public room, not a member", *post(pub, w["olga"], body="x")),
        ("archived room", *post(w["arch"].id, mia, body="x")),
        ("deactivated user's token", path, auth(w["dora"]), b'{"body": "x"}'),
        ("unknown token", path, {**auth(mia), "Authorization": "Bearer nope"}, b'{"body": "x"}'),
        ("malformed authorization", path, {**auth(mia), "Authorization": "Bearer a b"},
         b'{"body": "x"}'),
        ("no authorization", path, {"Content-Type": "application/json"}, b'{"body": "x"}'),
        ("empty request body", path, auth(mia), b""),
        ("invalid JSON", path, auth(mia), b'{"body": '),
        ("JSON array", path, auth(mia), b'["body"]'),
        ("NUL in a string", path, auth(mia), b'{"body": "a\\u0000b"}'),
        ("invalid UTF-8", path, auth(mia), b'{"body": "\xff\xfe"}'),
        ("form content type", path, {**auth(mia), "Content-Type": "text/plain"},
         b'{"body": "x"}'),
        ("over the size limit", path, auth(mia),
         json.dumps({"body": "x" * (1024 * 1024 + 10)}).encode()),
        ("host not allowed", path, {**auth(mia), "Host": "evil.example"}, b'{"body": "x"}'),
    ]


def test_fast_path_answers_as_django_does(start_server, world):
    fast, django = start_pair(start_server)
    cases = _cases(world)
    for name, path, headers, body in cases:
        answers = []
        for server, tag in ((fast, "fast"), (django, "django")):
            resp = httpx.post(server.url + path, headers=headers,
                              content=body.replace(b"{tag}", tag.encode()), timeout=10)
            answers.append(_answer(resp))
        assert answers[0] == answers[1], name


def test_rate_limit_answers_alike(start_server, world, make_user):
    """Past the send budget both answer 429 with a Retry-After, in the same shape."""
    fast, django = start_pair(start_server, CHAT_SEND_RATE="6/60")
    answers = {}
    for server in (fast, django):
        user = make_user()
        actions.join_room(actor=user, room_id=world["pub"].id)
        headers = {"Authorization": f"Bearer {user.raw_token}",
                   "Content-Type": "application/json"}
        codes = []
        for i in range(8):
            resp = httpx.post(f"{server.url}/api/v1/rooms/{world['pub'].id}/messages",
                              headers=headers, json={"body": f"n{i}"}, timeout=10)
            codes.append(resp.status_code)
        assert int(resp.headers["retry-after"]) >= 1
        answers[server.port] = (codes, _answer(resp))
    assert list(answers.values())[0] == list(answers.values())[1]
    assert list(answers.values())[0][0] == [201] * 6 + [429] * 2


def test_https_behind_a_proxy_gets_hsts_on_both(start_server, world):
    fast, django = start_pair(start_server, SECURE_PROXY="1")
    mia = world["mia"]
    answers = []
    for server in (fast, django):
        resp = httpx.post(f"{server.url}/api/v1/rooms/{world['pub'].id}/messages",
                          headers={"Authorization": f"Bearer {mia.raw_token}",
                                   "X-Forwarded-Proto": "https"},
                          json={"body": "over https"}, timeout=10)
        assert "max-age=" in resp.headers["strict-transport-security"]
        answers.append(_answer(resp))
    assert answers[0] == answers[1]


# --- which requests the fast path answers itself ----------------------------------


async def _call(body: bytes, headers: list[tuple[bytes, bytes]], room_id: int):
    """Run fastpost.handle in-process; return (status, body, handed to Django?)."""
    scope = {"type": "http", "method": "POST", "path": f"/api/v1/rooms/{room_id}/messages",
             "scheme": "http", "headers": [(b"host", b"127.0.0.1"), *headers]}
    chunks = [{"type": "http.request", "body": body[:10], "more_body": True},
              {"type": "http.request", "body": body[10:], "more_body": False}]
    sent: list[dict] = []
    handed: list[bytes] = []

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def django(scope, receive, send):
        data = b""
        while True:  # Django must get the whole body, as it was sent
            message = await receive()
            data += message.get("body", b"")
            if not message.get("more_body"):
                break
        handed.append(data)

    post_queue.bind(asyncio.get_running_loop())
    await fastpost.handle(scope, receive, send, django)
    status = sent[0]["status"] if sent else None
    return status, (sent[1]["body"] if sent else b""), handed


@pytest.mark.django_db(transaction=True)
async def test_plain_post_is_answered_on_the_loop(world):
    from asgiref.sync import sync_to_async

    mia, pub = world["mia"], world["pub"]
    auth = [(b"authorization", f"Bearer {mia.raw_token}".encode()),
            (b"content-type", b"application/json")]
    status, body, handed = await _call(b'{"body": "from the loop", "client_msg_id": "L1"}',
                                       auth, pub.id)
    assert (status, handed) == (201, [])
    assert json.loads(body)["body"] == "from the loop"
    again = await _call(b'{"body": "from the loop", "client_msg_id": "L1"}', auth, pub.id)
    assert again[0] == 200 and json.loads(again[1])["id"] == json.loads(body)["id"]
    # An action's refusal is answered here too.
    assert (await _call(b'{"body": ""}', auth, pub.id))[0] == 400
    assert (await _call(b'{"body": "x"}', auth, 987654321))[0] == 404
    count = await sync_to_async(lambda: pub.messages.filter(body="from the loop").count())()
    assert count == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("body,headers", [
    (b'{"body": "x"}', [(b"authorization", b"Bearer wrong"), (b"content-type", b"application/json")]),
    (b'{"body": "x"}', [(b"content-type", b"application/json")]),
    (b'{"body": "x"}', [(b"authorization", b"Bearer {mia}"), (b"content-type", b"text/plain")]),
    (b'{"body": "x', [(b"authorization", b"Bearer {mia}"), (b"content-type", b"application/json")]),
    (b'["x"]', [(b"authorization", b"Bearer {mia}"), (b"content-type", b"application/json")]),
])
async def test_anything_else_goes_to_django_with_its_body(world, body, headers):
    token = world["mia"].raw_token.encode()
    headers = [(k, v.replace(b"{mia}", token)) for k, v in headers]
    status, _, handed = await _call(body, headers, world["pub"].id)
    assert status is None and handed == [body]


def test_switch_off(settings):
    settings.CHAT = {**settings.CHAT, "REST_FAST_POST": False}
    scope = {"type": "http", "method": "POST", "path": "/api/v1/rooms/1/messages"}
    assert not fastpost.handles(scope)
    with override_settings(CHAT={**settings.CHAT, "REST_FAST_POST": True}):
        assert fastpost.handles(scope)
        assert not fastpost.handles({**scope, "method": "GET"})
        assert not fastpost.handles({**scope, "path": "/api/v1/rooms/1/messages/"})
