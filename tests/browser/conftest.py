"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API)
against real server processes, with console-error collection and screenshots.

The sync Playwright API keeps an asyncio loop registered on the main thread for as
long as it runs, which makes Django refuse ORM calls ("async context"). Nothing runs
concurrently with the test code there, so DJANGO_ALLOW_ASYNC_UNSAFE is set for the
lifetime of the browser (the documented way to combine Playwright with Django).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.liveserver import ROOT, LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
APP_INDEX = ROOT / "static" / "app" / "index.html"
PASSWORD = "correct horse 42"  # tests/conftest.py make_user's default

# Playwright's expect() timeout: generous for CI, never reached when things work.
EXPECT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One Chromium for the package; each test opens its own contexts."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package "
            "(apt-get install chromium); they never download a browser.",
            pytrace=False,
        )
    if not APP_INDEX.exists():
        pytest.fail(
            f"{APP_INDEX} is missing: build the web client first "
            "(cd frontend && npm ci && npm run build).",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield b
            finally:
                b.close()


@pytest.fixture(autouse=True)
def _no_send_limit_in_this_process(monkeypatch):
    """Messages posted with the actions in this process are not rate limited (the
    server processes get the same from tests/liveserver.py)."""
    from django.conf import settings

    monkeypatch.setitem(settings.CHAT, "SEND_RATE", (100_000, 10))


@pytest.fixture
def own_server(live_database_url, transactional_db) -> Iterator[list[LiveServer]]:
    """A server process of this test's own (not the session's), on its own port.
    The list holds the current process; a restart appends the new one."""
    servers = [LiveServer(live_database_url).start()]
    yield servers
    for s in servers:
        s.stop()


# --- console errors -------------------------------------------------------------------


@dataclass
class ConsoleLog:
    """Console errors and uncaught page errors of the pages it watches.

    `allowed` holds (regex, url prefix) pairs: a console error is ignored only when
    its text matches the regex AND the location it reports starts with the prefix.
    Uncaught exceptions ('pageerror') are never ignored.
    """

    allowed: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def watch(self, page, name: str) -> None:
        page.on("console", lambda msg: self._console(name, msg))
        page.on("pageerror", lambda exc: self.errors.append(f"[{name}] pageerror: {exc}"))

    def allow(self, pattern: str, url_prefix: str) -> None:
        self.allowed.append((re.compile(pattern), url_prefix))

    def _console(self, name: str, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        line = f"[{name}] console.error: {msg.text} (at {url or '?'})"
        if any(rx.search(msg.text) and url.startswith(prefix) for rx, prefix in self.allowed):
            self.ignored.append(line)
        else:
            self.errors.append(line)

    def assert_clean(self) -> None:
        assert not self.errors, "errors in the browser console:\n" + "\n".join(self.errors)


# The browser's own line for a request the server answered with an error status,
# e.g. the 401 of a refused sign-in. It names no URL in its text; its location does.
HTTP_STATUS_LINE = r"^Failed to load resource: the server responded with a status of {status} "
# The browser's own lines while nothing listens on the port (server down).
REFUSED_FETCH_LINE = r"^Failed to load resource: net::ERR_CONNECTION_REFUSED$"


def refused_socket_line(ws_url: str) -> str:
    return (rf"^WebSocket connection to '{re.escape(ws_url)}' failed: "
            r"(Error in connection establishment: net::ERR_CONNECTION_REFUSED)?$")


@pytest.fixture
def console(request) -> Iterator[ConsoleLog]:
    """The console of every page the test opens. A console error or an uncaught
    exception that the test did not allow fails the test, even one logged after
    its last explicit assert_clean() (checked once its pages are closed)."""
    log = ConsoleLog()
    yield log
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        log.assert_clean()


# --- pages ----------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def open_page(request, browser, console) -> Iterator[Callable]:
    """open_page(name, viewport=None): a page in a fresh context (its own cookies),
    watched for console errors and closed at the end of the test. When the test
    failed, each page's last state is saved to test-artifacts/failed-<test>-<name>.png."""
    pages: list[tuple[str, object]] = []

    def open_(name: str, viewport: dict[str, int] | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        page = context.new_page()
        pages.append((name, page))
        console.watch(page, name)
        return page

    yield open_
    report = getattr(request.node, "rep_call", None)
    for name, page in pages:
        if report is not None and report.failed:
            try:
                screenshot(page, f"failed-{request.node.name}-{name}.png")
            except Exception as exc:  # a crashed page: the failure says enough
                print(f"no screenshot of {name}: {exc}")
        page.context.close()


def sign_in(page, server, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the socket is live."""
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")


def open_room(page, room_id: int) -> None:
    """Go to a room and wait for its message list to be loaded."""
    from playwright.sync_api import expect

    page.evaluate("id => { window.location.hash = `#/room/${id}`; }", room_id)
    expect(page.get_by_test_id("room-view")).to_have_attribute("data-room-id", str(room_id))
    expect(page.get_by_test_id("message-list")).to_have_attribute("data-state", "ready")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


class Rest:
    """Bearer-token REST calls to one server, for test data and checks."""

    def __init__(self, server, user):
        self.client = httpx.Client(base_url=f"{server.url}/api/v1", timeout=10.0,
                                   headers={"Authorization": f"Bearer {user.raw_token}"})

    def __call__(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 204),
                 **kwargs):
        r = self.client.request(method, path, **kwargs)
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def post(self, room_id: int, body: str, thread_id: int | None = None) -> dict:
        data: dict = {"body": body}
        if thread_id is not None:
            data["thread_id"] = thread_id
        return self("POST", f"/rooms/{room_id}/messages", json=data, expect=(201,))

    def messages(self, room_id: int) -> list[dict]:
        return self("GET", f"/rooms/{room_id}/messages", params={"limit": 100})["results"]

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def rest() -> Iterator[Callable]:
    """rest(server, user) -> Rest; closed at the end of the test."""
    made: list[Rest] = []

    def make(server, user) -> Rest:
        r = Rest(server, user)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()
