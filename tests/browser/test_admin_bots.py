"""The Bots tab's admin data in Chromium against a real server: a site admin
defines a runbook action (the server's 400 shown next to the field at fault,
then saved), creates an external bot account and a token for it; the token then
works on the REST API as a bearer token, and once revoked it answers 401."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from bots.builtin.models import RunbookAction
from chatserver.accounts.models import ApiToken, User
from chatserver.audit.models import AuditEntry

from .conftest import HTTP_STATUS_LINE, screenshot, sign_in
from .test_admin import open_admin

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_an_admin_defines_a_runbook_action_and_a_bot_token_that_works_until_revoked(
        live, make_user, open_page, console):
    make_user("ada", role="admin")
    page = open_page("ada")
    sign_in(page, live, "ada")
    open_admin(page, "bots")

    # --- a runbook action -------------------------------------------------------------
    page.get_by_test_id("bots-section-runbooks").click()
    expect(page.get_by_test_id("runbook-empty")).to_be_visible()
    page.get_by_test_id("runbook-new").click()
    form = page.get_by_test_id("runbook-form")
    form.get_by_test_id("rb-name").fill("restart")
    form.get_by_test_id("rb-description").fill("Restart a service")
    # The program may not be a parameter: the server says so next to the command.
    form.get_by_test_id("rb-argv").fill("{service}")
    form.get_by_test_id("rb-param-add").click()
    param = form.get_by_test_id("rb-param")
    param.get_by_test_id("rb-param-name").fill("service")
    param.get_by_test_id("rb-param-type").select_option("choice")
    param.get_by_test_id("rb-param-choices").fill("api, web")
    form.get_by_test_id("rb-timeout").fill("30")
    form.get_by_test_id("rb-policy").fill("role:admin")
    form.get_by_test_id("rb-approval").check()
    console.allow(HTTP_STATUS_LINE.format(status=400),
                  f"{live.url}/api/v1/admin/bots/runbook-actions")
    form.get_by_test_id("rb-submit").click()
    expect(form.get_by_test_id("field-error-argv")).to_contain_text("argv[0]")
    assert not RunbookAction.objects.exists()

    form.get_by_test_id("rb-argv").fill("/bin/echo\nrestarting\n{service}")
    form.get_by_test_id("rb-submit").click()
    expect(page.get_by_test_id("runbook-saved")).to_contain_text("restart")
    action = RunbookAction.objects.get(name="restart")
    assert action.argv == ["/bin/echo", "restarting", "{service}"]
    assert action.params == {"service": {"type": "choice", "choices": ["api", "web"],
                                         "required": True}}
    assert (action.timeout_seconds, action.run_policy, action.needs_approval, action.enabled) \
        == (30, ["role:admin"], True, True)
    row = page.get_by_test_id(f"runbook-{action.id}")
    expect(row).to_contain_text("/bin/echo restarting {service}")
    row.get_by_test_id("runbook-toggle").click()
    expect(row).to_have_attribute("data-enabled", "false")

    # --- an external bot with a token -------------------------------------------------
    page.get_by_test_id("bots-section-tokens").click()
    page.get_by_test_id("new-bot-username").fill("ci-bot")
    page.get_by_test_id("new-bot-display").fill("CI")
    page.get_by_test_id("new-bot-submit").click()
    tokens = page.get_by_test_id("bot-tokens")
    expect(tokens).to_contain_text("@ci-bot")
    bot = User.objects.get(username="ci-bot")
    assert bot.is_bot and not bot.has_usable_password()
    tokens.get_by_test_id("token-name").fill("ci runner")
    tokens.get_by_test_id("token-create").click()
    secret = page.get_by_test_id("bot-token")
    expect(secret).to_have_value(re.compile(r"^ct_[\w-]{20,}$"))
    raw = secret.input_value()
    stored = ApiToken.objects.get(user=bot)
    expect(page.get_by_test_id(f"token-{stored.id}")).to_contain_text("ci runner")
    expect(page.get_by_test_id("token-list")).not_to_contain_text(raw)
    screenshot(page, "admin-bot-token.png")

    me = httpx.get(f"{live.url}/api/v1/users/me", headers={"Authorization": f"Bearer {raw}"},
                   timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "ci-bot"

    row = page.get_by_test_id(f"token-{stored.id}")
    row.get_by_test_id("token-revoke").click()
    row.get_by_test_id("confirm-token-revoke").click()
    expect(page.get_by_test_id(f"token-{stored.id}")).to_have_count(0)
    expect(page.get_by_test_id("bot-token")).to_have_count(0)
    gone = httpx.get(f"{live.url}/api/v1/users/me", headers={"Authorization": f"Bearer {raw}"},
                     timeout=10)
    assert gone.status_code == 401
    assert list(AuditEntry.objects.filter(action__startswith="token.").order_by("id")
                .values_list("action", flat=True)) == ["token.created", "token.revoked"]
