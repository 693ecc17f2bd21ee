"""Room policies (invite, bots, archived, guests) and the site-admin role rules."""

from __future__ import annotations

from chatserver.accounts.models import Role, User
from chatserver.audit.models import AuditEntry
from chatserver.chat import actions
from chatserver.chat.models import Membership

from .conftest import API, error_of


def test_invite_policy_admins_only(make_user, client_for, make_room):
    ada, mia, nina = make_user("ada"), make_user("mia"), make_user("nina")
    room = make_room(ada, "ops", members=[mia])
    assert client_for(ada).patch(f"{API}/rooms/{room.id}", {"invite_policy": "admins"},
                                 format="json").json()["invite_policy"] == "admins"
    resp = client_for(mia).post(f"{API}/rooms/{room.id}/members", {"user_id": nina.id},
                                format="json")
    assert resp.status_code == 403
    assert "admins" in error_of(resp)["message"]
    assert not Membership.objects.filter(room=room, user=nina).exists()
    assert client_for(ada).post(f"{API}/rooms/{room.id}/members", {"user_id": nina.id},
                                format="json").json() == {"added": [nina.id]}
    bad = client_for(ada).patch(f"{API}/rooms/{room.id}", {"invite_policy": "nobody"},
                                format="json")
    assert bad.status_code == 400 and error_of(bad)["fields"] == {"invite_policy": "invalid"}


def test_bots_added_only_by_room_admins_and_where_allowed(make_user, client_for, make_room):
    ada, mia = make_user("ada"), make_user("mia")
    robo = make_user("robo", is_bot=True)
    room = make_room(ada, "ops", members=[mia])
    resp = client_for(mia).post(f"{API}/rooms/{room.id}/members", {"user_id": robo.id},
                                format="json")
    assert resp.status_code == 403
    assert "bots" in error_of(resp)["message"]
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"allow_bots": False}, format="json")
    resp = client_for(ada).post(f"{API}/rooms/{room.id}/members", {"user_id": robo.id},
                                format="json")
    assert resp.status_code == 403
    assert "does not allow bots" in error_of(resp)["message"]
    resp = client_for(ada).put(f"{API}/rooms/{room.id}/bots/{robo.id}")
    assert resp.status_code == 403
    assert not Membership.objects.filter(room=room, user=robo).exists()
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"allow_bots": True}, format="json")
    assert client_for(ada).put(f"{API}/rooms/{room.id}/bots/{robo.id}").status_code == 200
    assert Membership.objects.filter(room=room, user=robo).exists()


def test_archived_room_is_read_only(make_user, client_for, make_room, post):
    ada, mia = make_user("ada"), make_user("mia")
    room = make_room(ada, "old", members=[mia])
    msg = post(mia, room, "keep me")
    c = client_for(mia)
    c.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": "x"}, format="json")
    actions.update_room(actor=ada, room_id=room.id, changes={"archived": True})
    assert c.post(f"{API}/rooms/{room.id}/messages", {"body": "hi"},
                  format="json").status_code == 403
    assert c.patch(f"{API}/messages/{msg['id']}", {"body": "new"},
                   format="json").status_code == 403
    assert c.delete(f"{API}/messages/{msg['id']}").status_code == 403
    assert client_for(ada).delete(f"{API}/messages/{msg['id']}").status_code == 403
    assert c.post(f"{API}/messages/{msg['id']}/reactions", {"emoji": "y"},
                  format="json").status_code == 403
    assert c.delete(f"{API}/messages/{msg['id']}/reactions/x").status_code == 403
    assert c.get(f"{API}/messages/{msg['id']}").json()["body"] == "keep me"
    assert len(c.get(f"{API}/messages/{msg['id']}").json()["reactions"]) == 1


def test_guests_see_only_their_rooms_and_dm_only_roommates(make_user, client_for, make_room):
    ada, olga = make_user("ada"), make_user("olga")
    gus = make_user("gus", role=Role.GUEST)
    shared = make_room(ada, "shared", members=[gus])
    other = make_room(ada, "other")
    g = client_for(gus)
    assert g.get(f"{API}/rooms/{other.id}").status_code == 404
    assert g.post(f"{API}/rooms/{other.id}/join").status_code == 404
    assert g.get(f"{API}/rooms/{shared.id}").status_code == 200
    assert g.post(f"{API}/rooms", {"name": "mine"}, format="json").status_code == 403
    assert g.post(f"{API}/dms", {"user_ids": [olga.id]}, format="json").status_code == 403
    assert g.post(f"{API}/dms", {"user_ids": [ada.id]}, format="json").status_code == 200
    assert g.post(f"{API}/rooms/{shared.id}/members", {"user_id": olga.id},
                  format="json").status_code == 403


def test_only_owners_grant_admin_and_owner(make_user, client_for):
    owner = make_user("owner", role=Role.OWNER)
    admin = make_user("admin", role=Role.ADMIN)
    other_admin = make_user("admin2", role=Role.ADMIN)
    bob = make_user("bob")
    a = client_for(admin)
    assert a.patch(f"{API}/users/{bob.id}", {"role": "admin"}, format="json").status_code == 403
    assert a.patch(f"{API}/users/{other_admin.id}", {"role": "member"},
                   format="json").status_code == 403
    assert a.patch(f"{API}/users/{bob.id}", {"role": "guest"}, format="json").status_code == 200
    assert client_for(owner).patch(f"{API}/users/{bob.id}", {"role": "admin"},
                                   format="json").status_code == 200
    assert User.objects.get(id=bob.id).role == "admin"
    entry = AuditEntry.objects.filter(action="user.role_changed").first()
    assert entry is not None
    assert (entry.actor_id, entry.detail, entry.ip) == (
        owner.id, {"from": "guest", "to": "admin"}, "127.0.0.1")
