"""The web client's profile dialog: a person sets their time zone, and the remind
bot then reads "at 17:00" in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatserver.accounts.models import User
from chatserver.chat import actions

from .conftest import open_room, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_set_time_zone_in_the_profile_then_remind_reads_it(live, make_user, open_page, console,
                                                          rest):
    pia = make_user("pia")
    room = actions.create_room(actor=pia, name="ops")
    api = rest(live, pia)
    remind = next(b for b in api("GET", "/bots")["results"] if b["username"] == "remind")
    api("PUT", f"/rooms/{room.id}/bots/{remind['id']}")

    page = open_page("pia")
    sign_in(page, live, "pia")
    page.get_by_test_id("me").click()
    dialog = page.get_by_test_id("profile-dialog")
    zone = dialog.get_by_test_id("profile-timezone")
    expect(zone).to_have_value("UTC")  # the site's, until she picks one
    zone.select_option("Asia/Tokyo")
    dialog.get_by_test_id("profile-name").fill("Pia P.")
    dialog.get_by_test_id("profile-save").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("me")).to_have_text("Pia P.")
    pia.refresh_from_db()
    assert (pia.timezone, pia.display_name) == ("Asia/Tokyo", "Pia P.")
    assert api("GET", "/users/me")["timezone"] == "Asia/Tokyo"

    # The remind bot reads "at 17:00" in her zone and says so.
    open_room(page, room.id)
    box = page.get_by_test_id("composer").get_by_test_id("composer-input")
    box.fill("@remind me at 17:00 call the Osaka office")
    box.press("Enter")
    reply = page.get_by_test_id("message-list").locator("article[data-message-id]").filter(
        has_text="I will remind you")
    expect(reply).to_contain_text(re.compile(r"17:00 JST"))

    # Reopened, the dialog shows her zone.
    page.get_by_test_id("me").click()
    expect(page.get_by_test_id("profile-timezone")).to_have_value("Asia/Tokyo")
    page.keyboard.press("Escape")
    assert User.objects.get(id=pia.id).timezone == "Asia/Tokyo"
