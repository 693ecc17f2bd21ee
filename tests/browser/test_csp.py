"""The Content-Security-Policy in a real browser: the web client, the API docs
page and the Django admin run without a single CSP violation.

Violations are caught two ways: a `securitypolicyviolation` listener installed
before any page script runs (Playwright init script), and Chromium's console
error for a blocked resource. The console fixture already fails the test on any
console error; the listener makes the assertion explicit and names the directive.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatserver.chat import actions

from .conftest import open_room, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} `
                    + `at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


def watched(open_page, name: str):
    page = open_page(name)
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def test_a_violation_would_be_caught(live, open_page, console):
    """The listener works: an inline script on the app's page is blocked and recorded."""
    # The console reports it too (with no location), which would fail any other test.
    console.allow(r"violates the following Content Security Policy directive", "")
    page = watched(open_page, "probe")
    page.goto(live.url + "/")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = 1'; document.head.append(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))


def assert_no_violations(page, response) -> None:
    assert response is not None and "content-security-policy" in response.headers, \
        "the page must be served with a CSP"
    page.wait_for_timeout(300)  # a violation event is dispatched asynchronously
    assert page.evaluate("window.__csp") == []


def test_web_client_runs_under_the_csp(live, make_user, open_page, console):
    alice = make_user("alice")
    room = actions.create_room(actor=alice, name="csp")
    actions.post_message(actor=alice, room_id=room.id,
                         body="**bold**, `code`, a [link](https://example.com) and\n"
                              "```\nblock\n```")
    page = watched(open_page, "app")
    response = page.goto(live.url + "/")
    sign_in(page, live, "alice")
    open_room(page, room.id)
    expect(page.get_by_test_id("message-list")).to_contain_text("bold")
    assert_no_violations(page, response)
    console.assert_clean()


def test_api_docs_page_runs_under_its_csp(live, open_page, console):
    page = watched(open_page, "docs")
    response = page.goto(live.url + "/api/v1/docs/")
    # Swagger UI renders the schema it fetched: its scripts and styles all loaded.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chat server API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert_no_violations(page, response)
    console.assert_clean()


def test_django_admin_runs_under_the_csp(live, make_user, open_page, console):
    admin = make_user("root", role="owner")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    # The admin pages link no icon, so Chromium asks for /favicon.ico: served, so
    # the console stays clean (console.assert_clean fails on any error).
    page = watched(open_page, "admin")
    response = page.goto(live.url + "/django-admin/login/")
    expect(page.locator("#login-form")).to_be_visible()
    assert_no_violations(page, response)
    page.fill("#id_username", "root")
    page.fill("#id_password", "correct horse 42")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    response = page.goto(live.url + "/django-admin/accounts/user/")
    expect(page.locator("#changelist")).to_be_visible()
    assert_no_violations(page, response)
    console.assert_clean()
