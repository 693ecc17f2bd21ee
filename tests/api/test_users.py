"""users/me, the directory, user profiles, site administration and the audit log."""

from __future__ import annotations

import pytest

from chatserver.accounts.models import ApiToken, Role, User
from chatserver.audit.models import AuditEntry

from .conftest import API, error_of


def test_me(make_user, client_for):
    alice = make_user("alice", role=Role.ADMIN)
    resp = client_for(alice).get(f"{API}/users/me")
    assert resp.status_code == 200
    assert resp.json() == {"id": alice.id, "username": "alice", "display_name": "Alice",
                           "is_bot": False, "role": "admin", "is_active": True,
                           "timezone": "UTC", "presence": "offline"}


def test_directory_lists_active_users_and_bots(make_user, client_for):
    alice = make_user("alice")
    make_user("bob")
    robo = make_user("robo", is_bot=True)
    make_user("zed", is_active=False)
    resp = client_for(alice).get(f"{API}/users")
    assert resp.status_code == 200
    body = resp.json()
    assert body["next"] is None
    assert [u["username"] for u in body["results"]] == ["alice", "bob", "robo"]
    bot = body["results"][2]
    assert bot == {"id": robo.id, "username": "robo", "display_name": "Robo", "is_bot": True,
                   "role": "member", "is_active": True, "timezone": "UTC",
                   "presence": "offline"}
    assert [u["is_bot"] for u in body["results"]] == [False, False, True]


def test_directory_search(make_user, client_for):
    alice = make_user("alice")
    make_user("bob")
    carol = make_user("carol")
    carol.display_name = "Carol Bobbins"
    carol.save()
    make_user("bobbot", is_bot=True)
    c = client_for(alice)
    assert [u["username"] for u in c.get(f"{API}/users", {"q": "BOB"}).json()["results"]] == [
        "bob", "bobbot", "carol"]
    assert c.get(f"{API}/users", {"q": "nobody-here"}).json() == {"results": [], "next": None}
    # Absurdly long queries are cut, not refused.
    assert c.get(f"{API}/users", {"q": "b" * 5000}).status_code == 200


def test_guests_only_see_people_they_share_a_room_with(make_user, client_for, make_room):
    alice = make_user("alice")
    make_user("bob")
    guest = make_user("gus", role=Role.GUEST)
    make_room(alice, members=[guest])
    names = [u["username"] for u in client_for(guest).get(f"{API}/users").json()["results"]]
    assert names == ["alice", "gus"]


def test_user_profile(make_user, client_for):
    alice = make_user("alice")
    bob = make_user("bob")
    gone = make_user("gone", is_active=False)
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(alice).get(f"{API}/users/{bob.id}")
    assert resp.status_code == 200
    assert resp.json()["username"] == "bob"
    # Deactivated users are visible to site admins only.
    assert client_for(alice).get(f"{API}/users/{gone.id}").status_code == 404
    resp = client_for(admin).get(f"{API}/users/{gone.id}")
    assert resp.status_code == 200
    assert resp.json()["is_active"] is False
    assert error_of(client_for(alice).get(f"{API}/users/999999"))["code"] == "not_found"


# --- administration ----------------------------------------------------------


NEW_USER = {"username": "dave", "password": "a long enough pass 9", "display_name": "Dave D.",
            "role": "member"}


def test_admin_creates_a_user_who_can_log_in(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(admin).post(f"{API}/users", NEW_USER, format="json")
    assert resp.status_code == 201
    dave = User.objects.get(username="dave")
    assert resp.json() == {"id": dave.id, "username": "dave", "display_name": "Dave D.",
                           "is_bot": False, "role": "member", "is_active": True,
                           "timezone": "UTC", "presence": "offline"}
    assert dave.check_password("a long enough pass 9")
    login = client_for(None).post(f"{API}/auth/login", {"username": "dave",
                                                        "password": "a long enough pass 9"},
                                  format="json")
    assert login.status_code == 200
    entry = AuditEntry.objects.get(action="user.created")
    assert (entry.actor_id, entry.target) == (admin.id, f"user:{dave.id}")
    assert entry.detail == {"username": "dave", "role": "member", "is_bot": False}


def test_admin_creates_a_bot_without_password(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(admin).post(f"{API}/users", {"username": "deploybot", "is_bot": True},
                                  format="json")
    assert resp.status_code == 201
    assert resp.json()["is_bot"] is True
    assert not User.objects.get(username="deploybot").has_usable_password()


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"username": "bad name!"}, 400, "username"),
    ({"username": ""}, 400, "username"),
    ({"username": 42}, 400, "username"),
    ({"password": "short"}, 400, "password"),
    ({"password": None}, 400, "password"),
    ({"role": "emperor"}, 400, "role"),
    ({"display_name": "x" * 151}, 400, "display_name"),
    ({"display_name": 7}, 400, "display_name"),
    ({"is_bot": "false"}, 400, "is_bot"),
    ({"username": "alice"}, 409, "username"),
])
def test_create_user_bad_input(make_user, client_for, changes, status, field):
    admin = make_user("admin", role=Role.ADMIN)
    make_user("alice")
    before = User.objects.count()
    resp = client_for(admin).post(f"{API}/users", {**NEW_USER, **changes}, format="json")
    assert resp.status_code == status
    assert field in error_of(resp)["fields"]
    assert User.objects.count() == before
    assert not AuditEntry.objects.filter(action="user.created").exists()


def test_only_owners_make_owners(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    owner = make_user("owner", role=Role.OWNER)
    resp = client_for(admin).post(f"{API}/users", {**NEW_USER, "role": "owner"}, format="json")
    assert resp.status_code == 403
    assert client_for(owner).post(f"{API}/users", {**NEW_USER, "role": "owner"},
                                  format="json").status_code == 201
    # Admins may not change owners either.
    resp = client_for(admin).patch(f"{API}/users/{owner.id}", {"role": "member"}, format="json")
    assert resp.status_code == 403
    assert User.objects.get(id=owner.id).role == "owner"


def test_change_role_is_audited(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    resp = client_for(admin).patch(f"{API}/users/{bob.id}", {"role": "guest"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["role"] == "guest"
    assert User.objects.get(id=bob.id).role == "guest"
    entry = AuditEntry.objects.get(action="user.role_changed")
    assert (entry.actor_id, entry.target, entry.detail) == (
        admin.id, f"user:{bob.id}", {"from": "member", "to": "guest"})


def test_patch_user_bad_input_changes_nothing(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    c = client_for(admin)
    for body in ({"role": "guest", "is_active": "no"}, {"role": "emperor"},
                 {"username": "robert"}, {"display_name": ["x"]}):
        resp = c.patch(f"{API}/users/{bob.id}", body, format="json")
        assert resp.status_code == 400, body
    bob.refresh_from_db()
    assert (bob.role, bob.is_active, bob.username, bob.display_name) == (
        "member", True, "bob", "Bob")
    assert AuditEntry.objects.count() == 0
    assert c.patch(f"{API}/users/999999", {"role": "guest"}, format="json").status_code == 404


def test_users_may_change_their_own_display_name_only(make_user, client_for):
    bob = make_user("bob")
    alice = make_user("alice")
    c = client_for(bob)
    resp = c.patch(f"{API}/users/{bob.id}", {"display_name": "Bobby"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["display_name"] == "Bobby"
    assert c.patch(f"{API}/users/{bob.id}", {"role": "admin"}, format="json").status_code == 403
    assert c.patch(f"{API}/users/{alice.id}", {"display_name": "x"},
                   format="json").status_code == 403
    assert User.objects.get(id=bob.id).role == "member"


def test_everyone_sets_their_own_time_zone(make_user, client_for, settings):
    bob, alice = make_user("bob"), make_user("alice")
    me = client_for(bob)
    resp = me.patch(f"{API}/users/me", {"timezone": "Europe/Paris"}, format="json")
    assert resp.status_code == 200 and resp.json()["timezone"] == "Europe/Paris"
    assert me.get(f"{API}/users/me").json()["timezone"] == "Europe/Paris"
    # Others see it (as in Slack, to know someone's local time).
    assert client_for(alice).get(f"{API}/users/{bob.id}").json()["timezone"] == "Europe/Paris"
    for bad in ("Mars/Olympus_Mons", "europe/paris", "../../../etc/passwd",
                "/usr/share/zoneinfo/UTC", "Europe/Paris ", 5, ["UTC"], {"tz": "UTC"}):
        resp = me.patch(f"{API}/users/me", {"timezone": bad}, format="json")
        assert resp.status_code == 400, bad
        assert error_of(resp)["fields"] == {"timezone": "invalid"}, bad
        assert "IANA" in error_of(resp)["message"]
    assert User.objects.get(id=bob.id).timezone == "Europe/Paris"
    # A bad field next to a good one changes nothing.
    resp = me.patch(f"{API}/users/me", {"display_name": "Bobby", "timezone": "Nope/Nope"},
                    format="json")
    assert resp.status_code == 400
    assert User.objects.get(id=bob.id).display_name == "Bob"
    resp = me.patch(f"{API}/users/me", {"display_name": "Bobby", "timezone": "Asia/Kolkata"},
                    format="json")
    assert resp.json()["display_name"] == "Bobby" and resp.json()["timezone"] == "Asia/Kolkata"
    # Empty (or null) goes back to the site's zone, and follows it.
    settings.TIME_ZONE = "America/New_York"
    for reset in ("", None):
        resp = me.patch(f"{API}/users/me", {"timezone": reset}, format="json")
        assert resp.status_code == 200 and resp.json()["timezone"] == "America/New_York"
        assert User.objects.get(id=bob.id).timezone == ""
    assert me.patch(f"{API}/users/me", {"role": "admin"}, format="json").status_code == 403
    assert me.patch(f"{API}/users/me", {}, format="json").status_code == 400
    assert me.patch(f"{API}/users/me", ["UTC"], format="json").status_code == 400
    assert client_for(None).patch(f"{API}/users/me", {"timezone": "UTC"},
                                  format="json").status_code == 401
    # Admins may set it for someone else; others may not.
    admin = make_user("root", role=Role.ADMIN)
    resp = client_for(admin).patch(f"{API}/users/{bob.id}", {"timezone": "Europe/Berlin"},
                                   format="json")
    assert resp.status_code == 200 and resp.json()["timezone"] == "Europe/Berlin"
    assert client_for(alice).patch(f"{API}/users/{bob.id}", {"timezone": "UTC"},
                                   format="json").status_code == 403


def test_deactivate_user(make_user, client_for, make_room):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    ApiToken.issue(bob, name="second")
    make_room(admin, members=[bob])
    c = client_for(admin)
    resp = c.patch(f"{API}/users/{bob.id}", {"is_active": False}, format="json")
    assert resp.status_code == 200
    assert resp.json()["is_active"] is False
    assert ApiToken.objects.filter(user=bob).count() == 0
    refused = client_for(bob).get(f"{API}/users/me")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "not_authenticated"
    assert "bob" not in [u["username"] for u in c.get(f"{API}/users").json()["results"]]
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert (entry.actor_id, entry.target) == (admin.id, f"user:{bob.id}")
    # Reactivating does not bring the old tokens back.
    assert c.patch(f"{API}/users/{bob.id}", {"is_active": True}, format="json").status_code == 200
    assert AuditEntry.objects.filter(action="user.reactivated").count() == 1
    assert client_for(bob).get(f"{API}/users/me").status_code == 401


def test_admins_cannot_deactivate_themselves(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(admin).patch(f"{API}/users/{admin.id}", {"is_active": False}, format="json")
    assert resp.status_code == 403
    assert User.objects.get(id=admin.id).is_active is True


def test_non_admins_cannot_administer(make_user, client_for):
    bob = make_user("bob")
    alice = make_user("alice")
    c = client_for(bob)
    assert c.post(f"{API}/users", NEW_USER, format="json").status_code == 403
    assert c.patch(f"{API}/users/{alice.id}", {"is_active": False},
                   format="json").status_code == 403
    assert User.objects.get(id=alice.id).is_active is True
    assert not User.objects.filter(username="dave").exists()


# --- audit -------------------------------------------------------------------


def test_audit_log_newest_first_with_filters(make_user, client_for, make_room):
    admin = make_user("admin", role=Role.ADMIN)
    bob = make_user("bob")
    c = client_for(admin)
    c.patch(f"{API}/users/{bob.id}", {"role": "guest"}, format="json")
    room = make_room(admin, "ops")
    c.patch(f"{API}/users/{bob.id}", {"is_active": False}, format="json")
    resp = c.get(f"{API}/admin/audit")
    assert resp.status_code == 200
    body = resp.json()
    assert body["next"] is None
    assert [e["action"] for e in body["results"]] == [
        "user.deactivated", "room.created", "user.role_changed"]
    first = body["results"][0]
    assert {"id", "at", "actor", "action", "target", "detail"} <= set(first)
    assert (first["actor"], first["target"]) == (admin.id, f"user:{bob.id}")
    assert first["at"].endswith("Z")
    ids = [e["id"] for e in body["results"]]
    assert ids == sorted(ids, reverse=True)

    def actions_for(**params):
        return [e["action"] for e in c.get(f"{API}/admin/audit", params).json()["results"]]

    assert actions_for(action="user.") == ["user.deactivated", "user.role_changed"]
    assert actions_for(action="room.created") == ["room.created"]
    assert actions_for(room=room.id) == ["room.created"]
    assert actions_for(actor=bob.id) == []
    assert actions_for(since="2000-01-01T00:00:00Z") == [
        "user.deactivated", "room.created", "user.role_changed"]
    assert actions_for(since="2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize("params", [{"actor": "abc"}, {"room": "x"}, {"since": "yesterday"},
                                    {"cursor": "1.5"}])
def test_audit_bad_filters_are_400(make_user, client_for, params):
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(admin).get(f"{API}/admin/audit", params)
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "invalid"


def test_audit_log_pages_by_cursor(make_user, client_for):
    admin = make_user("admin", role=Role.ADMIN)
    for i in range(105):
        AuditEntry.objects.create(actor=admin, action="test.entry", target=str(i))
    c = client_for(admin)
    first = c.get(f"{API}/admin/audit").json()
    assert len(first["results"]) == 100
    assert first["next"] == first["results"][-1]["id"]
    second = c.get(f"{API}/admin/audit", {"cursor": first["next"]}).json()
    assert [e["target"] for e in second["results"]] == ["4", "3", "2", "1", "0"]
    assert second["next"] is None


def test_audit_is_for_site_admins_only(make_user, client_for, make_room):
    bob = make_user("bob")
    room = make_room(bob)  # bob is a room admin, not a site admin
    resp = client_for(bob).get(f"{API}/admin/audit", {"room": room.id})
    assert resp.status_code == 403
    assert error_of(resp)["code"] == "forbidden"
    owner = make_user("owner", role=Role.OWNER)
    assert client_for(owner).get(f"{API}/admin/audit").status_code == 200


@pytest.mark.parametrize("params", [
    pytest.param({"since": "2020-01-01T00:00:00+99:00"}, id="since-offset-99h"),
    pytest.param({"since": "9999-12-31T23:59:59-23:59"}, id="since-year-9999"),
    pytest.param({"since": "2020-01-01T00:00:00"}, id="since-naive"),
    pytest.param({"actor": str(10**30)}, id="actor-huge"),
    pytest.param({"room": str(10**30)}, id="room-huge"),
    pytest.param({"cursor": "abc"}, id="cursor-not-int"),
    pytest.param({"action": "user\x00"}, id="action-nul"),
])
def test_audit_odd_filters_do_not_crash(make_user, client_for, params):
    admin = make_user("admin", role=Role.ADMIN)
    resp = client_for(admin).get(f"{API}/admin/audit", params)
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "invalid"
