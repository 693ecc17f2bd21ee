"""REST: the bot list for autocomplete, enabling bots per room, resuming a paused bot."""

from __future__ import annotations

from bots.models import BotState
from bots.runtime import runtime
from chatserver.accounts.models import Role, User
from chatserver.audit.models import AuditEntry
from chatserver.chat import actions
from chatserver.chat.models import Membership

from .sample import DeployBot


def test_bot_list_shape(botbox, make_user, client_for):
    botbox(DeployBot)
    alice = make_user("alice")
    body = client_for(alice).get("/api/v1/bots").json()
    names = [b["username"] for b in body["results"]]
    assert names == ["deploy", "help"] and body["next"] is None
    deploy = body["results"][0]
    assert set(deploy) >= {"id", "username", "display_name", "description", "commands"}
    assert deploy["description"] == "Deploy services; production needs an admin and a second person."
    cmd = next(c for c in deploy["commands"] if c["name"] == "deploy")
    assert cmd == {"name": "deploy", "description": "Deploy a service to an environment.",
                   "usage": "deploy <service:api|web> <env:staging|production> [--force] "
                            "[--ref=<str>]"}
    assert User.objects.get(id=deploy["id"]).is_bot


def test_enable_and_disable_a_bot_in_a_room(botbox, make_user, client_for):
    box = botbox(DeployBot)
    ada = make_user("ada")
    mia = make_user("mia")
    room = actions.create_room(actor=ada, name="ops")
    actions.invite(actor=ada, room_id=room.id, user_ids=[mia.id])
    bot_id = box.bots["deploy"].id
    url = f"/api/v1/rooms/{room.id}/bots/{bot_id}"
    assert client_for(mia).put(url).status_code == 403  # members may not
    resp = client_for(ada).put(url)
    assert resp.status_code == 200 and resp.json()["enabled"] is True
    assert Membership.objects.filter(room=room, user_id=bot_id).exists()
    listed = client_for(mia).get(f"/api/v1/rooms/{room.id}/bots").json()["results"]
    assert [b["username"] for b in listed] == ["deploy"]
    assert client_for(ada).put(url).status_code == 200  # idempotent
    assert AuditEntry.objects.filter(action="bot.enabled", actor=ada).count() == 1
    assert client_for(ada).delete(url).status_code == 204
    assert not Membership.objects.filter(room=room, user_id=bot_id).exists()
    assert AuditEntry.objects.filter(action="bot.disabled", actor=ada).count() == 1
    assert client_for(ada).delete(url).status_code == 204


def test_bad_ids_are_404(botbox, make_user, client_for):
    box = botbox(DeployBot)
    ada = make_user("ada")
    room = actions.create_room(actor=ada, name="ops")
    for url in (f"/api/v1/rooms/{room.id}/bots/{ada.id}",  # a person, not a bot
                f"/api/v1/rooms/{room.id}/bots/987654321",
                f"/api/v1/rooms/987654321/bots/{box.bots['deploy'].id}",
                f"/api/v1/rooms/{room.id}/bots/99999999999999999999"):
        resp = client_for(ada).put(url)
        assert resp.status_code == 404, url
        assert resp.json()["error"]["code"] == "not_found"


def test_resume_a_paused_bot(botbox, make_user, client_for):
    box = botbox(DeployBot)
    sam = make_user("sam", role=Role.ADMIN)
    bot = box.bots["deploy"]
    BotState.objects.create(bot=bot, paused=True, consecutive_failures=5)
    url = f"/api/v1/bots/{bot.id}"
    for body in ({}, {"paused": "no"}, {"paused": False, "x": 1}, []):
        resp = client_for(sam).patch(url, body, format="json")
        assert resp.status_code == 400, body
    resp = client_for(sam).patch(url, {"paused": False}, format="json")
    assert resp.status_code == 200 and resp.json()["paused"] is False
    state = BotState.objects.get(bot=bot)
    assert not state.paused and state.consecutive_failures == 0
    assert AuditEntry.objects.filter(action="bot.resumed", actor=sam).exists()
    assert runtime.state(runtime.sync_users()["deploy"]).paused is False
