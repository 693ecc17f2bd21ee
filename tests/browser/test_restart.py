"""The page survives its server restarting: the socket reconnects and catches up,
and a message typed while the server was down is delivered exactly once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions
from tests.liveserver import LiveServer

from .conftest import REFUSED_FETCH_LINE, open_room, refused_socket_line, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_page_survives_a_server_restart(own_server, make_user, open_page, console, rest):
    server = own_server[0]
    alice = make_user("alice")
    bob = make_user("bob")
    room = actions.create_room(actor=alice, name="ops")
    actions.invite(actor=alice, room_id=room.id, user_ids=[bob.id])

    # While nothing listens on the port, the browser itself reports the refused
    # socket attempts (and any refused fetch) on the console: those lines, for this
    # server only, are the ones this test expects.
    console.allow(refused_socket_line(server.ws_url), server.url)
    console.allow(REFUSED_FETCH_LINE, server.url)

    page = open_page("alice")
    sign_in(page, server, "alice")
    open_room(page, room.id)
    status = page.get_by_test_id("connection-status")
    rows = page.get_by_test_id("message-list").locator("article[data-message-id]")
    box = page.get_by_test_id("composer-input")

    box.fill("before the restart")
    box.press("Enter")
    expect(rows.filter(has_text="before the restart")).to_have_count(1)

    # The same page throughout: no reload may paper over a lost socket.
    page.evaluate("() => { window.__samePage = true; }")

    # The server goes away.
    server.stop()
    expect(status).to_have_attribute("data-state", "reconnecting")

    # Typed and sent while it is down: shown as pending, not lost.
    body = "typed while the server was down"
    box.fill(body)
    box.press("Enter")
    pending = page.get_by_test_id("message-pending")
    expect(pending).to_have_count(1)
    expect(pending).to_have_attribute("data-status", "queued")
    expect(pending).to_contain_text(body)
    expect(pending.get_by_test_id("pending-status")).to_have_text("Waiting for connection…")
    expect(status).to_contain_text("1 message will be sent when back.")

    # Someone else writes while this page is disconnected (straight to the database:
    # no server is running to take it).
    actions.post_message(actor=bob, room_id=room.id, body="bob wrote while you were away")

    # A new server process on the same port.
    restarted = LiveServer(server.database_url, port=server.port)
    own_server.append(restarted)
    restarted.start()

    expect(status).to_have_attribute("data-state", "online", timeout=20_000)
    expect(rows.filter(has_text="bob wrote while you were away")).to_have_attribute(
        "data-author", "bob")
    sent = rows.filter(has_text=body)
    expect(sent).to_have_count(1)
    expect(sent).to_have_attribute("data-author", "alice")
    expect(page.get_by_test_id("message-pending")).to_have_count(0)
    assert page.evaluate("() => window.__samePage") is True

    # Delivered exactly once, as the server tells it.
    history = rest(restarted, bob).messages(room.id)
    assert [m["body"] for m in history].count(body) == 1, history
    assert [m["body"] for m in history].count("bob wrote while you were away") == 1, history
    assert [m["body"] for m in history].count("before the restart") == 1, history
    mine = next(m for m in history if m["body"] == body)
    assert mine["author"]["username"] == "alice"
    assert sent.get_attribute("data-message-id") == str(mine["id"])
    # ... and stays once: still one row after the page settles (no late duplicate).
    page.wait_for_timeout(300)
    expect(rows.filter(has_text=body)).to_have_count(1)
    console.assert_clean()
