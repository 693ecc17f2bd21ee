"""The admin pages of the web client in Chromium against a real server: invite links
(created by an admin, accepted by a new person on the page the link opens), role
changes (the server's 403 shown as it is), deactivation (the user's open page is
signed out at once), the audit log with its filters, room admins' webhooks (a POST
to the hook shows up live; deliveries and replay) and bots in a room."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from chatserver.accounts.models import User
from chatserver.audit.models import AuditEntry
from chatserver.chat import actions
from chatserver.chat.models import Membership, Message

from .conftest import HTTP_STATUS_LINE, open_room, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def open_admin(page, tab: str = "users") -> None:
    """Through the sidebar's link (shown to site admins only), then to the tab."""
    page.get_by_test_id("open-admin").click()
    expect(page.get_by_test_id("admin-area")).to_be_visible()
    page.get_by_test_id(f"admin-tab-{tab}").click()
    expect(page.get_by_test_id("admin-area")).to_have_attribute("data-tab", tab)


def test_members_see_no_admin_link_and_the_admin_pages_refuse_them(live, make_user, open_page,
                                                                 console):
    make_user("mia")
    page = open_page("mia")
    sign_in(page, live, "mia")
    expect(page.get_by_test_id("sidebar")).to_contain_text("Mia")
    expect(page.get_by_test_id("open-admin")).to_have_count(0)
    page.evaluate("() => { window.location.hash = '#/admin/users'; }")
    expect(page.get_by_test_id("admin-denied")).to_be_visible()
    expect(page.get_by_test_id("admin-user-list")).to_have_count(0)


def test_an_admin_invites_and_the_new_person_joins_through_the_link(live, make_user, open_page,
                                                                    console):
    make_user("olga", role="owner")
    admin = open_page("olga")
    sign_in(admin, live, "olga")
    open_admin(admin, "users")

    admin.get_by_test_id("invite-role").select_option("member")
    admin.get_by_test_id("invite-hours").fill("2")
    admin.get_by_test_id("invite-note").fill("for nina")
    admin.get_by_test_id("invite-create").click()
    link = admin.get_by_test_id("invite-link")
    expect(link).to_have_value(re.compile(rf"^{re.escape(live.url)}/#/invite/inv_[\w-]+$"))
    url = link.input_value()
    row = admin.get_by_test_id("invite-list").locator("li[data-state=open]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("for nina")

    # The new person opens the link (no account, no cookie) and picks a name.
    new = open_page("nina")
    new.goto(url)
    expect(new.get_by_test_id("invite-form")).to_be_visible()
    new.get_by_test_id("invite-username").fill("nina")
    new.get_by_test_id("invite-display-name").fill("Nina N")
    new.get_by_test_id("invite-password").fill("a long new password 7")
    new.get_by_test_id("invite-submit").click()
    expect(new.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(new.get_by_test_id("sidebar")).to_contain_text("Nina N")
    assert User.objects.get(username="nina").role == "member"

    # The same link again is refused with the server's reason.
    again = open_page("again")
    console.allow(HTTP_STATUS_LINE.format(status=404), f"{live.url}/api/v1/auth/accept-invite")
    again.goto(url)
    again.get_by_test_id("invite-username").fill("nina2")
    again.get_by_test_id("invite-password").fill("a long new password 7")
    again.get_by_test_id("invite-submit").click()
    expect(again.get_by_test_id("invite-accept-error")).to_contain_text("not valid")

    admin.reload()
    expect(admin.get_by_test_id("invite-list").locator("li[data-state=used]")).to_have_count(1)


def test_an_admin_changes_a_role_deactivates_and_reads_the_audit_log(live, make_user,
                                                                    open_page, console):
    ada = make_user("ada", role="admin")
    bob = make_user("bob")
    room = actions.create_room(actor=ada, name="general")
    actions.invite(actor=ada, room_id=room.id, user_ids=[bob.id])

    victim = open_page("bob")
    sign_in(victim, live, "bob")
    open_room(victim, room.id)

    page = open_page("ada")
    sign_in(page, live, "ada")
    open_admin(page, "users")
    row = page.get_by_test_id(f"admin-user-{bob.id}")
    expect(row).to_have_attribute("data-role", "member")

    # Filters: by name, by role.
    page.get_by_test_id("admin-users-q").fill("bob")  # not "bo": @runbook matches that
    expect(page.get_by_test_id("admin-user-list").locator("tbody tr")).to_have_count(1)
    page.get_by_test_id("admin-users-q").fill("")
    page.get_by_test_id("admin-users-role").select_option("admin")
    expect(page.get_by_test_id("admin-user-list").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id(f"admin-user-{ada.id}")).to_be_visible()
    page.get_by_test_id("admin-users-role").select_option("")

    # An admin (not an owner) may make a member a guest...
    row.get_by_test_id("user-role").select_option("guest")
    expect(row).to_have_attribute("data-role", "guest")
    # ...but not an admin: the server's 403 says why, and nothing changed.
    console.allow(HTTP_STATUS_LINE.format(status=403), f"{live.url}/api/v1/users/{bob.id}")
    row.get_by_test_id("user-role").select_option("admin")
    expect(page.get_by_test_id("admin-error")).to_have_text(
        "Only owners may grant or change the admin and owner roles.")
    expect(row).to_have_attribute("data-role", "guest")
    expect(row.get_by_test_id("user-role")).to_have_value("guest")
    bob.refresh_from_db()
    assert bob.role == "guest"

    # Deactivate: asks first, then bob's open page is signed out at once.
    expect(victim.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    row.get_by_test_id("user-deactivate").click()
    row.get_by_test_id("confirm-deactivate").click()
    expect(row).to_have_attribute("data-active", "false")
    expect(victim.get_by_test_id("login-form")).to_be_visible()
    bob.refresh_from_db()
    assert not bob.is_active
    # Reactivating works, but bob's old session stays gone.
    row.get_by_test_id("user-reactivate").click()
    expect(row).to_have_attribute("data-active", "true")

    # The audit log shows all of it, newest first, and filters by action and text.
    page.get_by_test_id("admin-tab-audit").click()
    entries = page.get_by_test_id("audit-list").locator("[data-testid=audit-entry]")
    expect(entries.first).to_have_attribute("data-action", "user.reactivated")
    for action in ("user.role_changed", "user.deactivated", "user.reactivated"):
        expect(page.locator(f"[data-testid=audit-entry][data-action='{action}']")).to_have_count(1)
    page.get_by_test_id("audit-action").fill("user.deactivated")
    expect(entries).to_have_count(1)
    expect(entries.first).to_have_attribute("data-target", f"user:{bob.id}")
    expect(entries.first).to_contain_text("ada")
    page.get_by_test_id("audit-action").fill("")
    page.get_by_test_id("audit-q").fill("no such thing anywhere")
    expect(page.get_by_test_id("audit-empty")).to_be_visible()
    page.get_by_test_id("audit-q").fill("")
    page.get_by_test_id("audit-actor").fill(str(ada.id))
    page.get_by_test_id("audit-action").fill("user.")
    expect(entries).to_have_count(3)

    # The export links carry the same filters, and download the same entries.
    href = page.get_by_test_id("audit-export-csv").get_attribute("href")
    assert href and "format=csv" in href and "action=user." in href, href
    with page.expect_download() as dl:
        page.get_by_test_id("audit-export-csv").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "user.role_changed" in text and "user.deactivated" in text
    assert "room.created" not in text

    # The audit rows the UI showed are the server's.
    assert AuditEntry.objects.filter(action="user.deactivated", actor=ada).count() == 1


def test_rooms_page_lists_private_rooms_and_an_audited_join(live, make_user, open_page, console):
    ada = make_user("ada", role="admin")
    carl = make_user("carl")
    secret = actions.create_room(actor=carl, name="secret-plans", visibility="private")
    actions.post_message(actor=carl, room_id=secret.id, body="the plan is hidden")

    page = open_page("ada", viewport={"width": 390, "height": 800})  # phone width
    sign_in(page, live, "ada")
    page.evaluate("() => { window.location.hash = '#/admin/rooms'; }")
    row = page.get_by_test_id(f"admin-room-{secret.id}")
    expect(row).to_have_attribute("data-visibility", "private")
    expect(row.get_by_test_id("admin-room-members")).to_have_text("1")
    expect(row).not_to_contain_text("the plan is hidden")
    screenshot(page, "admin-rooms-phone.png")

    row.get_by_test_id("admin-room-join").click()
    expect(row.get_by_test_id("admin-join-confirm")).to_contain_text("audit log")
    row.get_by_test_id("confirm-admin-join").click()
    expect(row).to_have_attribute("data-joined", "true")
    expect(row.get_by_test_id("admin-room-members")).to_have_text("2")
    assert Membership.objects.filter(room=secret, user=ada).exists()
    assert AuditEntry.objects.filter(action="admin.room_joined", room=secret).count() == 1

    with page.expect_download() as dl:
        row.get_by_test_id("admin-room-export").click()
    lines = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "the plan is hidden" in lines

    row.get_by_test_id("admin-room-open").click()
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(secret.id))
    expect(page.get_by_test_id("message-list").locator("article").filter(
        has_text="the plan is hidden")).to_be_visible()


def test_a_room_admin_creates_a_webhook_and_its_posts_show_live(live, make_user, open_page,
                                                               console):
    rita = make_user("rita")  # a plain member, admin of her own room
    room = actions.create_room(actor=rita, name="builds")
    page = open_page("rita")
    sign_in(page, live, "rita")
    open_room(page, room.id)
    page.get_by_test_id("room-settings-button").click()
    settings = page.get_by_test_id("room-settings")
    expect(settings.get_by_test_id("room-webhooks")).to_be_visible()
    settings.get_by_test_id("webhook-name").fill("CI")
    settings.get_by_test_id("webhook-create").click()
    url_box = settings.get_by_test_id("webhook-url")
    expect(url_box).to_have_value(re.compile(rf"^{re.escape(live.url)}/hooks/\S+$"))
    url = url_box.input_value()
    expect(settings.get_by_test_id("webhook-token")).to_have_value(url.rsplit("/", 1)[1])
    hooks = settings.get_by_test_id("webhook-list").locator("li")
    expect(hooks).to_have_count(1)
    expect(hooks.first).to_contain_text("CI")
    page.keyboard.press("Escape")

    r = httpx.post(url, json={"text": "build *42* passed"}, timeout=10)
    assert r.status_code == 200, r.text
    row = page.get_by_test_id("message-list").locator("article[data-message-id]").filter(
        has_text="build 42 passed")
    expect(row).to_be_visible()
    expect(row.locator("em")).to_have_text("42")

    # Deliveries: the one above, posted; a replay posts it again.
    page.get_by_test_id("room-settings-button").click()
    settings.get_by_test_id("webhook-deliveries").click()
    delivery = settings.get_by_test_id("delivery-list").locator("[data-status=posted]")
    expect(delivery).to_have_count(1)
    delivery.get_by_test_id("delivery-replay").click()
    expect(delivery.first).to_contain_text("replayed 1×")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("message-list").locator("article[data-message-id]").filter(
        has_text="build 42 passed")).to_have_count(2)

    # Revoke: the URL stops working at once.
    page.get_by_test_id("room-settings-button").click()
    console.allow(HTTP_STATUS_LINE.format(status=404), url)
    settings.get_by_test_id("webhook-revoke").click()
    expect(settings.get_by_test_id("webhook-list").locator("li")).to_have_count(0)
    assert httpx.post(url, json={"text": "late"}, timeout=10).status_code == 404
    assert not Message.objects.filter(room=room, body__contains="late").exists()
    assert AuditEntry.objects.filter(action="webhook.created", room=room).count() == 1
    assert AuditEntry.objects.filter(action="webhook.revoked", room=room).count() == 1


def test_bots_paused_and_resumed_by_an_admin_and_enabled_in_a_room(live, make_user, open_page,
                                                                  console):
    from bots.models import BotState

    ada = make_user("ada", role="admin")
    room = actions.create_room(actor=ada, name="helpdesk")
    page = open_page("ada")
    sign_in(page, live, "ada")
    open_admin(page, "bots")
    bot_rows = page.get_by_test_id("admin-bot-list").locator("li")
    expect(bot_rows.first).to_be_visible()
    helper = User.objects.get(username="help", is_bot=True)
    row = page.get_by_test_id(f"admin-bot-{helper.id}")
    expect(row).to_have_attribute("data-paused", "false")
    row.get_by_test_id("bot-pause").click()
    expect(row).to_have_attribute("data-paused", "true")
    assert BotState.objects.get(bot=helper).paused
    row.get_by_test_id("bot-resume").click()
    expect(row).to_have_attribute("data-paused", "false")
    assert not BotState.objects.get(bot=helper).paused

    # In the room's settings: enable the bot there, then disable it again.
    open_room(page, room.id)
    page.get_by_test_id("room-settings-button").click()
    in_room = page.get_by_test_id("room-settings").get_by_test_id(f"room-bot-{helper.id}")
    expect(in_room).to_have_attribute("data-enabled", "false")
    in_room.get_by_test_id("room-bot-toggle").click()
    expect(in_room).to_have_attribute("data-enabled", "true")
    assert Membership.objects.filter(room=room, user=helper).exists()
    in_room.get_by_test_id("room-bot-toggle").click()
    expect(in_room).to_have_attribute("data-enabled", "false")
    assert not Membership.objects.filter(room=room, user=helper).exists()
    actions_seen = set(AuditEntry.objects.filter(actor=ada).values_list("action", flat=True))
    assert {"bot.paused", "bot.resumed", "bot.enabled", "bot.disabled"} <= actions_seen
