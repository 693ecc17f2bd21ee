"""Fixtures for the REST API tests: fast password hashing, no send limit by
default, and small factories that go through the real actions (the one write
path), so the data the API reads is shaped exactly as production writes it."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from chatserver.chat import actions
from chatserver.chat.models import Message, Room
from chatserver.events.models import RoomEvent

API = "/api/v1"
_room_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    # PBKDF2 at production cost would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Most tests post more than the per-user send budget; test_limits sets it back.
    settings.CHAT = {**settings.CHAT, "SEND_RATE": (100_000, 10), "BOT_SEND_RATE": (100_000, 10)}
    # Every new test client loads the middleware, and WhiteNoise would index every
    # static file each time; the API tests serve no static files.
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def make_room(db):
    """make_room(owner, name=None, visibility="public", members=[...]) -> Room.

    The owner becomes the room admin (create_room); members are invited by the owner.
    """

    def make(owner, name: str | None = None, *, visibility: str = "public",
             members=(), topic: str = "") -> Room:
        room = actions.create_room(actor=owner, name=name or f"room-{next(_room_names)}",
                                   topic=topic, visibility=visibility)
        if members:
            actions.invite(actor=owner, room_id=room.id, user_ids=[m.id for m in members])
        room.refresh_from_db()
        return room

    return make


@pytest.fixture
def post(db):
    """post(author, room, body="hi", **kw) -> message dict, through actions.post_message."""

    def send(author, room, body: str = "hello", **kw: Any) -> dict[str, Any]:
        room_id = room if isinstance(room, int) else room.id
        return actions.post_message(actor=author, room_id=room_id, body=body, **kw).message

    return send


def raw(client, method: str, path: str, data: bytes | str,
        content_type: str = "application/json"):
    """Send a raw request body (bytes as given, no JSON encoding); GET sends none."""
    if method.upper() == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, data=data, content_type=content_type)


def send_json(client, method: str, path: str, data: Any = None):
    if data is None:
        return getattr(client, method.lower())(path)
    return getattr(client, method.lower())(path, data=json.dumps(data),
                                           content_type="application/json")


def error_of(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def counts() -> tuple[int, int, int]:
    """(messages, room events, rooms): compare before/after a failing request."""
    return Message.objects.count(), RoomEvent.objects.count(), Room.objects.count()


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freeze the rate limiter's clock mid-window (35 s into a minute, 5 s into ten
    seconds), so a budget test never straddles a window boundary."""
    from types import SimpleNamespace

    from chatserver.chat import ratelimit

    now = 1_800_000_035.0
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))
    return now
