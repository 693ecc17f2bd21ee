"""Keyboard use and phone width of the web client: walking the rooms with Alt+Up/Down,
opening the message search with Ctrl+K or "/", completing operators, walking the
results with the arrows and opening one into its room's context, and the search
dialog at phone width.

GET /api/v1/search is answered here by a Playwright route with the contract's shape
(API.md, Search), so the client's side is tested on its own; everything else (the
rooms, the jump into context with `around=`) is the real server."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import HTTP_STATUS_LINE, open_room, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_keyboard_rooms_and_search_into_context(live, make_user, open_page, console):
    alice = make_user("alice")
    alpha = actions.create_room(actor=alice, name="alpha")
    beta = actions.create_room(actor=alice, name="beta")
    actions.create_room(actor=alice, name="gamma")
    # An old message deep in beta's history, far beyond the first page.
    target = actions.post_message(actor=alice, room_id=beta.id,
                                  body="the <b>needle</b> deploy of api-7f9c").message
    for i in range(120):
        actions.post_message(actor=alice, room_id=beta.id, body=f"filler {i}")

    # Typing "/" in the composer asks for the bot catalogue; a server without
    # GET /api/v1/bots (the bots work not merged) answers 404, which the browser logs.
    console.allow(HTTP_STATUS_LINE.format(status=404), f"{live.url}/api/v1/bots")
    page = open_page("alice")
    asked: list[dict] = []

    def answer_search(route):
        from urllib.parse import parse_qs, urlparse

        params = {k: v[0] for k, v in parse_qs(urlparse(route.request.url).query).items()}
        asked.append(params)
        snippet = ("the &lt;b&gt;<mark>needle</mark>&lt;/b&gt; deploy of api-7f9c "
                   "<img src=x onerror=\"window.__xss=1\">")
        body = {"results": [{"message": target, "room": {"id": beta.id, "name": "beta",
                                                          "visibility": "public"},
                             "highlight": snippet}], "next": None}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/v1/search?*", answer_search)
    sign_in(page, live, "alice")
    open_room(page, alpha.id)

    # Alt+Down / Alt+Up walk the rooms in sidebar order.
    page.keyboard.press("Alt+ArrowDown")
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(beta.id))
    page.keyboard.press("Alt+ArrowUp")
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(alpha.id))

    # "/" typed in the composer is just a slash; Ctrl+K opens the search from anywhere.
    composer = page.get_by_test_id("composer-input")
    composer.focus()
    page.keyboard.type("/")
    expect(composer).to_have_value("/")
    expect(page.get_by_test_id("search-dialog")).to_have_count(0)
    composer.fill("")
    page.keyboard.press("Control+k")
    dialog = page.get_by_test_id("search-dialog")
    box = page.get_by_test_id("search-input")
    expect(box).to_be_focused()
    expect(dialog.get_by_test_id("search-hints")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # "/" outside a text field opens it too.
    page.get_by_test_id("room-title").click()
    page.keyboard.press("/")
    expect(box).to_be_focused()

    # Operators complete rooms; Enter takes the suggestion.
    page.keyboard.type("needle in:#be")
    expect(dialog.get_by_test_id("search-suggestion")).to_have_count(1)
    expect(dialog.get_by_test_id("search-suggestion")).to_have_attribute("data-value", "in:#beta")
    page.keyboard.press("Enter")
    expect(box).to_have_value("needle in:#beta ")

    # Results: the snippet's <mark> is the only markup; the rest is text.
    result = dialog.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    # The half-typed "needle in:#be" may have been searched (and answered) while
    # the suggestion was open; the completed query follows after the debounce.
    for _ in range(50):
        if asked and asked[-1]["q"] == "needle in:#beta":
            break
        page.wait_for_timeout(100)
    assert asked and asked[-1]["q"] == "needle in:#beta", asked
    expect(result).to_have_count(1)
    snippet = result.get_by_test_id("search-snippet")
    expect(snippet.locator("mark")).to_have_text("needle")
    expect(snippet).to_contain_text('the <b>needle</b> deploy of api-7f9c <img src=x')
    expect(snippet.locator("img, b")).to_have_count(0)
    assert page.evaluate("() => window.__xss") is None

    # Arrow down to the result, Enter: beta opens at that old message, in view.
    page.keyboard.press("ArrowDown")
    expect(result).to_have_class("search-result active")
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(beta.id))
    row = page.locator(f'article[data-message-id="{target["id"]}"]')
    expect(row).to_be_in_viewport()
    expect(row.get_by_test_id("message-body")).to_have_text("the <b>needle</b> deploy of api-7f9c")
    assert page.evaluate("() => location.hash") == f"#/room/{beta.id}/message/{target['id']}"

    # Phone width: the search opens from the room header and fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("room-search-button").click()
    expect(dialog).to_be_in_viewport(ratio=1)
    expect(box).to_be_focused()
    screenshot(page, "search-phone.png")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
