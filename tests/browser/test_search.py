"""Message search in Chromium against the real GET /api/v1/search (no mocked answers):
an operator query, highlighted snippets, only rooms the searcher can read, the
server's hints and errors shown, and a result opening its room at the message
(a thread reply at its root), far back in the history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import HTTP_STATUS_LINE, open_room, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_search_with_operators_against_the_real_server(live, make_user, open_page, console):
    alice = make_user("alice")
    bob = make_user("bob")
    ops = actions.create_room(actor=alice, name="ops")
    random = actions.create_room(actor=alice, name="random")
    hidden = actions.create_room(actor=alice, name="hidden", visibility="private")
    for room in (ops, random):
        actions.invite(actor=alice, room_id=room.id, user_ids=[bob.id])

    target = actions.post_message(actor=alice, room_id=ops.id,
                                  body="the deploy failed on staging api-7f9c").message
    root = actions.post_message(actor=alice, room_id=ops.id, body="release train today").message
    reply = actions.post_message(actor=bob, room_id=ops.id, body="deployed to production",
                                 thread_id=root["id"]).message
    # Push the target far beyond the first page of history.
    for i in range(120):
        actions.post_message(actor=alice, room_id=ops.id, body=f"filler {i}")
    other = actions.post_message(actor=alice, room_id=random.id, body="deploy party").message
    actions.post_message(actor=alice, room_id=hidden.id, body="secret deploy keys")

    page = open_page("bob")
    sign_in(page, live, "bob")
    open_room(page, random.id)

    page.keyboard.press("Control+k")
    dialog = page.get_by_test_id("search-dialog")
    box = dialog.get_by_test_id("search-input")
    expect(box).to_be_focused()
    box.fill(f"in:#{ops.name} deploy")
    results = dialog.get_by_test_id("search-result")
    expect(results).to_have_count(2)
    ids = {results.nth(i).get_attribute("data-message-id") for i in range(2)}
    assert ids == {str(target["id"]), str(reply["id"])}
    for i in range(2):
        expect(results.nth(i)).to_have_attribute("data-room-id", str(ops.id))
    hit = dialog.locator(f'[data-testid=search-result][data-message-id="{target["id"]}"]')
    snippet = hit.get_by_test_id("search-snippet")
    expect(snippet.locator("mark")).to_have_text("deploy")
    expect(snippet).to_contain_text("the deploy failed on staging api-7f9c")
    stemmed = dialog.locator(f'[data-testid=search-result][data-message-id="{reply["id"]}"]')
    expect(stemmed.get_by_test_id("search-snippet").locator("mark")).to_have_text("deployed")

    # Click: ops opens at that old message, in view and marked.
    hit.click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(ops.id))
    row = page.locator(f'article[data-message-id="{target["id"]}"]')
    expect(row).to_be_in_viewport()
    expect(row).to_have_class(re.compile(r"\bhighlighted\b"))
    assert page.evaluate("() => location.hash") == f"#/room/{ops.id}/message/{target['id']}"

    # Without in:, every room bob may read, never alice's private room; newest first.
    page.keyboard.press("Control+k")
    box.fill("deploy")
    dialog.get_by_test_id("search-sort-recent").click()
    expect(results).to_have_count(3)
    expect(results.first).to_have_attribute("data-message-id", str(other["id"]))
    expect(dialog).not_to_contain_text("secret deploy keys")

    # A thread reply opens its room at the thread's root.
    dialog.locator(f'[data-testid=search-result][data-message-id="{reply["id"]}"]').click()
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(ops.id))
    expect(page.locator(f'article[data-message-id="{root["id"]}"]')).to_be_in_viewport()

    # The server's hints (an unknown operator searched as text) and errors are shown.
    page.keyboard.press("Control+k")
    box.fill("deploy color:blue")
    hints = dialog.get_by_test_id("search-server-hints")
    expect(hints).to_contain_text("color: is not a search operator")
    expect(hints.locator("p")).to_have_count(1)
    console.allow(HTTP_STATUS_LINE.format(status=400), f"{live.url}/api/v1/search")
    box.fill("deploy before:yesterday-ish")
    expect(dialog.get_by_test_id("search-error")).to_contain_text("before")
    # A private room bob cannot read is the same as none: a 400 with the reason.
    box.fill("deploy in:#hidden")
    expect(dialog.get_by_test_id("search-error")).to_contain_text("hidden")
