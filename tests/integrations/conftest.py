"""Fixtures for webhook tests: a room with an admin, hooks made through the API,
and helpers that POST raw bodies to /hooks/<token> like a real sender."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatserver.chat import actions
from chatserver.chat.models import Message
from tests.api.conftest import frozen_clock  # noqa: F401 (a shared fixture)

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
    settings.CHAT = {**settings.CHAT, "SEND_RATE": (100_000, 10),
                     "BOT_SEND_RATE": (100_000, 10), "WEBHOOK_RATE": (100_000, 10)}


@pytest.fixture
def ops(make_user):
    """#ops: admin `ada` (room admin), member `mia`."""
    ada = make_user("ada")
    mia = make_user("mia")
    room = actions.create_room(actor=ada, name="ops", visibility="public")
    actions.invite(actor=ada, room_id=room.id, user_ids=[mia.id])
    return {"room": room, "admin": ada, "member": mia}


@pytest.fixture
def make_hook(client_for):
    """make_hook(admin, room, **fields) -> the 201 body of POST .../webhooks."""

    def make(user, room, **fields: Any) -> dict[str, Any]:
        body = {"name": "CI", "kind": "incoming", **fields}
        resp = client_for(user).post(f"{API}/rooms/{room.id}/webhooks", body, format="json")
        assert resp.status_code == 201, resp.content
        return resp.json()

    return make


def hook_path(hook: dict[str, Any], fmt: str = "") -> str:
    path = f"/hooks/{hook['token']}"
    return f"{path}/{fmt}" if fmt else path


def send(client, path: str, payload: Any = None, *, raw: bytes | str | None = None,
         content_type: str = "application/json", **headers: str):
    data = raw if raw is not None else json.dumps(payload)
    return client.post(path, data=data, content_type=content_type, **headers)


def room_messages(room) -> list[Message]:
    return list(Message.objects.filter(room=room, thread_root=None).order_by("seq"))
