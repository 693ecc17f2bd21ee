"""The access matrix beyond REST: socket frames, search and bot commands.

For every socket frame type (resume, message.send, typing, read, ping, auth),
for search, and for a bot command (`@help`), each persona tries each room kind
(public, private, DM, archived) on a real server process, and the exact answer
is compared with the table below. One socket per persona, reused for every
frame, in a fixed order (so a send's new seq is part of the expected world).

The world (committed: the server process reads it):
- room_admin ("ada") created #pub, #priv and #arch (public, archived after the
  first message); member ("mia") is in all three and in the DM; peer ("pete")
  too; the DM is {mia, pete, dora}.
- outsider ("olga"), site_admin ("sam", site role admin), guest ("gus") are in no room.
- bot ("robo"): a bot account, member of #pub and #arch.
- deactivated ("dora"): was in every room, then deactivated: her socket is refused.
- anonymous: a socket without credentials (it may only ping or auth).
Each room holds one message with a word unique to it ("<kind>word") for search.

Answers (strings, one per cell):
- resume {room: 0}: "replay" (its events, then ready), "not_found" (an error frame
  with that room as ref, then ready).
- message.send: "ack" or the error frame's code.
- typing / read: "ok" (no answer) or the error frame's code.
- ping: "pong"; auth (a valid token again): the error code.
- search for the room's word: "found" or "none"; anonymous / deactivated: the HTTP status.
- "@help" in the room: "answered" (the help bot's ephemeral answer reached the
  caller), "silent" (acked, no answer: bots never answer bots), or the send's
  error code.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from chatserver.accounts import admin_actions
from chatserver.accounts.models import ApiToken, Role, User
from chatserver.chat import actions
from tests.wsclient import WS

pytestmark = [pytest.mark.live]

PERSONAS = ("anonymous", "outsider", "guest", "member", "room_admin", "site_admin",
            "deactivated", "bot")
KINDS = ("public", "private", "dm", "archived")
FRAMES = ("resume", "read", "typing", "message.send", "ping", "auth", "search", "bot_command")


def cols(*answers: str) -> dict[str, str]:
    assert len(answers) == len(PERSONAS)
    return dict(zip(PERSONAS, answers, strict=True))


NA, NF, FB, DEAD = "not_authenticated", "not_found", "forbidden", "closed 4401"


def frame_table(ok: str, *, visible_not_member: str, archived_member: str | None = None,
                anonymous: str = NA) -> dict[str, dict[str, str]]:
    """The shape shared by every room frame. Members (and room admins, except in
    the DM they are not in) get `ok`; a public room seen by a non-member gets
    `visible_not_member`; what they cannot see is not_found. Guests see only rooms
    they are in (none here). The bot is in #pub and #arch only."""
    arch = archived_member or ok
    return {
        "public": cols(anonymous, visible_not_member, NF, ok, ok, visible_not_member, DEAD, ok),
        "private": cols(anonymous, NF, NF, ok, ok, NF, DEAD, NF),
        "dm": cols(anonymous, NF, NF, ok, NF, NF, DEAD, NF),
        "archived": cols(anonymous, visible_not_member, NF, arch, arch, visible_not_member, DEAD,
                         arch),
    }


def same_everywhere(*answers: str) -> dict[str, dict[str, str]]:
    return {kind: cols(*answers) for kind in KINDS}


# frame -> room kind -> persona -> answer
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    # The socket carries only the rooms one is in: a public room one could join is
    # resumed after joining (over REST), not before.
    "resume": frame_table("replay", visible_not_member=NF),
    "read": frame_table("ok", visible_not_member=FB),
    # Typing goes to rooms the socket carries; a visible room one has not joined
    # answers forbidden, like read and send; an unseen one not_found.
    "typing": frame_table("ok", visible_not_member=FB),
    # Archived rooms are read-only for everyone, room admins included.
    "message.send": frame_table("ack", visible_not_member=FB, archived_member=FB),
    "ping": same_everywhere("pong", "pong", "pong", "pong", "pong", "pong", DEAD, "pong"),
    # A second auth on a signed-in socket is refused; a bad token closes the socket.
    "auth": same_everywhere(DEAD, "bad_frame", "bad_frame", "bad_frame", "bad_frame",
                            "bad_frame", DEAD, "bad_frame"),
    # Search sees public rooms (even unjoined: archived ones too) and one's own
    # private rooms and DMs; never for guests outside their rooms.
    "search": {
        "public": cols("401", "found", "none", "found", "found", "found", "401", "found"),
        "private": cols("401", "none", "none", "found", "found", "none", "401", "none"),
        "dm": cols("401", "none", "none", "found", "none", "none", "401", "none"),
        "archived": cols("401", "found", "none", "found", "found", "found", "401", "found"),
    },
    # A command is a message: whoever may not post gets the send's error; the
    # help bot answers members privately; bots never answer a bot.
    "bot_command": frame_table("answered", visible_not_member=FB, archived_member=FB,
                               anonymous=DEAD) | {
        "public": cols(DEAD, FB, NF, "answered", "answered", FB, DEAD, "silent")},
}


def _user(username: str, **kw) -> User:
    user = User(username=username, display_name=username.title(), **kw)
    user.set_unusable_password()
    user.save()
    user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
    return user


def _build_world() -> dict[str, Any]:
    ada, mia, pete = _user("ada"), _user("mia"), _user("pete")
    olga, sam, gus = _user("olga"), _user("sam", role=Role.ADMIN), _user("gus", role=Role.GUEST)
    robo, dora = _user("robo", is_bot=True), _user("dora")
    pub = actions.create_room(actor=ada, name="pub", visibility="public")
    actions.invite(actor=ada, room_id=pub.id, user_ids=[mia.id, pete.id, robo.id, dora.id])
    priv = actions.create_room(actor=ada, name="priv", visibility="private")
    actions.invite(actor=ada, room_id=priv.id, user_ids=[mia.id, pete.id, dora.id])
    arch = actions.create_room(actor=ada, name="arch", visibility="public")
    actions.invite(actor=ada, room_id=arch.id, user_ids=[mia.id, pete.id, robo.id, dora.id])
    dm = actions.open_dm(actor=mia, user_ids=[pete.id, dora.id])
    rooms = {"public": pub.id, "private": priv.id, "dm": dm.id, "archived": arch.id}
    for kind, room_id in rooms.items():
        actions.post_message(actor=mia, room_id=room_id, body=f"the {kind}word is here")
    actions.update_room(actor=ada, room_id=arch.id, changes={"archived": True})
    admin_actions.update_user(actor=sam, user_id=dora.id, changes={"is_active": False})
    dora.raw_token = ApiToken.issue(dora)[1]  # type: ignore[attr-defined]
    personas = {"anonymous": None, "outsider": olga, "guest": gus, "member": mia,
                "room_admin": ada, "site_admin": sam, "deactivated": dora, "bot": robo}
    return {"rooms": rooms, "tokens": {p: (u.raw_token if u else None)
                                       for p, u in personas.items()}}


class Probe:
    """One persona's socket, and the way each frame's answer is read."""

    def __init__(self, ws: WS | None, close_code: int | None):
        self.ws, self.close_code = ws, close_code

    async def answer_after(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Send the frame, then a ping (unless it is one); the frames before the pong."""
        assert self.ws is not None
        start = len(self.ws.frames)
        await self.ws.send(frame)
        if frame["type"] != "ping":
            await self.ws.send({"type": "ping"})
        await self.ws.until("pong", 10)
        return self.ws.frames[start:-1]

    async def frame(self, name: str, room_id: int, token: str | None) -> str:
        if self.ws is None:
            return f"closed {self.close_code}"
        try:
            return await self._frame(name, room_id, token)
        except websockets.ConnectionClosed as exc:
            self.ws, self.close_code = None, exc.rcvd.code if exc.rcvd else None
            return f"closed {self.close_code}"

    async def _frame(self, name: str, room_id: int, token: str | None) -> str:
        if name == "resume":
            got = await self.answer_after({"type": "resume", "rooms": {str(room_id): 0}})
            if any(f.get("type") == "error" for f in got):
                assert all(f.get("ref") in (None, str(room_id)) for f in got), got
                return _error_code(got)
            assert got[-1]["type"] == "ready", got
            return "replay" if any(f.get("room") == room_id and "seq" in f for f in got) \
                else "empty"
        if name == "ping":
            # Events pushed to the socket meanwhile (a late presence change on a
            # busy machine) may come before the pong; an error may not.
            got = await self.answer_after({"type": "ping"})
            return "?" if any(f.get("type") == "error" for f in got) else "pong"
        if name == "auth":
            return _error_code(await self.answer_after({"type": "auth", "token": token or ""}))
        if name in ("typing", "read"):
            frame: dict[str, Any] = {"type": name, "room": room_id}
            if name == "read":
                frame["seq"] = 1
            return _error_code(await self.answer_after(frame))
        if name == "message.send":
            return await self.send(room_id, "hello")
        raise AssertionError(name)

    async def send(self, room_id: int, body: str) -> str:
        assert self.ws is not None
        cmid = str(uuid.uuid4())
        await self.ws.send({"type": "message.send", "room": room_id, "body": body,
                            "client_msg_id": cmid})
        while True:
            f = await self.ws.recv(10)
            if f.get("type") == "ack" and f.get("client_msg_id") == cmid:
                return "ack"
            if f.get("type") == "error" and f.get("ref") == cmid:
                return f["code"]
            if f.get("type") == "error":
                return f["code"]  # anonymous: no ref

    async def bot_command(self, room_id: int) -> str:
        if self.ws is None:
            return f"closed {self.close_code}"
        try:
            return await self._bot_command(room_id)
        except websockets.ConnectionClosed as exc:
            self.ws, self.close_code = None, exc.rcvd.code if exc.rcvd else None
            return f"closed {self.close_code}"

    async def _bot_command(self, room_id: int) -> str:
        assert self.ws is not None
        start = len(self.ws.frames)
        sent = await self.send(room_id, "@help")
        if sent != "ack":
            return sent
        # The answer may come before the ack when the server's send coroutine is
        # slower than the bot's thread (a busy machine): look at what came already.
        answers = [f for f in self.ws.frames[start:]
                   if f.get("type") == "message.ephemeral" and f.get("room") == room_id]
        if not answers:
            try:
                answers.append(await self.ws.until("message.ephemeral", 10, room=room_id))
            except TimeoutError:
                return "silent"
        assert "**Bots**" in answers[0]["message"]["body"], self.ws.frames[start:]
        return "answered"


def _error_code(frames: list[dict[str, Any]]) -> str:
    errors = [f for f in frames if f.get("type") == "error"]
    return errors[0]["code"] if errors else "ok"


async def _open(server, token: str | None) -> Probe:
    ws = await WS.connect(server, token)
    try:
        await asyncio.sleep(0.2)  # a refused socket is closed right after the upgrade
        await ws.send({"type": "ping"})
        await ws.until("pong", 5)
    except websockets.ConnectionClosed as exc:
        return Probe(None, exc.rcvd.code if exc.rcvd else None)
    return Probe(ws, None)


async def _search(server, token: str | None, word: str) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as c:
        r = await c.get("/api/v1/search", params={"q": word})
    if r.status_code != 200:
        return str(r.status_code)
    return "found" if any(word in hit["message"]["body"] for hit in r.json()["results"]) \
        else "none"


async def test_socket_search_and_bot_access_matrix(live):
    world = await sync_to_async(_build_world)()
    rooms, tokens = world["rooms"], world["tokens"]
    probes = {p: await _open(live, tokens[p]) for p in PERSONAS}
    actual: dict[str, dict[str, dict[str, str]]] = {}
    for name in FRAMES:
        for kind in KINDS:
            for persona in PERSONAS:
                probe, room_id = probes[persona], rooms[kind]
                if name == "search":
                    got = await _search(live, tokens[persona], f"{kind}word")
                elif name == "bot_command":
                    got = await probe.bot_command(room_id)
                else:
                    got = await probe.frame(name, room_id, tokens[persona])
                actual.setdefault(name, {}).setdefault(kind, {})[persona] = got
    for probe in probes.values():
        if probe.ws is not None:
            await probe.ws.close()
    wrong = [f"{name} {kind} {persona}: expected {EXPECTED[name][kind][persona]!r}, "
             f"got {got!r}"
             for name, kinds in actual.items() for kind, row in kinds.items()
             for persona, got in row.items() if EXPECTED[name][kind][persona] != got]
    assert wrong == []
