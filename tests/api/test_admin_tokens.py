"""API tokens of bot accounts, issued and revoked by site admins
(GET/POST /admin/users/{id}/tokens, DELETE /admin/users/{id}/tokens/{token_id})."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from chatserver.accounts.models import ApiToken, Role
from chatserver.audit.models import AuditEntry

from .conftest import API, error_of


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_admin_creates_an_external_bot_and_its_token_works_until_revoked(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    a = client_for(admin)
    created = a.post(f"{API}/users", {"username": "deploybot", "display_name": "Deploy",
                                      "is_bot": True}, format="json")
    assert created.status_code == 201, created.json()
    bot_id = created.json()["id"]
    assert created.json()["is_bot"] is True
    # A bot account has no usable password: it cannot sign in, only use tokens.
    login = APIClient().post(f"{API}/auth/login", {"username": "deploybot", "password": ""},
                             format="json")
    assert login.status_code in (400, 401)
    assert a.get(f"{API}/admin/users/{bot_id}/tokens").json() == {"results": [], "next": None}

    resp = a.post(f"{API}/admin/users/{bot_id}/tokens", {"name": " ci runner "}, format="json")
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    raw = body["token"]
    assert raw.startswith("ct_") and len(raw) > 30
    assert body["name"] == "ci runner"
    assert body["last_used_at"] is None
    # Only the digest is stored.
    assert not ApiToken.objects.filter(digest=raw).exists()

    me = _bearer(raw).get(f"{API}/users/me")
    assert me.status_code == 200
    assert me.json()["id"] == bot_id

    listed = a.get(f"{API}/admin/users/{bot_id}/tokens")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [(r["id"], r["name"]) for r in rows] == [(body["id"], "ci runner")]
    assert set(rows[0]) == {"id", "name", "created_at", "last_used_at"}
    assert raw not in listed.content.decode()

    gone = a.delete(f"{API}/admin/users/{bot_id}/tokens/{body['id']}")
    assert gone.status_code == 204
    assert _bearer(raw).get(f"{API}/users/me").status_code == 401
    assert a.get(f"{API}/admin/users/{bot_id}/tokens").json()["results"] == []
    again = a.delete(f"{API}/admin/users/{bot_id}/tokens/{body['id']}")
    assert again.status_code == 404

    audit = list(AuditEntry.objects.filter(action__startswith="token.").order_by("id")
                 .values_list("action", "target", "actor_id"))
    assert audit == [("token.created", f"user:{bot_id}", admin.id),
                     ("token.revoked", f"user:{bot_id}", admin.id)]
    entry = AuditEntry.objects.get(action="token.created")
    assert raw not in str(entry.detail)
    assert entry.detail["token_id"] == body["id"]


def test_tokens_are_issued_for_active_bots_only_and_bad_names_are_refused(make_user,
                                                                            client_for):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    asleep = make_user("asleep", is_bot=True, is_active=False)
    robo = make_user("robo", is_bot=True)
    a = client_for(admin)
    before = ApiToken.objects.count()

    person = a.post(f"{API}/admin/users/{bob.id}/tokens", {"name": "x"}, format="json")
    assert person.status_code == 400
    assert error_of(person)["fields"] == {"user": "not_a_bot"}
    inactive = a.post(f"{API}/admin/users/{asleep.id}/tokens", {"name": "x"}, format="json")
    assert inactive.status_code == 400
    assert error_of(inactive)["fields"] == {"user": "inactive"}
    for bad in ({}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": "x" * 101},
                {"name": "a\x07b"}, {"name": None}):
        resp = a.post(f"{API}/admin/users/{robo.id}/tokens", bad, format="json")
        assert resp.status_code == 400, bad
        assert error_of(resp)["fields"] == {"name": "invalid"}, bad
    extra = a.post(f"{API}/admin/users/{robo.id}/tokens", {"name": "x", "scope": "all"},
                   format="json")
    assert extra.status_code == 400
    assert "scope" in error_of(extra)["fields"]
    not_json = a.post(f"{API}/admin/users/{robo.id}/tokens", ["x"], format="json")
    assert not_json.status_code == 400
    assert a.post(f"{API}/admin/users/987654321/tokens", {"name": "x"},
                  format="json").status_code == 404
    assert a.get(f"{API}/admin/users/987654321/tokens").status_code == 404
    assert a.get(f"{API}/admin/users/99999999999999999999/tokens").status_code == 404
    assert ApiToken.objects.count() == before
    assert not AuditEntry.objects.filter(action="token.created").exists()


def test_a_token_is_revoked_only_through_its_own_account(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    one = make_user("one", is_bot=True)
    two = make_user("two", is_bot=True)
    a = client_for(admin)
    token_of_two = ApiToken.objects.get(user=two)
    wrong = a.delete(f"{API}/admin/users/{one.id}/tokens/{token_of_two.id}")
    assert wrong.status_code == 404
    assert ApiToken.objects.filter(id=token_of_two.id).exists()
    assert client_for(two).get(f"{API}/users/me").status_code == 200


def test_only_site_admins_and_only_owners_for_owner_bots(make_user, client_for):
    owner = make_user("owner", role=Role.OWNER)
    admin = make_user("admin", role=Role.ADMIN)
    member = make_user("mia")
    big = make_user("bigbot", is_bot=True, role=Role.OWNER)
    robo = make_user("robo", is_bot=True)
    m = client_for(member)
    assert m.get(f"{API}/admin/users/{robo.id}/tokens").status_code == 403
    assert m.post(f"{API}/admin/users/{robo.id}/tokens", {"name": "x"},
                  format="json").status_code == 403
    tid = ApiToken.objects.get(user=robo).id
    assert m.delete(f"{API}/admin/users/{robo.id}/tokens/{tid}").status_code == 403
    assert APIClient().get(f"{API}/admin/users/{robo.id}/tokens").status_code == 401
    # A token acts with its account's role: an admin may not mint owner powers.
    denied = client_for(admin).post(f"{API}/admin/users/{big.id}/tokens", {"name": "x"},
                                    format="json")
    assert denied.status_code == 403
    assert client_for(owner).post(f"{API}/admin/users/{big.id}/tokens", {"name": "x"},
                                  format="json").status_code == 201
    assert ApiToken.objects.filter(id=tid).exists()


def _token_writes(queries) -> list[str]:
    table = ApiToken._meta.db_table
    return [q["sql"] for q in queries
            if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"]]


def test_last_used_at_is_stamped_on_use_at_most_once_a_minute(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    robo = make_user("robo", is_bot=True)
    a = client_for(admin)
    raw = a.post(f"{API}/admin/users/{robo.id}/tokens", {"name": "ci"},
                 format="json").json()["token"]
    ci = _bearer(raw)

    def listed() -> str | None:
        rows = a.get(f"{API}/admin/users/{robo.id}/tokens").json()["results"]
        [row] = [r for r in rows if r["name"] == "ci"]
        return row["last_used_at"]

    assert listed() is None
    # First use: one UPDATE stamps the token.
    before = timezone.now()
    with CaptureQueriesContext(connection) as first:
        assert ci.get(f"{API}/users/me").status_code == 200
    assert len(_token_writes(first.captured_queries)) == 1
    stamp = listed()
    assert stamp is not None
    assert before <= datetime.fromisoformat(stamp) <= timezone.now()

    # Used again within the minute (a read and a write): no UPDATE of the token, and
    # the stamp stays; nor does the admin's own listing rewrite the bot's token.
    room = a.post(f"{API}/rooms", {"name": "ci"}, format="json").json()
    a.post(f"{API}/rooms/{room['id']}/members", {"user_id": robo.id}, format="json")
    with CaptureQueriesContext(connection) as again:
        assert ci.get(f"{API}/users/me").status_code == 200
        assert ci.post(f"{API}/rooms/{room['id']}/messages", {"body": "build green"},
                       format="json").status_code == 201
    assert _token_writes(again.captured_queries) == []
    assert listed() == stamp

    # A stamp older than a minute (the clock moved on) is renewed by the next use.
    ApiToken.objects.filter(name="ci").update(
        last_used_at=timezone.now() - timedelta(seconds=61))
    old = listed()
    with CaptureQueriesContext(connection) as later:
        assert ci.get(f"{API}/users/me").status_code == 200
    assert len(_token_writes(later.captured_queries)) == 1
    assert datetime.fromisoformat(listed()) > datetime.fromisoformat(old)
    # Other tokens of the account are untouched; a refused token stamps nothing.
    assert ApiToken.objects.filter(user=robo).exclude(name="ci").get().last_used_at is None
    with CaptureQueriesContext(connection) as refused:
        assert _bearer(raw + "x").get(f"{API}/users/me").status_code == 401
    assert _token_writes(refused.captured_queries) == []
