"""The site-admin API: users, invites, all rooms, admin joins, audit filters and export,
deactivation revoking sessions, login lockout, security headers, secrets kept out of logs."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chatserver.accounts.models import ApiToken, Role
from chatserver.audit.models import AuditEntry
from chatserver.siteadmin.models import Invite

from .conftest import API, error_of

PASSWORD = "correct horse 42"


def _login(client: APIClient, username: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/login", {"username": username, "password": password},
                       format="json")


def test_deactivation_revokes_sessions_and_tokens_even_after_reactivation(make_user,
                                                                          client_for):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    browser = APIClient(enforce_csrf_checks=True)
    assert _login(browser, "bob").status_code == 200
    assert browser.get(f"{API}/users/me").status_code == 200
    a = client_for(admin)
    assert a.patch(f"{API}/users/{bob.id}", {"is_active": False},
                   format="json").status_code == 200
    assert not ApiToken.objects.filter(user=bob).exists()
    assert a.patch(f"{API}/users/{bob.id}", {"is_active": True},
                   format="json").status_code == 200
    # Back in business, but the old session is gone: it must sign in again.
    assert browser.get(f"{API}/users/me").status_code in (401, 403)
    assert client_for(bob).get(f"{API}/users/me").status_code == 401
    assert _login(APIClient(), "bob").status_code == 200


def test_admin_user_list_filters(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    make_user("gus", role=Role.GUEST)
    make_user("robo", is_bot=True)
    make_user("zed", is_active=False)
    a = client_for(admin)
    names = lambda q: [u["username"] for u in a.get(f"{API}/admin/users{q}").json()["results"]]  # noqa: E731
    assert names("") == ["admin", "gus", "robo", "zed"]
    assert names("?role=guest") == ["gus"]
    assert names("?bot=true") == ["robo"]
    assert names("?active=false") == ["zed"]
    assert names("?q=ZE") == ["zed"]
    resp = a.get(f"{API}/admin/users?active=maybe")
    assert resp.status_code == 400 and error_of(resp)["fields"] == {"active": "invalid"}
    assert client_for(make_user("bob")).get(f"{API}/admin/users").status_code == 403


def test_invite_link_flow(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    a = client_for(admin)
    assert a.post(f"{API}/admin/invites", {"role": "admin"}, format="json").status_code == 403
    resp = a.post(f"{API}/admin/invites", {"role": "guest", "expires_in_hours": 2,
                                            "note": "for carol"}, format="json")
    assert resp.status_code == 201
    invite = resp.json()
    token = invite["token"]
    assert invite["state"] == "open" and invite["role"] == "guest"
    stored = Invite.objects.get(id=invite["id"])
    assert token not in stored.digest  # only the hash is kept
    assert "token" not in a.get(f"{API}/admin/invites").json()["results"][0]
    anon = APIClient()
    weak = anon.post(f"{API}/auth/accept-invite",
                     {"token": token, "username": "carol", "password": "123"}, format="json")
    assert weak.status_code == 400 and "password" in error_of(weak)["fields"]
    ok = anon.post(f"{API}/auth/accept-invite", {"token": token, "username": "carol",
                                                 "password": "a long enough pass 9"},
                   format="json")
    assert ok.status_code == 201
    assert ok.json()["user"]["role"] == "guest"
    carol = APIClient()
    carol.credentials(HTTP_AUTHORIZATION=f"Bearer {ok.json()['token']}")
    assert carol.get(f"{API}/users/me").json()["username"] == "carol"
    again = anon.post(f"{API}/auth/accept-invite", {"token": token, "username": "carol2",
                                                    "password": "a long enough pass 9"},
                      format="json")
    assert again.status_code == 404
    assert a.get(f"{API}/admin/invites").json()["results"][0]["state"] == "used"
    assert AuditEntry.objects.filter(action="invite.accepted").count() == 1


def test_expired_and_revoked_invites_are_refused(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    a = client_for(admin)
    old = a.post(f"{API}/admin/invites", {}, format="json").json()
    Invite.objects.filter(id=old["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = a.post(f"{API}/admin/invites", {}, format="json").json()
    assert a.delete(f"{API}/admin/invites/{revoked['id']}").status_code == 204
    for inv in (old, revoked):
        resp = APIClient().post(f"{API}/auth/accept-invite", {
            "token": inv["token"], "username": "late", "password": "a long enough pass 9"},
            format="json")
        assert resp.status_code == 404
    bad = a.post(f"{API}/admin/invites", {"expires_in_hours": 0}, format="json")
    assert bad.status_code == 400
    assert a.delete(f"{API}/admin/invites/999999").status_code == 404


def test_admin_sees_all_rooms_without_content_and_join_is_audited(make_user, client_for,
                                                                   make_room, post):
    ada, mia = make_user("ada"), make_user("mia")
    admin = make_user("admin", role=Role.ADMIN)
    secret = make_room(ada, "secret", visibility="private", members=[mia])
    post(mia, secret, "the plan")
    make_room(ada, "lobby")
    a = client_for(admin)
    rooms = a.get(f"{API}/admin/rooms").json()["results"]
    by_name = {r["name"]: r for r in rooms}
    assert set(by_name) == {"secret", "lobby"}
    assert by_name["secret"]["member_count"] == 2 and by_name["secret"]["joined"] is False
    assert "the plan" not in json.dumps(rooms)
    assert a.get(f"{API}/rooms/{secret.id}/messages").status_code == 404
    assert [r["name"] for r in a.get(f"{API}/admin/rooms?visibility=private").json()[
        "results"]] == ["secret"]
    resp = a.post(f"{API}/admin/rooms/{secret.id}/join")
    assert resp.status_code == 200 and resp.json()["joined"] is True
    bodies = [m["body"] for m in a.get(f"{API}/rooms/{secret.id}/messages").json()["results"]]
    assert "the plan" in bodies
    entry = AuditEntry.objects.get(action="admin.room_joined")
    assert (entry.actor_id, entry.room_id, entry.ip) == (admin.id, secret.id, "127.0.0.1")


def test_room_export_download(make_user, client_for, make_room, post):
    ada = make_user("ada")
    admin = make_user("admin", role=Role.ADMIN)
    room = make_room(ada, "ops")
    post(ada, room, "deploy done")
    resp = client_for(admin).get(f"{API}/admin/rooms/{room.id}/export")
    assert resp.status_code == 200
    lines = [json.loads(x) for x in b"".join(resp.streaming_content).decode().splitlines()]
    assert [x["type"] for x in lines][:2] == ["meta", "user"]
    assert any(x["type"] == "message" and x["body"] == "deploy done" for x in lines)
    assert "password" not in json.dumps(lines)
    assert AuditEntry.objects.filter(action="admin.room_exported", room=room).exists()


def test_audit_filters_and_exports(make_user, client_for, make_room):
    admin = make_user("admin", role=Role.ADMIN)
    ada = make_user("ada")
    a = client_for(admin)
    make_room(ada, "=cmd()")
    a.patch(f"{API}/users/{ada.id}", {"role": "guest"}, format="json")
    page = a.get(f"{API}/admin/audit?q=guest").json()["results"]
    assert [e["action"] for e in page] == ["user.role_changed"]
    assert page[0]["ip"] == "127.0.0.1"
    assert [e["action"] for e in a.get(f"{API}/admin/audit?actor={ada.id}").json()[
        "results"]] == ["room.created"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert a.get(f"{API}/admin/audit", {"since": future}).json()["results"] == []
    assert len(a.get(f"{API}/admin/audit", {"until": future}).json()["results"]) == 2
    assert a.get(f"{API}/admin/audit?until=yesterday").status_code == 400
    resp = a.get(f"{API}/admin/audit/export?format=csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode())))
    assert rows[0][:5] == ["id", "at", "actor", "actor_username", "action"]
    assert {r[4] for r in rows[1:]} == {"room.created", "user.role_changed"}
    # A room named "=cmd()" must not become a spreadsheet formula.
    assert not any(cell.startswith("=") for r in rows for cell in r)
    resp = a.get(f"{API}/admin/audit/export?format=json&action=user.")
    data = json.loads(b"".join(resp.streaming_content))
    assert [e["action"] for e in data] == ["user.role_changed"]
    assert a.get(f"{API}/admin/audit/export?format=xml").status_code == 400
    assert client_for(ada).get(f"{API}/admin/audit/export").status_code == 403


def test_audit_entries_are_append_only(make_user, client_for):
    import pytest

    admin = make_user("admin", role=Role.ADMIN)
    client_for(admin).patch(f"{API}/users/{admin.id}", {"display_name": "x"}, format="json")
    entry = AuditEntry.objects.create(actor=admin, action="test.thing")
    entry.action = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_site_settings(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    a = client_for(admin)
    assert a.get(f"{API}/admin/settings").json()["retention_days"] is None
    assert a.patch(f"{API}/admin/settings", {"retention_days": 90},
                   format="json").json()["retention_days"] == 90
    assert a.patch(f"{API}/admin/settings", {"retention_days": -1},
                   format="json").status_code == 400
    assert a.patch(f"{API}/admin/settings", {"colour": "red"}, format="json").status_code == 400
    assert AuditEntry.objects.filter(action="site.settings_changed").count() == 1


@pytest.fixture
def clock(monkeypatch, frozen_clock):
    from types import SimpleNamespace

    from chatserver.siteadmin import lockout

    state = SimpleNamespace(now=1_800_000_035.0)
    monkeypatch.setattr(lockout, "time", SimpleNamespace(time=lambda: state.now))
    return state


def test_login_lockout_with_backoff(make_user, settings, clock):
    make_user("alice")
    settings.CHAT = {**settings.CHAT, "LOGIN_RATE": (1000, 60), "LOGIN_LOCK_AFTER": 3,
                     "LOGIN_LOCK_SECONDS": 30}
    client = APIClient()
    for _ in range(3):
        assert _login(client, "alice", "wrong").status_code == 401
    resp = _login(client, "alice")  # even the right password waits
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"
    assert resp["Retry-After"] == "30"
    clock.now += 31
    assert _login(client, "alice", "wrong").status_code == 401
    resp = _login(client, "alice")
    assert resp["Retry-After"] == "60"  # doubled
    clock.now += 61
    assert _login(client, "alice").status_code == 200
    assert _login(client, "alice", "wrong").status_code == 401  # the count starts over


def test_login_lockout_per_address(make_user, settings, clock):
    for name in ("a1", "a2", "a3", "a4"):
        make_user(name)
    settings.CHAT = {**settings.CHAT, "LOGIN_RATE": (1000, 60), "LOGIN_LOCK_AFTER": 100,
                     "LOGIN_LOCK_AFTER_IP": 3}
    client = APIClient()
    for name in ("a1", "a2", "a3"):
        assert _login(client, name, "wrong").status_code == 401
    assert _login(client, "a4").status_code == 429
    other = APIClient(REMOTE_ADDR="10.0.0.9")
    assert _login(other, "a4").status_code == 200


def test_security_headers(client_for, make_user, db):
    resp = APIClient().get("/")
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]
    assert "frame-ancestors 'none'" in csp
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"
    assert resp["X-Frame-Options"] == "DENY"
    api = client_for(make_user("x")).get(f"{API}/users/me")
    assert "Content-Security-Policy" in api


def test_built_client_has_no_inline_script():
    from django.conf import settings

    page = settings.BASE_DIR / "static" / "app" / "index.html"
    if not page.exists():
        import pytest

        pytest.skip("web client not built")
    import re

    html = page.read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "the built page loads its script"
    for attrs, body in scripts:
        assert "src=" in attrs and not body.strip(), "inline script breaks the CSP"
    assert " on" not in re.sub(r"<script.*?</script>", "", html, flags=re.S).lower().replace(
        "content", "")


def test_csrf_enforced_on_cookie_writes(make_user):
    make_user("alice")
    browser = APIClient(enforce_csrf_checks=True)
    assert _login(browser, "alice").status_code == 200
    resp = browser.post(f"{API}/rooms", {"name": "nocsrf"}, format="json")
    assert resp.status_code == 403
    token = browser.cookies["csrftoken"].value
    resp = browser.post(f"{API}/rooms", {"name": "withcsrf"}, format="json",
                        HTTP_X_CSRFTOKEN=token)
    assert resp.status_code == 201


def test_secrets_never_logged(make_user, client_for, caplog):
    admin = make_user("admin", role=Role.ADMIN)
    caplog.set_level(logging.DEBUG)
    secret_pw = "a very secret pass 77"
    a = client_for(admin)
    created = a.post(f"{API}/users", {"username": "dave", "password": secret_pw},
                     format="json")
    assert created.status_code == 201
    login = _login(APIClient(), "dave", secret_pw)
    token = login.json()["token"]
    _login(APIClient(), "dave", secret_pw + "x")
    invite = a.post(f"{API}/admin/invites", {}, format="json").json()["token"]
    APIClient().post(f"{API}/auth/accept-invite", {"token": invite, "username": "eve",
                                                   "password": secret_pw}, format="json")
    APIClient().post(f"{API}/auth/accept-invite", {"token": invite, "username": "eve2",
                                                   "password": secret_pw}, format="json")
    text = caplog.text + json.dumps([e.detail for e in AuditEntry.objects.all()])
    assert caplog.records  # the requests did log (e.g. the refused attempts)
    for secret in (secret_pw, token, invite, admin.raw_token):
        assert secret not in text
    # and never again in an API answer after creation
    users = a.get(f"{API}/admin/users").json()
    assert token not in json.dumps(users) and secret_pw not in json.dumps(users)


def test_api_and_webhook_tokens_never_logged(make_user, client_for, make_room, caplog):
    """A whole cycle: an admin issues a bot's API token and creates an incoming
    webhook (whose URL is its credential), both are used and misused - answers
    from 200 to 405 that Django logs with the request path - and neither token
    appears in any log line; the hook's lines keep the token's hint only."""
    caplog.set_level(logging.DEBUG)
    admin = make_user("admin", role=Role.ADMIN)
    a = client_for(admin)
    bot_id = a.post(f"{API}/users", {"username": "ci", "is_bot": True},
                    format="json").json()["id"]
    api_token = a.post(f"{API}/admin/users/{bot_id}/tokens", {"name": "ci"},
                       format="json").json()["token"]
    room = make_room(admin, "builds")
    a.put(f"{API}/rooms/{room.id}/bots/{bot_id}")
    hook = a.post(f"{API}/rooms/{room.id}/webhooks", {"name": "CI", "secret": "s3"},
                  format="json").json()
    hook_token = hook["token"]
    assert hook["url"].endswith(f"/hooks/{hook_token}")

    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert bot.get(f"{API}/users/me").status_code == 200
    assert bot.get(f"{API}/rooms/987654321").status_code == 404
    assert bot.post(f"{API}/rooms/{room.id}/messages", {"body": "x" * 100_000},
                    format="json").status_code == 413
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}x")
    assert bad.get(f"{API}/users/me").status_code == 401
    web = APIClient()
    path = f"/hooks/{hook_token}"
    answers = [
        web.post(path, {"text": "build 7 green"}, format="json").status_code,
        web.post(path, "{not json", content_type="application/json").status_code,
        web.post(f"{path}/github", {"zen": "x"}, format="json",
                 HTTP_X_GITHUB_EVENT="ping", HTTP_X_HUB_SIGNATURE_256="sha256=00").status_code,
        web.get(path).status_code,
        web.post(f"{path}/nope", {"text": "x"}, format="json").status_code,
        web.post(f"{path}?via=query", {"text": "x"}, format="json").status_code,
    ]
    a.patch(f"{API}/rooms/{room.id}", {"archived": True}, format="json")
    answers.append(web.post(path, {"text": "late"}, format="json").status_code)
    assert answers == [200, 400, 401, 405, 404, 200, 403]

    lines = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for secret in (api_token, hook_token):
        assert not [line for line in lines if secret in line]
    hinted = [r.getMessage() for r in caplog.records if r.name == "django.request"
              and f"/hooks/{hook_token[:8]}…" in r.getMessage()]
    assert len(hinted) == 5, caplog.text  # the 400, 401, 405, 404 and 403 above
