"""Login (token + session cookie), logout, rate limit, token and session refusal."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chatserver.accounts import admin_actions
from chatserver.accounts.models import ApiToken, Role

from .conftest import API, error_of

PASSWORD = "correct horse 42"


def login(client, username, password=PASSWORD):
    return client.post(f"{API}/auth/login", {"username": username, "password": password},
                       format="json")


def test_login_returns_token_user_and_cookies(make_user, client_for):
    alice = make_user("alice")
    client = APIClient()
    resp = login(client, "alice")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {"id": alice.id, "username": "alice", "display_name": "Alice",
                            "is_bot": False, "role": "member", "is_active": True,
                            "timezone": "UTC", "presence": "online"}
    assert body["token"].startswith("ct_")
    # Only the digest is stored.
    assert ApiToken.objects.filter(user=alice, name="login").count() == 1
    assert not ApiToken.objects.filter(digest=body["token"]).exists()
    assert resp.cookies["sessionid"].value
    assert resp.cookies["sessionid"]["httponly"]
    assert resp.cookies["csrftoken"].value
    # The token works on its own...
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert bearer.get(f"{API}/users/me").json()["id"] == alice.id
    # ...and so does the session cookie alone (the test client kept it).
    assert client.get(f"{API}/users/me").json()["id"] == alice.id


def test_session_writes_need_the_csrf_token(make_user, make_room):
    alice = make_user("alice")
    room = make_room(alice)
    client = APIClient(enforce_csrf_checks=True)
    resp = login(client, "alice")
    assert resp.status_code == 200
    url = f"{API}/rooms/{room.id}/messages"
    refused = client.post(url, {"body": "no csrf"}, format="json")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    csrf = client.cookies["csrftoken"].value
    ok = client.post(url, {"body": "with csrf"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 201
    assert ok.json()["body"] == "with csrf"
    # Bearer clients need no CSRF token even with enforcement on.
    bearer = APIClient(enforce_csrf_checks=True)
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {resp.json()['token']}")
    assert bearer.post(url, {"body": "bearer"}, format="json").status_code == 201


@pytest.mark.parametrize(("username", "password"), [
    ("alice", "wrong password"),
    ("nobody", PASSWORD),
    ("ALICE", PASSWORD),  # usernames are case-sensitive
])
def test_wrong_credentials_answer_401_bad_credentials(make_user, username, password):
    make_user("alice")
    resp = login(APIClient(), username, password)
    assert resp.status_code == 401
    assert error_of(resp) == {"code": "bad_credentials", "message": "Wrong username or password.",
                              "fields": {}}
    assert "sessionid" not in resp.cookies
    assert ApiToken.objects.filter(name="login").count() == 0


def test_bots_and_deactivated_users_cannot_log_in(make_user):
    make_user("robo", is_bot=True)
    make_user("gone", is_active=False)
    for name in ("robo", "gone"):
        resp = login(APIClient(), name)
        assert resp.status_code == 401
        assert error_of(resp)["code"] == "bad_credentials"


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"password": PASSWORD},
                                  {"username": 1, "password": PASSWORD},
                                  {"username": "alice", "password": None}])
def test_login_missing_fields_is_400(make_user, body):
    make_user("alice")
    resp = APIClient().post(f"{API}/auth/login", body, format="json")
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "invalid"


def test_login_rate_limit_answers_429_with_retry_after(make_user, settings, frozen_clock):
    make_user("alice")
    make_user("bob")
    # (the lockout after failures in a row is tested in tests/security/test_lockout.py)
    settings.CHAT = {**settings.CHAT, "LOGIN_RATE": (10, 60), "LOGIN_LOCK_AFTER": 100}
    client = APIClient()
    for _ in range(10):
        assert login(client, "alice", "wrong").status_code == 401
    resp = login(client, "alice")  # even the right password is refused now
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"
    assert resp["Retry-After"] == "25"  # the rest of the minute
    assert ApiToken.objects.filter(name="login").count() == 0
    # The budget is per username: bob is not affected; the key ignores case.
    assert login(client, "bob").status_code == 200
    assert login(client, "Alice").status_code == 429


def test_logout_revokes_the_token_used(make_user, client_for):
    alice = make_user("alice")
    other_token = ApiToken.issue(alice, name="script")[1]
    client = client_for(alice)
    assert client.post(f"{API}/auth/logout").status_code == 204
    resp = client.get(f"{API}/users/me")
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "not_authenticated"
    # Only the token used for the call is revoked.
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert script.get(f"{API}/users/me").status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_logout_ends_the_session_and_its_token(make_user):
    alice = make_user("alice")
    client = APIClient()
    token = login(client, "alice").json()["token"]
    other_session = APIClient()
    other_token = login(other_session, "alice").json()["token"]
    assert client.get(f"{API}/users/me").status_code == 200
    assert client.post(f"{API}/auth/logout").status_code == 204
    assert client.get(f"{API}/users/me").status_code == 401
    # The token issued with that session dies with it...
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bearer.get(f"{API}/users/me").status_code == 401
    # ...but another session (and its token) and the user's other tokens live on.
    assert other_session.get(f"{API}/users/me").status_code == 200
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert bearer.get(f"{API}/users/me").status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 2  # make_user's + other login


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer a b", "Bearer ct_not-a-real-token", "Bearer " + "x" * 300,
    "Basic YWxpY2U6cGFzcw==", "",
])
def test_bad_authorization_headers_are_401(make_user, header):
    make_user("alice")
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    resp = client.get(f"{API}/users/me")
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "not_authenticated"


def test_deactivation_refuses_tokens_and_sessions_at_once(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    alice = make_user("alice")
    browser = APIClient()
    assert login(browser, "alice").status_code == 200
    assert browser.get(f"{API}/users/me").status_code == 200
    admin_actions.update_user(actor=admin, user_id=alice.id, changes={"is_active": False})
    assert client_for(alice).get(f"{API}/users/me").status_code == 401
    assert browser.get(f"{API}/users/me").status_code == 401
    assert ApiToken.objects.filter(user=alice).count() == 0
