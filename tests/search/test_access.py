"""Only messages in rooms the searcher can read today; deleted never; edited by new text."""

from __future__ import annotations

from chatserver.accounts import admin_actions
from chatserver.accounts.models import Role
from chatserver.chat import actions

from .conftest import API


def test_private_room_only_while_member(make_user, make_room, post, bodies):
    owner, member, outsider = make_user(), make_user(), make_user()
    secret = make_room(owner, "secret", visibility="private", members=[member])
    post(owner, secret, "quarterly numbers leaked")
    assert bodies(member, "quarterly") == ["quarterly numbers leaked"]
    assert bodies(outsider, "quarterly") == []
    actions.leave_room(actor=member, room_id=secret.id)
    assert bodies(member, "quarterly") == []


def test_removed_member_no_longer_finds_private_messages(make_user, make_room, post, bodies):
    owner, member = make_user(), make_user()
    secret = make_room(owner, "hush", visibility="private", members=[member])
    post(owner, secret, "salary review")
    actions.remove_member(actor=owner, room_id=secret.id, user_id=member.id)
    assert bodies(member, "salary") == []


def test_public_rooms_not_joined_are_searched_and_say_so(make_user, make_room, post, search):
    owner, reader = make_user(), make_user()
    town = make_room(owner, "town")
    post(owner, town, "lunch at noon")
    results = search(reader, "lunch")["results"]
    assert [r["message"]["body"] for r in results] == ["lunch at noon"]
    assert results[0]["room"] == {"id": town.id, "name": "town", "visibility": "public",
                                  "archived": False, "joined": False}
    actions.join_room(actor=reader, room_id=town.id)
    assert search(reader, "lunch")["results"][0]["room"]["joined"] is True


def test_guests_and_bots_search_only_their_rooms(make_user, make_room, post, bodies):
    owner = make_user()
    guest = make_user(role=Role.GUEST)
    bot = make_user(is_bot=True)
    town = make_room(owner, "plaza")
    mine = make_room(owner, "guestroom", members=[guest, bot])
    post(owner, town, "coffee machine broken")
    post(owner, mine, "coffee is here")
    assert bodies(guest, "coffee") == ["coffee is here"]
    assert bodies(bot, "coffee") == ["coffee is here"]


def test_direct_messages_only_for_their_members(make_user, post, bodies):
    a, b, c = make_user(), make_user(), make_user()
    dm = actions.open_dm(actor=a, user_ids=[b.id])
    post(a, dm.id, "secret handshake")
    assert bodies(b, "handshake") == ["secret handshake"]
    assert bodies(c, "handshake") == []


def test_private_room_name_in_operator_does_not_leak(make_user, make_room, client_for):
    owner, outsider = make_user(), make_user()
    make_room(owner, "board", visibility="private")
    hidden = client_for(outsider).get(API, {"q": "x in:#board"})
    missing = client_for(outsider).get(API, {"q": "x in:#nosuchroom"})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["error"]["message"] == "No room named #board that you can read."
    assert missing.json()["error"]["message"] == "No room named #nosuchroom that you can read."


def test_deleted_messages_never_appear(make_user, make_room, post, bodies):
    owner = make_user()
    room = make_room(owner, "trash")
    gone = post(owner, room, "password hunter2 oops")
    post(owner, room, "password rotated")
    actions.delete_message(actor=owner, message_id=gone["id"])
    assert bodies(owner, "password") == ["password rotated"]
    assert bodies(owner, "hunter2") == []
    assert bodies(owner, "in:#trash", sort="recent") == ["password rotated"]


def test_edited_messages_found_by_new_text_only(make_user, make_room, post, bodies):
    owner = make_user()
    room = make_room(owner, "edits")
    msg = post(owner, room, "meeting on tuesday at srv-old-01")
    actions.edit_message(actor=owner, message_id=msg["id"], body="meeting on thursday")
    assert bodies(owner, "thursday") == ["meeting on thursday"]
    assert bodies(owner, "tuesday") == []
    assert bodies(owner, "srv-old-01") == []


def test_deactivated_user_cannot_search(make_user, make_room, post, client_for):
    admin = make_user(role=Role.ADMIN)
    user = make_user()
    post(admin, make_room(admin, "hall"), "hello world")
    admin_actions.update_user(actor=admin, user_id=user.id, changes={"is_active": False})
    assert client_for(user).get(API, {"q": "hello"}).status_code == 401
    assert client_for(None).get(API, {"q": "hello"}).status_code == 401
