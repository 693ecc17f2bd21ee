"""Rooms: list with unread counts, create, patch, archive, join/leave, members, DMs."""

from __future__ import annotations

import pytest

from chatserver.accounts.models import Role
from chatserver.audit.models import AuditEntry
from chatserver.chat import actions
from chatserver.chat.models import Membership, Room

from .conftest import API, counts, error_of

# --- the rooms list -------------------------------------------------------------


def rooms_by_name(client) -> dict[str, dict]:
    resp = client.get(f"{API}/rooms")
    assert resp.status_code == 200
    body = resp.json()
    assert body["next"] is None
    return {r["name"]: r for r in body["results"]}


def test_rooms_list_joined_first_then_public_to_join(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    make_room(alice, "zeta", members=[bob])
    make_room(alice, "alpha", members=[bob])
    make_room(alice, "secret", visibility="private")
    make_room(alice, "beta")
    archived = make_room(alice, "old")
    actions.update_room(actor=alice, room_id=archived.id, changes={"archived": True})
    resp = client_for(bob).get(f"{API}/rooms")
    results = resp.json()["results"]
    # Joined rooms (by name), then the public rooms bob may join (by name); the
    # private room and the archived room he is not in are not listed.
    assert [(r["name"], r["joined"]) for r in results] == [
        ("alpha", True), ("zeta", True), ("beta", False)]
    alpha = results[0]
    assert alpha == {
        "id": alpha["id"], "name": "alpha", "topic": "", "visibility": "public",
        "archived": False, "posting_policy": "everyone", "invite_policy": "everyone",
        "allow_bots": True, "retention_days": None, "last_seq": 2,
        "created_at": alpha["created_at"], "joined": True, "role": "member",
        "last_read_seq": 0, "unread": 0, "mentions": 0, "member_count": 2,
    }
    assert results[2]["role"] is None
    assert results[2]["last_read_seq"] is None
    assert results[2]["member_count"] == 1


def test_guests_and_bots_only_list_rooms_they_are_in(make_user, client_for, make_room):
    alice = make_user("alice")
    guest = make_user("gus", role=Role.GUEST)
    bot = make_user("robo", is_bot=True)
    make_room(alice, "open")
    make_room(alice, "with-guests", members=[guest, bot])
    for user in (guest, bot):
        assert list(rooms_by_name(client_for(user))) == ["with-guests"]


def test_unread_counts_move_and_mark_read_moves_them_back(make_user, client_for, make_room,
                                                          post):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "general", members=[bob])
    a, b = client_for(alice), client_for(bob)
    assert rooms_by_name(a)["general"]["unread"] == 0
    for i in range(3):
        resp = b.post(f"{API}/rooms/{room.id}/messages", {"body": f"hi {i}"}, format="json")
        assert resp.status_code == 201
    last = resp.json()
    mine = rooms_by_name(a)["general"]
    assert (mine["unread"], mine["mentions"], mine["last_seq"], mine["last_read_seq"]) == (
        3, 0, last["seq"], 0)
    # The author has read their own messages.
    theirs = rooms_by_name(b)["general"]
    assert (theirs["unread"], theirs["last_read_seq"]) == (0, last["seq"])
    # Thread replies and deleted messages do not count as unread.
    post(bob, room, "in a thread", thread_id=last["id"])
    first_id = b.get(f"{API}/rooms/{room.id}/messages").json()["results"][0]["id"]
    actions.delete_message(actor=bob, message_id=first_id)
    assert rooms_by_name(a)["general"]["unread"] == 2
    # Reading up to the second message leaves one.
    resp = a.post(f"{API}/rooms/{room.id}/read", {"seq": last["seq"] - 1}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"room": room.id, "seq": last["seq"] - 1}
    assert rooms_by_name(a)["general"]["unread"] == 1
    # Reading everything (a seq beyond the end is clamped to the room's last seq).
    room.refresh_from_db()
    resp = a.post(f"{API}/rooms/{room.id}/read", {"seq": 10_000}, format="json")
    assert resp.json() == {"room": room.id, "seq": room.last_seq}
    assert rooms_by_name(a)["general"]["unread"] == 0
    # The marker never moves back; the answer is the stored marker.
    resp = a.post(f"{API}/rooms/{room.id}/read", {"seq": 1}, format="json")
    assert resp.json() == {"room": room.id, "seq": room.last_seq}
    assert Membership.objects.get(room=room, user=alice).last_read_seq == room.last_seq
    assert a.get(f"{API}/rooms/{room.id}").json()["unread"] == 0


@pytest.mark.parametrize("seq", [-1, "3", None, 1.5, True, [1]])
def test_mark_read_bad_seq_is_400(make_user, client_for, make_room, seq):
    alice = make_user("alice")
    room = make_room(alice)
    resp = client_for(alice).post(f"{API}/rooms/{room.id}/read", {"seq": seq}, format="json")
    assert resp.status_code == 400
    assert error_of(resp)["fields"] == {"seq": "invalid"}


# --- create -------------------------------------------------------------------


def test_create_room(make_user, client_for):
    alice = make_user("alice")
    resp = client_for(alice).post(f"{API}/rooms", {"name": "#deploys ", "topic": "ship it",
                                                   "visibility": "private"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    room = Room.objects.get(id=body["id"])
    assert body == {
        "id": room.id, "name": "deploys", "topic": "ship it", "visibility": "private",
        "archived": False, "posting_policy": "everyone", "invite_policy": "everyone",
        "allow_bots": True, "retention_days": None, "last_seq": 1,
        "created_at": body["created_at"], "joined": True, "role": "admin", "last_read_seq": 0,
        "unread": 0, "mentions": 0, "member_count": 1,
    }
    assert Membership.objects.get(room=room).user_id == alice.id
    entry = AuditEntry.objects.get(action="room.created")
    assert (entry.actor_id, entry.room_id, entry.detail) == (
        alice.id, room.id, {"name": "deploys", "visibility": "private"})


def test_create_room_defaults_to_public(make_user, client_for):
    alice = make_user("alice")
    resp = client_for(alice).post(f"{API}/rooms", {"name": "lobby"}, format="json")
    assert resp.status_code == 201
    assert (resp.json()["visibility"], resp.json()["topic"]) == ("public", "")


def test_create_room_name_conflict_is_409_and_writes_nothing(make_user, client_for, make_room):
    alice = make_user("alice")
    make_room(alice, "ops")
    before = counts()
    audit_before = AuditEntry.objects.count()
    for name in ("ops", "#ops", " ops "):
        resp = client_for(alice).post(f"{API}/rooms", {"name": name, "visibility": "private"},
                                      format="json")
        assert resp.status_code == 409
        assert error_of(resp) == {"code": "conflict", "message": "A room with this name exists.",
                                  "fields": {"name": "taken"}}
    assert counts() == before
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": 5}, "name"),
    ({"name": "x" * 81}, "name"), ({"name": "tab\tname"}, "name"),
    ({"name": "ok", "topic": "t" * 501}, "topic"), ({"name": "ok", "topic": 3}, "topic"),
    ({"name": "ok", "visibility": "direct"}, "visibility"),
    ({"name": "ok", "visibility": "secret"}, "visibility"),
])
def test_create_room_bad_input(make_user, client_for, body, field):
    alice = make_user("alice")
    before = counts()
    resp = client_for(alice).post(f"{API}/rooms", body, format="json")
    assert resp.status_code == 400
    assert field in error_of(resp)["fields"]
    assert counts() == before


def test_guests_cannot_create_rooms(make_user, client_for):
    guest = make_user("gus", role=Role.GUEST)
    resp = client_for(guest).post(f"{API}/rooms", {"name": "mine"}, format="json")
    assert resp.status_code == 403
    assert not Room.objects.exists()


# --- get / patch ------------------------------------------------------------------


def test_room_detail_for_non_member_of_public_room(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "lobby", topic="hello")
    body = client_for(bob).get(f"{API}/rooms/{room.id}").json()
    assert (body["name"], body["topic"], body["joined"], body["role"], body["member_count"]) == (
        "lobby", "hello", False, None, 1)


def test_patch_room_by_room_admin(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "ops", members=[bob])
    resp = client_for(alice).patch(f"{API}/rooms/{room.id}",
                                   {"name": "operations", "topic": "pager duty",
                                    "posting_policy": "admins"}, format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["name"], body["topic"], body["posting_policy"], body["last_seq"]) == (
        "operations", "pager duty", "admins", 3)
    entry = AuditEntry.objects.get(action="room.updated")
    assert entry.detail == {
        "before": {"name": "ops", "topic": "", "posting_policy": "everyone"},
        "after": {"name": "operations", "topic": "pager duty", "posting_policy": "admins"}}
    # Posting policy "admins": members may not post, room admins may.
    b = client_for(bob)
    resp = b.post(f"{API}/rooms/{room.id}/messages", {"body": "hi"}, format="json")
    assert resp.status_code == 403
    assert error_of(resp)["code"] == "forbidden"
    assert client_for(alice).post(f"{API}/rooms/{room.id}/messages", {"body": "hi"},
                                  format="json").status_code == 201


def test_patch_room_by_member_is_403_and_changes_nothing(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "ops", members=[bob])
    before = counts()
    resp = client_for(bob).patch(f"{API}/rooms/{room.id}", {"topic": "mine now"}, format="json")
    assert resp.status_code == 403
    room.refresh_from_db()
    assert room.topic == ""
    assert counts() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"archived": "yes"}, "archived"), ({"posting_policy": "nobody"}, "posting_policy"),
    ({"visibility": "direct"}, "visibility"), ({"name": ""}, "name"),
    ({"topic": ["x"]}, "topic"), ({"owner": 3}, "owner"),
    ({"topic": "fine", "archived": None}, "archived"),
])
def test_patch_room_bad_input_changes_nothing(make_user, client_for, make_room, body, field):
    alice = make_user("alice")
    room = make_room(alice, "ops", topic="before")
    before = counts()
    resp = client_for(alice).patch(f"{API}/rooms/{room.id}", body, format="json")
    assert resp.status_code == 400
    assert field in error_of(resp)["fields"]
    room.refresh_from_db()
    assert (room.name, room.topic, room.archived) == ("ops", "before", False)
    assert counts() == before


def test_rename_to_taken_name_is_409(make_user, client_for, make_room):
    alice = make_user("alice")
    make_room(alice, "taken")
    room = make_room(alice, "mine")
    before = counts()
    resp = client_for(alice).patch(f"{API}/rooms/{room.id}", {"name": "taken"}, format="json")
    assert resp.status_code == 409
    assert error_of(resp)["code"] == "conflict"
    room.refresh_from_db()
    assert room.name == "mine"
    assert counts() == before


def test_archived_room_refuses_writes(make_user, client_for, make_room, post):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    room = make_room(alice, "old", members=[bob])
    msg = post(bob, room, "last words")
    a = client_for(alice)
    resp = a.patch(f"{API}/rooms/{room.id}", {"archived": True}, format="json")
    assert resp.status_code == 200
    assert resp.json()["archived"] is True
    before = counts()
    b = client_for(bob)
    for method, url, body in [
        ("post", f"{API}/rooms/{room.id}/messages", {"body": "hello?"}),
        ("patch", f"{API}/messages/{msg['id']}", {"body": "edited"}),
        ("post", f"{API}/messages/{msg['id']}/reactions", {"emoji": "+1"}),
        ("post", f"{API}/rooms/{room.id}/members", {"user_id": carol.id}),
    ]:
        resp = getattr(b, method)(url, body, format="json")
        assert resp.status_code == 403, url
        assert error_of(resp)["message"] == "The room is archived."
    assert client_for(carol).post(f"{API}/rooms/{room.id}/join").status_code == 403
    assert counts() == before
    # History stays readable, and the room admin can unarchive.
    assert [m["body"] for m in b.get(f"{API}/rooms/{room.id}/messages").json()["results"]] == [
        "last words"]
    assert a.patch(f"{API}/rooms/{room.id}", {"archived": False}, format="json").status_code == 200
    assert b.post(f"{API}/rooms/{room.id}/messages", {"body": "back"},
                  format="json").status_code == 201


def test_site_admin_manages_public_rooms_they_are_not_in(make_user, client_for, make_room):
    alice = make_user("alice")
    admin = make_user("admin", role=Role.ADMIN)
    room = make_room(alice, "pub")
    resp = client_for(admin).patch(f"{API}/rooms/{room.id}", {"topic": "moderated"},
                                   format="json")
    assert resp.status_code == 200
    assert resp.json()["topic"] == "moderated"


# --- join / leave --------------------------------------------------------------


def test_join_and_leave_public_room(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "lobby")
    b = client_for(bob)
    resp = b.post(f"{API}/rooms/{room.id}/join")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["joined"], body["role"], body["member_count"], body["last_seq"]) == (
        True, "member", 2, 2)
    # Joining again is a no-op.
    assert b.post(f"{API}/rooms/{room.id}/join").json()["last_seq"] == 2
    assert Membership.objects.filter(room=room).count() == 2
    assert b.post(f"{API}/rooms/{room.id}/leave").status_code == 204
    assert not Membership.objects.filter(room=room, user=bob).exists()
    resp = b.post(f"{API}/rooms/{room.id}/leave")
    assert resp.status_code == 403
    assert error_of(resp)["code"] == "forbidden"
    assert rooms_by_name(b)["lobby"]["joined"] is False


def test_private_rooms_cannot_be_joined(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "secret", visibility="private")
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/join")
    assert resp.status_code == 404
    assert resp.json() == client_for(bob).post(f"{API}/rooms/999999/join").json()
    assert not Membership.objects.filter(room=room, user=bob).exists()


def test_former_member_of_private_room_sees_nothing(make_user, client_for, make_room, post):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "secret", visibility="private", members=[bob])
    msg = post(alice, room, "psst")
    b = client_for(bob)
    assert b.get(f"{API}/rooms/{room.id}/messages").status_code == 200
    assert b.post(f"{API}/rooms/{room.id}/leave").status_code == 204
    for url in (f"{API}/rooms/{room.id}", f"{API}/rooms/{room.id}/messages",
                f"{API}/rooms/{room.id}/members", f"{API}/messages/{msg['id']}"):
        resp = b.get(url)
        assert resp.status_code == 404, url
        assert error_of(resp)["code"] == "not_found"
    assert "secret" not in rooms_by_name(b)


# --- members -----------------------------------------------------------------------


def test_members_list(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    robo = make_user("robo", is_bot=True)
    room = make_room(alice, "ops", members=[robo, bob])
    resp = client_for(bob).get(f"{API}/rooms/{room.id}/members")
    assert resp.status_code == 200
    body = resp.json()
    assert body["next"] is None
    assert [(m["username"], m["room_role"], m["is_bot"]) for m in body["results"]] == [
        ("alice", "admin", False), ("bob", "member", False), ("robo", "member", True)]


def test_add_members(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    dave = make_user("dave")
    room = make_room(alice, "ops", visibility="private", members=[bob])
    b = client_for(bob)  # plain members may invite
    resp = b.post(f"{API}/rooms/{room.id}/members", {"user_id": carol.id}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"added": [carol.id]}
    resp = b.post(f"{API}/rooms/{room.id}/members",
                  {"user_ids": [carol.id, dave.id, dave.id]}, format="json")
    assert resp.json() == {"added": [dave.id]}
    assert set(Membership.objects.filter(room=room).values_list("user__username", flat=True)) == {
        "alice", "bob", "carol", "dave"}
    entry = AuditEntry.objects.filter(action="room.members_added").first()
    assert entry.detail == {"user_ids": [dave.id]}
    # Adding only people already in writes nothing.
    before = counts()
    assert b.post(f"{API}/rooms/{room.id}/members", {"user_ids": [carol.id]},
                  format="json").json() == {"added": []}
    assert counts() == before


@pytest.mark.parametrize(("body", "status"), [
    ({}, 400), ({"user_ids": []}, 400), ({"user_ids": "1"}, 400), ({"user_id": "1"}, 400),
    ({"user_ids": [True]}, 400), ({"user_ids": [1.0]}, 400),
    ({"user_ids": list(range(1, 1002))}, 413),
])
def test_add_members_bad_input(make_user, client_for, make_room, body, status):
    alice = make_user("alice")
    room = make_room(alice, "ops")
    before = counts()
    resp = client_for(alice).post(f"{API}/rooms/{room.id}/members", body, format="json")
    assert resp.status_code == status
    assert counts() == before


def test_add_unknown_or_deactivated_users_is_404_and_adds_nobody(make_user, client_for,
                                                                 make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    gone = make_user("gone", is_active=False)
    room = make_room(alice, "ops")
    before = counts()
    resp = client_for(alice).post(f"{API}/rooms/{room.id}/members",
                                  {"user_ids": [bob.id, gone.id, 999999]}, format="json")
    assert resp.status_code == 404
    assert error_of(resp)["fields"] == {"user_ids": [gone.id, 999999]}
    assert counts() == before
    assert not Membership.objects.filter(room=room, user=bob).exists()


def test_remove_member(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    room = make_room(alice, "ops", members=[bob, carol])
    resp = client_for(bob).delete(f"{API}/rooms/{room.id}/members/{carol.id}")
    assert resp.status_code == 403
    assert client_for(alice).delete(f"{API}/rooms/{room.id}/members/{carol.id}").status_code == 204
    assert not Membership.objects.filter(room=room, user=carol).exists()
    entry = AuditEntry.objects.get(action="room.member_removed")
    assert (entry.actor_id, entry.target) == (alice.id, f"user:{carol.id}")
    # Removing someone who is not in the room.
    resp = client_for(alice).delete(f"{API}/rooms/{room.id}/members/{carol.id}")
    assert resp.status_code == 404
    # Members may remove themselves.
    assert client_for(bob).delete(f"{API}/rooms/{room.id}/members/{bob.id}").status_code == 204
    assert list(Membership.objects.filter(room=room).values_list("user_id", flat=True)) == [
        alice.id]


def test_set_member_role(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "ops", members=[bob])
    a = client_for(alice)
    assert a.patch(f"{API}/rooms/{room.id}/members/{bob.id}", {"role": "admin"},
                   format="json").status_code == 204
    assert Membership.objects.get(room=room, user=bob).role == "admin"
    # Bob, now a room admin, may change the room.
    assert client_for(bob).patch(f"{API}/rooms/{room.id}", {"topic": "bob's"},
                                 format="json").status_code == 200
    resp = a.patch(f"{API}/rooms/{room.id}/members/{bob.id}", {"role": "owner"}, format="json")
    assert resp.status_code == 400
    outsider = make_user("olga")
    resp = a.patch(f"{API}/rooms/{room.id}/members/{outsider.id}", {"role": "admin"},
                   format="json")
    assert resp.status_code == 404


# --- direct messages ----------------------------------------------------------------


def test_dm_same_set_of_people_same_room(make_user, client_for):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    resp = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id, carol.id]}, format="json")
    assert resp.status_code == 200
    dm = resp.json()
    assert (dm["visibility"], dm["name"], dm["joined"], dm["member_count"]) == (
        "direct", "alice, bob, carol", True, 3)
    assert [m["username"] for m in dm["members"]] == ["alice", "bob", "carol"]
    # Any member, any order, with or without themselves in the list: the same room.
    again = client_for(carol).post(f"{API}/dms", {"user_ids": [alice.id, bob.id, carol.id]},
                                   format="json")
    assert again.json()["id"] == dm["id"]
    assert client_for(bob).post(f"{API}/dms", {"user_ids": [carol.id, alice.id, alice.id]},
                                format="json").json()["id"] == dm["id"]
    assert Room.objects.filter(visibility="direct").count() == 1
    # A different set of people is a different room.
    pair = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json").json()
    assert pair["id"] != dm["id"]
    assert pair["member_count"] == 2


def test_dm_rooms_are_listed_with_their_members(make_user, client_for):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json")
    rooms = client_for(bob).get(f"{API}/rooms").json()["results"]
    assert [(r["visibility"], [m["username"] for m in r["members"]]) for r in rooms] == [
        ("direct", ["alice", "bob"])]
    assert client_for(carol).get(f"{API}/rooms").json()["results"] == []


def test_dm_reopened_after_leaving_brings_the_member_back(make_user, client_for, post):
    alice = make_user("alice")
    bob = make_user("bob")
    dm = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json").json()
    post(bob, dm["id"], "before you left")
    assert client_for(alice).post(f"{API}/rooms/{dm['id']}/leave").status_code == 204
    resp = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json")
    assert resp.status_code == 200
    assert resp.json()["id"] == dm["id"]
    assert resp.json()["joined"] is True
    history = client_for(alice).get(f"{API}/rooms/{dm['id']}/messages").json()["results"]
    assert [m["body"] for m in history] == ["before you left"]


@pytest.mark.parametrize(("body", "status"), [
    ({}, 400), ({"user_ids": "2"}, 400), ({"user_ids": [None]}, 400),
    ({"user_ids": [999999]}, 404), ({"user_ids": list(range(1, 11))}, 400),
])
def test_dm_bad_input(make_user, client_for, body, status):
    alice = make_user("alice")
    before = counts()
    resp = client_for(alice).post(f"{API}/dms", body, format="json")
    assert resp.status_code == status
    assert counts() == before


def test_dm_with_deactivated_user_is_404(make_user, client_for):
    alice = make_user("alice")
    gone = make_user("gone", is_active=False)
    resp = client_for(alice).post(f"{API}/dms", {"user_ids": [gone.id]}, format="json")
    assert resp.status_code == 404
    assert not Room.objects.exists()


def test_guest_dms_only_people_they_share_a_room_with(make_user, client_for, make_room):
    alice = make_user("alice")
    bob = make_user("bob")
    guest = make_user("gus", role=Role.GUEST)
    make_room(alice, "with-guest", members=[guest])
    g = client_for(guest)
    assert g.post(f"{API}/dms", {"user_ids": [alice.id]}, format="json").status_code == 200
    resp = g.post(f"{API}/dms", {"user_ids": [bob.id]}, format="json")
    assert resp.status_code == 403
    assert Room.objects.filter(visibility="direct").count() == 1


def test_dm_rooms_have_no_settings_and_no_invites(make_user, client_for):
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    dm = client_for(alice).post(f"{API}/dms", {"user_ids": [bob.id]}, format="json").json()
    a = client_for(alice)
    assert a.patch(f"{API}/rooms/{dm['id']}", {"topic": "x"}, format="json").status_code == 403
    assert a.post(f"{API}/rooms/{dm['id']}/members", {"user_id": carol.id},
                  format="json").status_code == 403
    assert a.delete(f"{API}/rooms/{dm['id']}/members/{bob.id}").status_code == 403
    assert client_for(carol).get(f"{API}/rooms/{dm['id']}").status_code == 404
