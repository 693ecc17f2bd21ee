"""Pinned messages in Chromium: one person pins from the message actions, another
sees the marker and the room's Pinned panel change live, jumps from the panel to
a pinned message far back in the history, and unpins."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import open_room, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def row(page, message_id: int):
    return page.get_by_test_id("message-list").get_by_test_id(f"message-{message_id}")


def test_pin_in_one_browser_shows_in_the_other_and_jumps(live, make_user, open_page, console,
                                                         rest):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.create_room(actor=alice, name="release")
    actions.invite(actor=alice, room_id=room.id, user_ids=[bob.id])
    decision = actions.post_message(actor=alice, room_id=room.id,
                                    body="Decision: ship on Thursday").message
    for i in range(60):  # push the decision out of the first page the client loads
        actions.post_message(actor=bob, room_id=room.id, body=f"chatter {i}")
    freeze = actions.post_message(actor=alice, room_id=room.id,
                                  body="Deploy freeze until Friday").message

    a, b = open_page("alice"), open_page("bob")
    sign_in(a, live, "alice")
    sign_in(b, live, "bob")
    open_room(a, room.id)
    open_room(b, room.id)
    expect(row(b, decision["id"])).to_have_count(0)  # not loaded: far back

    # Bob keeps the Pinned panel open: nothing yet.
    b.get_by_test_id("room-pins-button").click()
    panel_b = b.get_by_test_id("pins-panel")
    expect(panel_b.get_by_test_id("pins-empty")).to_be_visible()

    # Alice pins from the message's actions; both browsers show it at once.
    freeze_a = row(a, freeze["id"])
    freeze_a.hover()
    freeze_a.get_by_test_id("action-pin").click()
    expect(freeze_a.get_by_test_id("pinned-marker")).to_contain_text("Pinned by Alice")
    expect(freeze_a.get_by_test_id("action-unpin")).to_have_attribute("aria-pressed", "true")
    items_b = panel_b.get_by_test_id("pin-item")
    expect(items_b).to_have_count(1)
    expect(items_b.first).to_have_attribute("data-message-id", str(freeze["id"]))
    expect(items_b.first.get_by_test_id("pin-body")).to_have_text("Deploy freeze until Friday")
    expect(items_b.first.get_by_test_id("pin-meta")).to_contain_text("Pinned by Alice")
    expect(row(b, freeze["id"]).get_by_test_id("pinned-marker")).to_be_visible()

    # A pin through the REST door (a script, a bot) arrives live too, on top.
    rest(live, alice)("POST", f"/rooms/{room.id}/messages/{decision['id']}/pin",
                      expect=(201,))
    expect(items_b).to_have_count(2)
    expect(items_b.first).to_have_attribute("data-message-id", str(decision["id"]))
    expect(b.get_by_test_id("room-pins-button")).to_contain_text("2")
    screenshot(b, "pins-panel.png")

    # Jump: the old message is loaded around itself and shown; the panel closes.
    items_b.first.get_by_test_id("pin-jump").click()
    expect(panel_b).to_have_count(0)
    decision_b = row(b, decision["id"])
    expect(decision_b).to_be_visible()
    expect(decision_b.get_by_test_id("pinned-marker")).to_contain_text("Pinned by Alice")
    assert b.evaluate("window.location.hash") == f"#/room/{room.id}/message/{decision['id']}"

    # Bob unpins the freeze from the panel; Alice's marker goes away live.
    b.get_by_test_id("room-pins-button").click()
    freeze_item = b.get_by_test_id("pins-panel").locator(
        f'[data-testid="pin-item"][data-message-id="{freeze["id"]}"]')
    freeze_item.get_by_test_id("pin-unpin").click()
    expect(b.get_by_test_id("pins-panel").get_by_test_id("pin-item")).to_have_count(1)
    expect(freeze_a.get_by_test_id("pinned-marker")).to_have_count(0)
    expect(freeze_a).not_to_have_attribute("data-pinned", "true")
    pins = rest(live, bob)("GET", f"/rooms/{room.id}/pins")["results"]
    assert [m["id"] for m in pins] == [decision["id"]]
    console.assert_clean()
