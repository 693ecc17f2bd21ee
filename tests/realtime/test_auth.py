"""Signing in on the socket (cookie, Bearer, auth frame), refusals, Origin, deactivation."""

from __future__ import annotations

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from django.utils import timezone

from chatserver.accounts.models import ApiToken
from chatserver.chat import actions
from tests.conftest import requires_redis
from tests.wsclient import WS

from .helpers import Api, collect, connect, recv_skip, send_and_ack, wait_closed

pytestmark = pytest.mark.live

PASSWORD = "correct horse 42"


async def _room(owner, *members) -> int:
    room = await sync_to_async(actions.create_room)(actor=owner, name="auth-room")
    await sync_to_async(actions.invite)(actor=owner, room_id=room.id,
                                        user_ids=[m.id for m in members])
    return room.id  # seq 1 + len(members)


async def _login(server, username: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.cookies["sessionid"]


async def _cookie_socket(server, sessionid: str) -> WS:
    conn = await websockets.connect(server.ws_url, additional_headers={
        "Cookie": f"sessionid={sessionid}"})
    return WS(conn)


async def test_session_cookie_bearer_and_auth_frame_all_sign_in(live, make_user, users):
    carol = await sync_to_async(make_user)("carol")  # has a password
    (alice,) = await users("alice")
    room = await _room(alice, carol)  # seq 2

    by_cookie = await _cookie_socket(live, await _login(live, "carol"))
    assert await by_cookie.resume({room: 2}) == []
    by_bearer = await connect(live, carol, {room: 2})
    by_frame = await WS.connect(live)
    await by_frame.send({"type": "auth", "token": carol.raw_token})
    assert await recv_skip(by_frame) == {"type": "auth.ok", "user_id": carol.id}
    await by_frame.resume({room: 2})

    async with Api(live, alice) as api:
        await api.post(room, "to all three")
    for ws in (by_cookie, by_bearer, by_frame):
        got = await collect(ws, room, 3)
        assert [(f["seq"], f["message"]["body"]) for f in got] == [(3, "to all three")]
    # ...and each one sends as carol.
    for i, ws in enumerate((by_cookie, by_bearer, by_frame)):
        ack = await send_and_ack(ws, room, f"from socket {i}", f"s{i}")
        assert ack["message"]["author"]["id"] == carol.id
        assert ack["message"]["seq"] == 4 + i
    for ws in (by_cookie, by_bearer, by_frame):
        await ws.close()


async def test_socket_sign_in_stamps_the_token_last_used_at(live, users):
    """A socket signed in with a token (Bearer header or auth frame) counts as a use
    of that token, like a REST request: the server stamps last_used_at."""
    (carol,) = await users("carol")
    by_header = await sync_to_async(ApiToken.objects.get)(user=carol)
    by_frame, frame_raw = await sync_to_async(ApiToken.issue)(carol, "frame")
    assert by_header.last_used_at is None and by_frame.last_used_at is None

    before = timezone.now()
    ws = await connect(live, carol)
    await ws.send({"type": "ping"})
    await ws.until("pong")
    await by_header.arefresh_from_db()
    assert by_header.last_used_at is not None and by_header.last_used_at >= before
    await by_frame.arefresh_from_db()
    assert by_frame.last_used_at is None

    other = await WS.connect(live)
    await other.send({"type": "auth", "token": frame_raw})
    await other.until("auth.ok")
    await by_frame.arefresh_from_db()
    assert by_frame.last_used_at is not None and by_frame.last_used_at >= before
    for socket in (ws, other):
        await socket.close()


async def test_refusals_bad_token_and_frames_before_auth(live, users):
    alice, bob = await users("alice", "bob")
    room = await _room(alice, bob)

    # A bad token in the auth frame: an error frame, then 4401.
    ws = await WS.connect(live)
    await ws.send({"type": "auth", "token": "ct_not-a-real-token"})
    assert await recv_skip(ws) == {"type": "error", "code": "not_authenticated",
                                   "message": "Invalid or revoked token."}
    assert await wait_closed(ws) == 4401

    # A bad Bearer header: 4401 at once.
    ws = await WS.connect(live, "ct_not-a-real-token")
    assert await wait_closed(ws, timeout=3) == 4401
    assert ws.frames == []

    # Frames before auth are refused but the socket stays open for the auth frame.
    ws = await WS.connect(live)
    for frame in ({"type": "message.send", "room": room, "body": "sneaky"},
                  {"type": "resume", "rooms": {str(room): 0}},
                  {"type": "typing", "room": room}):
        await ws.send(frame)
        assert await recv_skip(ws) == {"type": "error", "code": "not_authenticated",
                                       "message": "Send an auth frame first."}
    await ws.send({"type": "ping"})
    assert await recv_skip(ws) == {"type": "pong"}
    await ws.send("not json")
    assert (await recv_skip(ws))["code"] == "invalid_json"
    await ws.send({"type": "auth", "token": bob.raw_token})
    assert await recv_skip(ws) == {"type": "auth.ok", "user_id": bob.id}
    replay = await ws.resume({room: 0})
    assert [(f["type"], f["seq"]) for f in replay if "seq" in f] == [
        ("member.joined", 1), ("member.joined", 2)]
    await ws.close()
    async with Api(live, alice) as api:
        assert await api.history(room) == []  # "sneaky" was never written


async def test_foreign_origin_is_refused(live, users):
    (alice,) = await users("alice")
    for origin in ("http://evil.example", "https://127.0.0.1.evil.example", "null"):
        with pytest.raises(websockets.InvalidStatus) as exc:
            await websockets.connect(live.ws_url, origin=origin, additional_headers={
                "Authorization": f"Bearer {alice.raw_token}"})
        assert exc.value.response.status_code == 403
    # The server's own origin is fine.
    conn = await websockets.connect(live.ws_url, origin=f"http://127.0.0.1:{live.port}",
                                    additional_headers={
                                        "Authorization": f"Bearer {alice.raw_token}"})
    ws = WS(conn)
    await ws.send({"type": "ping"})
    assert await recv_skip(ws) == {"type": "pong"}
    await ws.close()


async def _deactivate(server, admin, user) -> None:
    async with Api(server, admin) as api:
        data = await api.call("PATCH", f"/users/{user.id}", json={"is_active": False})
        assert data["is_active"] is False


async def test_deactivation_closes_every_socket_of_the_user_with_4401(live, make_user, users):
    carol = await sync_to_async(make_user)("carol")
    admin, alice = await users("admin", "alice", role="admin")
    room = await _room(alice, carol)
    sid = await _login(live, "carol")
    carol_sockets = [await connect(live, carol, {room: 2}),
                     await _cookie_socket(live, sid)]
    await carol_sockets[1].resume({room: 2})
    frame_auth = await WS.connect(live)
    await frame_auth.send({"type": "auth", "token": carol.raw_token})
    await frame_auth.until("auth.ok")
    carol_sockets.append(frame_auth)
    bystander = await connect(live, alice, {room: 2})

    await _deactivate(live, admin, carol)
    for ws in carol_sockets:
        assert await wait_closed(ws, timeout=5) == 4401
    # Others are unaffected.
    await bystander.send({"type": "ping"})
    await bystander.until("pong")
    # Neither her token nor her session opens a socket any more.
    ws = await WS.connect(live, carol.raw_token)
    assert await wait_closed(ws, timeout=3) == 4401
    ws = await _cookie_socket(live, sid)
    await ws.send({"type": "resume", "rooms": {str(room): 0}})
    assert await recv_skip(ws) == {"type": "error", "code": "not_authenticated",
                                   "message": "Send an auth frame first."}
    await ws.close()
    async with httpx.AsyncClient(base_url=live.url, cookies={"sessionid": sid}) as c:
        r = await c.get("/api/v1/users/me")
        assert r.status_code == 401
    await bystander.close()


@requires_redis
async def test_deactivation_on_one_process_closes_sockets_on_another(live, start_server, users):
    other = start_server()
    admin, alice = await users("admin", "alice", role="admin")
    (bob,) = await users("bob")
    room = await _room(alice, bob)
    on_other = await connect(other, bob, {room: 2})
    on_live = await connect(live, bob, {room: 2})
    await _deactivate(live, admin, bob)
    assert await wait_closed(on_other, timeout=5) == 4401
    assert await wait_closed(on_live, timeout=5) == 4401


async def test_nothing_is_sent_after_the_close():
    """A frame answered after the server closed the socket (a ping in flight when
    the auth timer fired) is dropped: the ASGI server refuses a send after a
    close. A second close is not sent either."""
    from chatserver.realtime.consumer import ChatConsumer

    sent: list[dict] = []

    async def base_send(message):
        sent.append(message)

    consumer = ChatConsumer()
    consumer.base_send = base_send
    await consumer.put({"type": "pong"})
    await consumer.close(code=4401)
    await consumer.put({"type": "pong"})
    await consumer.error("rate_limited", "Too many frames.")
    await consumer.close(code=4401)
    assert [m["type"] for m in sent] == ["websocket.send", "websocket.close"]
