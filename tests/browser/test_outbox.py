"""Unsent messages survive a page reload: typed while the server is down, the page
closed and opened again once it is back, the message is delivered exactly once
(same client_msg_id), and a further reload sends nothing more."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions
from chatserver.chat.models import Message
from tests.liveserver import LiveServer

from .conftest import REFUSED_FETCH_LINE, open_room, refused_socket_line, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_message_typed_offline_is_sent_once_after_a_reload(own_server, make_user, open_page,
                                                           console, rest):
    server = own_server[0]
    alice = make_user("alice")
    room = actions.create_room(actor=alice, name="ops")
    # The browser's own lines while nothing listens on the port: expected here.
    console.allow(refused_socket_line(server.ws_url), server.url)
    console.allow(REFUSED_FETCH_LINE, server.url)

    page = open_page("alice")
    sign_in(page, server, "alice")
    open_room(page, room.id)
    status = page.get_by_test_id("connection-status")
    box = page.get_by_test_id("composer-input")

    server.stop()
    expect(status).to_have_attribute("data-state", "reconnecting")
    body = "typed while down, then the page was reloaded"
    box.fill(body)
    box.press("Enter")
    pending = page.get_by_test_id("message-pending")
    expect(pending).to_have_attribute("data-status", "queued")
    client_msg_id = pending.get_attribute("data-client-msg-id")
    assert client_msg_id

    # The page goes away with the message unsent (a reload cannot load while the
    # server is down, so the tab leaves and comes back once it is up).
    page.goto("about:blank")
    restarted = LiveServer(server.database_url, port=server.port)
    own_server.append(restarted)
    restarted.start()
    assert not Message.objects.filter(room_id=room.id, body=body).exists()

    page.goto(f"{restarted.url}/#/room/{room.id}")
    expect(status).to_have_attribute("data-state", "online", timeout=20_000)
    rows = page.get_by_test_id("message-list").locator("article[data-message-id]")
    expect(rows.filter(has_text=body)).to_have_count(1)
    expect(rows.filter(has_text=body)).to_have_attribute("data-author", "alice")
    expect(page.get_by_test_id("message-pending")).to_have_count(0)

    stored = list(Message.objects.filter(room_id=room.id, body=body))
    assert len(stored) == 1, stored
    assert stored[0].client_msg_id == client_msg_id

    # Reloading again sends nothing more: the outbox was emptied by the ack.
    page.reload()
    expect(status).to_have_attribute("data-state", "online")
    expect(rows.filter(has_text=body)).to_have_count(1)
    page.wait_for_timeout(300)
    assert Message.objects.filter(room_id=room.id, body=body).count() == 1
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('chat.outbox'))") == []
    console.assert_clean()
