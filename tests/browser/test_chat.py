"""The web client in Debian's Chromium against the session's live server: sign-in,
two people chatting live (messages, reactions, edits, unread counts, threads),
inert XSS bodies, and screenshots of the main view (desktop and phone width)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import HTTP_STATUS_LINE, open_room, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def in_list(page, text: str):
    """The message rows of the room's list (not the thread panel) holding `text`."""
    return page.get_by_test_id("message-list").locator("article[data-message-id]").filter(
        has_text=text)


def in_thread(page, text: str):
    return page.get_by_test_id("thread-replies").locator("article[data-message-id]").filter(
        has_text=text)


def send(page, text: str, composer: str = "composer") -> None:
    box = page.get_by_test_id(composer).get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def test_wrong_password_shows_an_error_then_the_right_one_signs_in(live, make_user, open_page,
                                                                 console):
    make_user("carol")
    page = open_page("carol")
    # The one console line this test expects: the browser's own report of the 401
    # answering the refused sign-in.
    console.allow(HTTP_STATUS_LINE.format(status=401), f"{live.url}/api/v1/auth/login")

    page.goto(live.url + "/")
    page.get_by_test_id("login-username").fill("carol")
    page.get_by_test_id("login-password").fill("not the password")
    with page.expect_console_message(lambda m: m.type == "error"):
        page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("sidebar")).to_have_count(0)
    assert len(console.ignored) == 1, console.ignored
    console.assert_clean()

    page.get_by_test_id("login-password").fill("correct horse 42")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("login-form")).to_have_count(0)
    expect(page.get_by_test_id("sidebar")).to_contain_text("Carol")
    console.assert_clean()


def test_two_people_chat_live(live, make_user, open_page, console):
    alice = make_user("alice")
    bob = make_user("bob")
    general = actions.create_room(actor=alice, name="general", topic="Everything")
    random = actions.create_room(actor=alice, name="random")
    for room in (general, random):
        actions.invite(actor=alice, room_id=room.id, user_ids=[bob.id])

    a = open_page("alice")
    b = open_page("bob")
    sign_in(a, live, "alice")
    sign_in(b, live, "bob")
    open_room(a, general.id)
    open_room(b, general.id)
    expect(a.get_by_test_id("room-title")).to_have_text("# general")

    # Messages, both ways.
    send(a, "Hello from Alice")
    expect(in_list(b, "Hello from Alice")).to_have_attribute("data-author", "alice")
    expect(in_list(a, "Hello from Alice")).to_have_count(1)
    expect(a.get_by_test_id("message-pending")).to_have_count(0)
    send(b, "Hi Alice, Bob here")
    expect(in_list(a, "Hi Alice, Bob here")).to_have_attribute("data-author", "bob")
    hello_a, hello_b = in_list(a, "Hello from Alice"), in_list(b, "Hello from Alice")
    bob_msg_a = in_list(a, "Hi Alice, Bob here")

    # Reactions: Bob picks one, Alice sees it and joins in, Bob sees the count move.
    hello_b.hover()
    hello_b.get_by_test_id("add-reaction").click()
    hello_b.get_by_test_id("emoji-picker").locator('[data-emoji="👍"]').click()
    thumbs_a = hello_a.locator('[data-testid="reaction"][data-emoji="👍"]')
    thumbs_b = hello_b.locator('[data-testid="reaction"][data-emoji="👍"]')
    expect(thumbs_a).to_have_attribute("data-count", "1")
    expect(thumbs_a).to_have_attribute("aria-pressed", "false")
    expect(thumbs_b).to_have_attribute("aria-pressed", "true")
    thumbs_a.click()
    expect(thumbs_a).to_have_attribute("data-count", "2")
    expect(thumbs_a).to_have_attribute("aria-pressed", "true")
    expect(thumbs_b).to_have_attribute("data-count", "2")

    # Edits: Alice edits her message, Bob sees the new text and the marker.
    hello_a.hover()
    hello_a.get_by_test_id("action-edit").click()
    edit = a.get_by_test_id("edit-input")
    edit.fill("Hello from Alice (edited text)")
    edit.press("Enter")
    edited_b = in_list(b, "Hello from Alice (edited text)")
    expect(edited_b.get_by_test_id("edited-marker")).to_be_visible()
    expect(edited_b.get_by_test_id("message-body")).to_have_text("Hello from Alice (edited text)")
    expect(in_list(a, "Hello from Alice (edited text)").get_by_test_id("edited-marker")
           ).to_be_visible()

    # Unread counts: Alice writes in #random while Bob stays in #general.
    random_b = b.get_by_test_id(f"room-item-{random.id}")
    general_a = a.get_by_test_id(f"room-item-{general.id}")
    expect(random_b).to_have_attribute("data-unread", "0")
    open_room(a, random.id)
    send(a, "Anyone in random?")
    send(a, "@bob have a look")
    expect(random_b).to_have_attribute("data-unread", "2")
    expect(random_b).to_have_attribute("data-mentions", "1")
    expect(random_b.get_by_test_id("unread-badge")).to_have_text("2")
    expect(random_b.get_by_test_id("mention-badge")).to_have_text("@1")
    expect(b).to_have_title("(2) Chat")
    expect(b.get_by_test_id(f"room-item-{general.id}")).to_have_attribute("data-unread", "0")
    # ... and the other way: Bob writes in #general while Alice is in #random.
    send(b, "Back in general")
    expect(general_a).to_have_attribute("data-unread", "1")
    expect(general_a.get_by_test_id("unread-badge")).to_have_text("1")
    # Opening a room reads it.
    random_b.click()
    expect(b.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(random.id))
    expect(in_list(b, "@bob have a look")).to_be_visible()
    expect(random_b).to_have_attribute("data-unread", "0")
    expect(random_b).to_have_attribute("data-mentions", "0")
    expect(random_b.get_by_test_id("unread-badge")).to_have_count(0)
    expect(b).to_have_title("Chat")
    general_a.click()
    expect(in_list(a, "Back in general")).to_be_visible()
    expect(general_a).to_have_attribute("data-unread", "0")
    b.get_by_test_id(f"room-item-{general.id}").click()
    expect(b.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(general.id))

    # Threads: Alice replies to Bob's message in a thread; Bob sees the count and the panel.
    bob_msg_a.hover()
    bob_msg_a.get_by_test_id("action-reply").click()
    panel_a = a.get_by_test_id("thread-panel")
    expect(panel_a.get_by_test_id("thread-root")).to_contain_text("Hi Alice, Bob here")
    send(a, "A reply in the thread", composer="thread-composer")
    expect(in_thread(a, "A reply in the thread")).to_have_count(1)
    bob_msg_b = in_list(b, "Hi Alice, Bob here")
    expect(bob_msg_b.get_by_test_id("reply-count")).to_have_text("1 reply")
    expect(in_list(b, "A reply in the thread")).to_have_count(0)  # not in the room's list
    bob_msg_b.get_by_test_id("reply-count").click()
    panel_b = b.get_by_test_id("thread-panel")
    expect(panel_b).to_have_attribute("data-root-id", bob_msg_b.get_attribute("data-message-id"))
    expect(in_thread(b, "A reply in the thread")).to_have_attribute("data-author", "alice")
    send(b, "Bob answers in the thread", composer="thread-composer")
    expect(in_thread(a, "Bob answers in the thread")).to_have_attribute("data-author", "bob")
    expect(panel_a.get_by_test_id("thread-reply-count")).to_have_text("2 replies")
    expect(bob_msg_a.get_by_test_id("reply-count")).to_have_text("2 replies")

    # The main view, desktop, with the thread open.
    expect(a.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    a.mouse.move(600, 20)  # over the room header: no message shows its hover actions
    screenshot(a, "main-view.png")

    # Phone width: the room fills the screen, the sidebar is a drawer behind a button.
    b.keyboard.press("Escape")  # close the thread
    expect(panel_b).to_have_count(0)
    b.set_viewport_size({"width": 390, "height": 844})
    expect(b.get_by_test_id("composer-input")).to_be_in_viewport()
    expect(in_list(b, "Back in general")).to_be_in_viewport()
    expect(b.get_by_test_id("toggle-sidebar")).to_be_visible()
    expect(b.get_by_test_id("sidebar")).not_to_be_in_viewport()
    b.mouse.move(200, 20)
    screenshot(b, "main-view-phone.png")
    b.get_by_test_id("toggle-sidebar").click()
    # Fully in: the drawer has finished sliding in.
    expect(b.get_by_test_id("sidebar")).to_be_in_viewport(ratio=1)
    screenshot(b, "sidebar-phone.png")

    console.assert_clean()


XSS_BODIES = [
    '<img src=x onerror="window.__xss=\'img\'; alert(1)">',
    "<script>window.__xss='script'; alert(2)</script>",
    '<svg onload="window.__xss=\'svg\'"></svg>',
    '<iframe srcdoc="<script>parent.__xss=\'iframe\'</script>"></iframe>',
    "[click me](javascript:window.__xss='md-link';alert(3))",
    '<a href="javascript:window.__xss=\'a\'">raw link</a>',
]


def test_xss_bodies_are_rendered_inert(live, make_user, open_page, console, rest):
    alice = make_user("alice")
    mallory = make_user("mallory")
    room = actions.create_room(actor=alice, name="xss")
    actions.invite(actor=alice, room_id=room.id, user_ids=[mallory.id])

    page = open_page("alice")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live, "alice")
    open_room(page, room.id)

    # Arriving live from someone else, and typed in this page.
    api = rest(live, mallory)
    for body in XSS_BODIES[:-1]:
        api.post(room.id, body)
    send(page, XSS_BODIES[-1])

    def check() -> None:
        for body in XSS_BODIES:
            row = in_list(page, body)
            expect(row).to_have_count(1)
            # Shown as the text that was written, not as markup.
            expect(row.get_by_test_id("message-body")).to_have_text(body)
        bodies = page.get_by_test_id("message-list").get_by_test_id("message-body")
        expect(bodies).to_have_count(len(XSS_BODIES))
        expect(bodies.locator("img, script, svg, iframe, object, embed, [onerror], [onload]")
               ).to_have_count(0)
        hrefs = bodies.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert all(h is None or h.startswith(("http:", "https:", "mailto:")) for h in hrefs), hrefs
        assert page.evaluate("() => window.__xss") is None
        assert dialogs == []

    check()
    # Rendered from history after a reload, too.
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("message-list")).to_have_attribute("data-state", "ready")
    check()
    console.assert_clean()
