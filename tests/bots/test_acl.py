"""Access policies: principals on real identities, argument predicates, fail closed."""

from __future__ import annotations

import pytest

from bots import acl
from bots.sdk import command
from chatserver.accounts.models import Role
from chatserver.chat import actions
from chatserver.chat.models import Membership


def _cmd(**kw):
    @command("deploy <env:choice(staging,production)>", **kw)
    def deploy(self, ctx, env):
        pass

    return deploy.__bot_meta__["command"]


@pytest.fixture
def world(make_user):
    owner = make_user("owner", role=Role.OWNER)
    alice = make_user("alice")
    admin = make_user("adm", role=Role.ADMIN)
    guest = make_user("gus", role=Role.GUEST)
    room = actions.create_room(actor=owner, name="ops")
    actions.invite(actor=owner, room_id=room.id, user_ids=[alice.id, guest.id])
    return {"owner": owner, "alice": alice, "admin": admin, "guest": guest, "room": room}


def deny(cmd, user, room, args):
    membership = Membership.objects.filter(room=room, user=user).first()
    return acl.denial(cmd, user, room, membership, args)


def test_principals(world):
    room = world["room"]
    member_only = _cmd()
    assert deny(member_only, world["alice"], room, {"env": "staging"}) is None
    assert "room:member" in deny(member_only, world["admin"], room, {"env": "staging"})
    room_admin = _cmd(run="room:admin")
    assert deny(room_admin, world["owner"], room, {"env": "staging"}) is None
    assert deny(room_admin, world["alice"], room, {"env": "staging"}) is not None
    by_role = _cmd(run="role:member")
    assert deny(by_role, world["alice"], room, {"env": "staging"}) is None
    assert deny(by_role, world["guest"], room, {"env": "staging"}) is not None
    by_id = _cmd(run=f"user:{world['alice'].id}")
    assert deny(by_id, world["alice"], room, {"env": "staging"}) is None
    assert deny(by_id, world["owner"], room, {"env": "staging"}) is not None
    in_room = _cmd(rooms=["#elsewhere"])
    assert "only runs in #elsewhere" in deny(in_room, world["alice"], room, {"env": "staging"})


def test_argument_predicates(world):
    cmd = _cmd(when=[(lambda a: a.env == "production", "role:admin")])
    assert deny(cmd, world["alice"], world["room"], {"env": "staging"}) is None
    assert "role:admin" in deny(cmd, world["alice"], world["room"], {"env": "production"})
    assert deny(cmd, world["owner"], world["room"], {"env": "production"}) is None


def test_a_policy_that_raises_denies(world):
    cmd = _cmd(when=[(lambda a: a.missing_attribute, "everyone")])
    assert "failed, so it is refused" in deny(cmd, world["owner"], world["room"],
                                              {"env": "staging"})
    risky = _cmd(approve=lambda a: 1 / 0)
    assert acl.needs_approval(risky, {"env": "staging"}) is True


def test_bots_and_deactivated_users_never_command(world, make_user):
    bot = make_user("robo", is_bot=True)
    cmd = _cmd(run="everyone")
    assert deny(cmd, bot, world["room"], {"env": "staging"}) is not None
    world["alice"].is_active = False
    assert deny(cmd, world["alice"], world["room"], {"env": "staging"}) is not None
