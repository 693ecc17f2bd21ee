"""The page's first requests start from the small entry, before the app has
loaded (frontend/src/net/prefetch.ts), and the app uses their answers instead
of asking again; an app file that does not arrive is said, not a blank page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_first_requests_are_asked_once_and_used(live, make_user, open_page, console):
    alice = make_user("alice")
    room = actions.create_room(actor=alice, name="boot")
    for i in range(3):
        actions.post_message(actor=alice, room_id=room.id, body=f"line {i}")
    page = open_page("alice")
    sign_in(page, live, "alice")
    asked: list[str] = []
    page.goto("about:blank")  # (from the app's page a new hash would not reload it)
    page.on("request", lambda r: asked.append(r.url.removeprefix(live.url)))
    page.goto(f"{live.url}/#/room/{room.id}")  # a signed-in load, cold app
    expect(page.get_by_test_id("message-list")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("message-body").last).to_have_text("line 2")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    first = ["/api/v1/users/me", "/api/v1/rooms", f"/api/v1/rooms/{room.id}/messages?limit=50"]
    # Each once: the app took the early answers (a URL the entry and the app
    # spelled differently would be asked twice).
    assert [u for u in asked if u in first] == first, asked
    # And before the app's own file was asked for.
    app = next(i for i, u in enumerate(asked) if re.search(r"/assets/start-[\w-]+\.js$", u))
    assert all(asked.index(u) < app for u in first), asked


def test_an_app_file_that_does_not_arrive_is_said(live, make_user, open_page, console):
    console.allow(r"Failed to (load|fetch)|net::ERR_FAILED|dynamically imported module", "")
    make_user("alice")
    page = open_page("alice")
    sign_in(page, live, "alice")
    page.route(re.compile(r".*/assets/start-[\w-]+\.js$"), lambda route: route.abort())
    page.goto(f"{live.url}/")
    expect(page.get_by_role("alert")).to_have_text(
        "Cannot load the chat. Reload the page to try again.")
