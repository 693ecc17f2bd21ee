"""A database outage answers 503 `unavailable` with Retry-After, never a 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from chatserver.chat import actions

pytestmark = pytest.mark.django_db


def test_a_post_during_a_database_outage_is_503_and_may_be_retried(make_user, make_room,
                                                                   client_for, monkeypatch):
    alice = make_user("alice")
    room = make_room(alice)
    c = client_for(alice)

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(actions, "_insert_messages", down)
    r = c.post(f"/api/v1/rooms/{room.id}/messages", {"body": "hi", "client_msg_id": "x1"},
               format="json")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "unavailable"
    assert r["Retry-After"] == "1"
    monkeypatch.undo()
    again = c.post(f"/api/v1/rooms/{room.id}/messages", {"body": "hi", "client_msg_id": "x1"},
                   format="json")
    assert again.status_code == 201  # nothing was half-written by the failed try
